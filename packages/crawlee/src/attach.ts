import type { BasicCrawler } from '@crawlee/basic';
import { type ProxyInfo, RetryRequestError, Session, SessionError } from '@crawlee/core';
import {
    CloseCrawlerError,
    type ManagedSessionsOptions,
    ManagedSessionsOptionsError,
    PoolError,
    type PoolSnapshot,
    SessionCheckFailedError,
    SessionDownloadError,
    type SessionResponse,
    SessionsClosedError,
    TooManyBadSessionInitsError,
} from '@managed-sessions/core';
import {
    describeError,
    type InitDownloadArgs,
    type SessionLease,
    SessionManager,
} from '@managed-sessions/core/internal';
import { assertIncognitoPages, BrowserSessions } from './browser/browser-sessions.js';
import { assertOneCrawlee } from './crawlee-copies.js';
import { type AttemptContext, browserInternalsOf, type CrawlerInternals, internalsOf } from './crawler-internals.js';
import { isNetworkError, rotationsExhausted } from './errors.js';
import { type SessionReportOptions, writeSessionReport } from './html-report.js';
import { bindNavigation, sendAttemptRequest } from './http/attempt.js';
import { type ClientResponse, toSessionResponse } from './http/response.js';
import { downloadAsSession } from './http/session-request.js';
import { discardBody, readBody, readNavigation } from './navigation.js';
import { StatePersistence } from './persistence.js';
import { formatStatusLine, formatSummary } from './report.js';

/** What `attachManagedSessions()` returns: live views of the sessions of one crawler. */
export interface ManagedSessions {
    /** Counters as `sessions/init/check-passed`, … (see the README's Stats). */
    readonly stats: Record<string, number>;
    /** Why the sessions stopped the crawl (`bad_session_inits`, `pool_error`, …), or `undefined`. */
    readonly closeReason: string | undefined;
    /** A snapshot of every pool; readable after `run()` resolves. */
    pools(): PoolSnapshot[];
    /**
     * Writes the session report now: a self-contained HTML page with, per pool, a timeline of its
     * sessions (init to end, coloured by how each ended, with the requests it carried), init cost,
     * waiting time and stats. It goes to the crawler's default key-value store as
     * `SESSIONS_REPORT.html` (`text/html`) and, with `path`, to that file too. Returns the HTML.
     * (With the option `report`, the default, it is also written at the end of each crawl.)
     */
    report(options?: SessionReportOptions): Promise<string>;
}

interface Attempt {
    lease: SessionLease;
    /** Set once a response arrived (post-navigation): later errors are not download errors. */
    response?: { statusCode: number; url: string; headers: SessionResponse['headers'] };
    checked: boolean;
}

const attached = new WeakSet<object>();

/**
 * Gives every request attempt of `crawler` a managed session: a session from the pool its
 * config selects (initialised first), with the session's cookies, sticky proxy and header
 * fingerprint; checks each response; counts 520/521 and network errors against the session;
 * and makes Crawlee retry failures with a different session. Call it once, before `run()`.
 *
 * @example
 * const crawler = new CheerioCrawler({ requestHandler });
 * const sessions = attachManagedSessions(crawler, { poolSize: 4 });
 * await crawler.run(['https://shop.example/']);
 * console.log(sessions.stats);
 *
 * PlaywrightCrawler: create it with `launchContext: { useIncognitoPages: true }`, so that each page has
 * a browser context of its own with its session's cookies and proxy. Checks see the rendered page
 * (`page.content()` after navigation); inits are HTTP requests whose cookies then serve the browser,
 * unless the init request has `pageActions`, which run in a new incognito page of the session.
 *
 * @example
 * const crawler = new PlaywrightCrawler({ launchContext: { useIncognitoPages: true }, requestHandler });
 * attachManagedSessions(crawler);
 *
 * @throws ManagedSessionsOptionsError for invalid options or a crawler that cannot host sessions
 * (a browser crawler without incognito pages, or a crawler from another copy of `@crawlee/core` than
 * the adapter's: the message names both versions and how to align them).
 */
export function attachManagedSessions(
    crawler: BasicCrawler<any>,
    options: ManagedSessionsOptions = {},
): ManagedSessions {
    const internals = internalsOf(crawler);
    assertOneCrawlee(internals.config);
    if (attached.has(crawler)) {
        throw new ManagedSessionsOptionsError(
            'attachManagedSessions() was already called for this crawler; call it once.',
        );
    }
    if (internals.running) {
        throw new ManagedSessionsOptionsError('attachManagedSessions() must be called before crawler.run().');
    }
    if (!internals.useSessionPool) {
        throw new ManagedSessionsOptionsError(
            'attachManagedSessions() needs the crawler option useSessionPool (the default); remove useSessionPool: false.',
        );
    }
    const browser = browserInternalsOf(internals);
    if (browser) assertIncognitoPages(browser);
    const sessions = new CrawlerSessions(internals, options);
    attached.add(crawler);
    return sessions.handle;
}

/** The wiring between one crawler and one session engine. */
class CrawlerSessions {
    readonly #crawler: CrawlerInternals;
    readonly #options: ManagedSessionsOptions;
    readonly #attempts = new WeakMap<AttemptContext, Attempt>();
    readonly #proxies = new WeakMap<Session, ProxyInfo>();
    readonly #log;
    #manager: SessionManager;
    #statusTimer: NodeJS.Timeout | undefined;
    readonly #persistence: StatePersistence;
    /** Set for browser crawlers (PlaywrightCrawler). */
    readonly #browser: BrowserSessions | undefined;
    #warnedPageActions = false;

    constructor(crawler: CrawlerInternals, options: ManagedSessionsOptions) {
        this.#crawler = crawler;
        this.#options = options;
        this.#log = crawler.log.child({ prefix: 'ManagedSessions' });
        const browser = browserInternalsOf(crawler);
        this.#browser = browser ? new BrowserSessions(browser) : undefined;
        this.#manager = this.#createManager();
        this.#persistence = new StatePersistence(crawler.config, () => this.#manager, this.#log);
        this.#install();
    }

    get handle(): ManagedSessions {
        const self = this;
        return {
            get stats() {
                return self.#manager.stats;
            },
            get closeReason() {
                return self.#manager.closeReason;
            },
            pools: () => self.#manager.pools(),
            report: (options) => writeSessionReport(self.#crawler.config, self.#manager, options),
        };
    }

    #createManager(): SessionManager {
        const crawler = this.#crawler;
        return new SessionManager(this.#options, {
            log: this.#log,
            crawler,
            prepareSession: async (session, trigger) => {
                const info = await crawler.proxyConfiguration?.newProxyInfo(session.id, { request: trigger });
                if (info) this.#proxies.set(session, info);
                return info?.url;
            },
            download: (args) => this.#download(args),
            onClose: (reason) => crawler.stop(`Managed sessions stopped the crawl: ${reason}.`),
        });
    }

    /**
     * One init download: in a browser page of the session when the init has `pageActions` and the
     * crawler is a browser crawler, else over HTTP (whose cookies then serve the browser, too).
     */
    #download(args: InitDownloadArgs): Promise<SessionResponse> {
        const crawler = this.#crawler;
        if (args.init.pageActions) {
            if (this.#browser) return this.#browser.download(args);
            if (!this.#warnedPageActions) {
                this.#warnedPageActions = true;
                this.#log.warning(
                    'An init request has pageActions, which only browser crawlers (PlaywrightCrawler) run; ' +
                        'this crawler makes it as a plain HTTP request.',
                );
            }
        }
        const { request, session, proxyUrl, signal } = args;
        return downloadAsSession(crawler.httpClient, {
            url: request.url,
            method: request.method,
            headers: request.headers ?? {},
            ...(request.payload !== undefined ? { body: String(request.payload) } : {}),
            session,
            proxyUrl,
            timeoutMillis: crawler.navigationTimeoutMillis ?? 60_000,
            signal,
        });
    }

    #install(): void {
        const crawler = this.#crawler;
        // Crawlee's own pool only hands out a placeholder that the adapter replaces at once.
        crawler.sessionPoolOptions = {
            ...crawler.sessionPoolOptions,
            maxPoolSize: 1,
            persistenceOptions: { enable: false },
        };

        const runRequestHandler = crawler._runRequestHandler;
        crawler._runRequestHandler = async (context) =>
            this.#runAttempt(context, () => runRequestHandler.call(crawler, context));

        // The user's handler is `requestHandler`, except in BrowserCrawler, whose `requestHandler` is
        // Crawlee's own page-opening wrapper and which calls `userProvidedRequestHandler` (BrC 395, 605).
        const handlers = crawler as unknown as Record<string, (context: AttemptContext) => unknown>;
        const handlerKey = this.#browser ? 'userProvidedRequestHandler' : 'requestHandler';
        const userHandler = handlers[handlerKey]!;
        handlers[handlerKey] = async (context) => {
            await this.#checkNavigation(context);
            return userHandler.call(crawler, context);
        };
        // Crawlee finds router schemas through `userRequestHandler`; keep it pointing at the user's handler.
        Object.defineProperty(crawler, 'userRequestHandler', { get: () => userHandler, configurable: true });

        // With `retryOnBlocked`, Crawlee's own blocked detection throws a SessionError before the user's
        // handler (HC 581-584, BrC 597-600). Run the use-check first, on the same parsed response, so a
        // blocked response is one failed check of the managed session (counted, and discarded at
        // `maxCheckFailures`) rather than a rotation that keeps the session in the pool.
        const isRequestBlocked = crawler.isRequestBlocked;
        if (typeof isRequestBlocked === 'function') {
            crawler.isRequestBlocked = async (context) => {
                await this.#checkNavigation(context);
                return isRequestBlocked.call(crawler, context);
            };
        }

        crawler.preNavigationHooks?.unshift((context, gotOptions) => this.#beforeNavigation(context, gotOptions));
        crawler.postNavigationHooks?.unshift((context) => this.#afterNavigation(context));

        const init = crawler._init;
        crawler._init = async () => {
            if (this.#manager.closed) this.#manager = this.#createManager();
            await init.call(crawler);
            // After Crawlee's own init (and its purge of default storages, when configured).
            await this.#persistence.start();
            this.#startStatusLine();
        };
        // A stop (by the user, by Crawlee or by us) lets running tasks finish; the ones waiting for a
        // session or an init would wait for their timeouts. Closing the engine cancels the inits and
        // sends those requests back to the queue. closeReason stays as it is (undefined for the user's stop).
        const stop = crawler.stop;
        crawler.stop = (message) => {
            stop.call(crawler, message);
            this.#manager.close();
        };
        const teardown = crawler.teardown;
        crawler.teardown = async () => {
            await this.#finish();
            return teardown.call(crawler);
        };
    }

    async #runAttempt(context: AttemptContext, run: () => Promise<void>): Promise<void> {
        const manager = this.#manager;
        let lease: SessionLease | undefined;
        try {
            lease = await manager.acquire(context.request);
        } catch (error) {
            throw this.#whenClosed(error);
        }
        if (!lease) {
            // Sessions are off for this request: it must not carry the cookies of Crawlee's placeholder
            // session, which every such request would otherwise share (and fill).
            const session = this.#sessionless();
            if (session) context.session = session;
            return run();
        }
        const attempt: Attempt = { lease, checked: false };
        this.#attempts.set(context, attempt);
        this.#browser?.bind(context, lease);
        context.session = lease.session;
        context.sendRequest = (overrides) => this.#sendRequest(context, attempt, overrides);
        try {
            // Inside the try: a session whose saved proxy URL cannot be read still releases its lease.
            const proxyInfo = await this.#proxyInfoOf(lease);
            if (proxyInfo) context.proxyInfo = proxyInfo;
            await run();
        } catch (error) {
            throw await this.#classify(error, attempt);
        } finally {
            this.#browser?.unbind(context);
            manager.release(lease);
        }
    }

    /**
     * A fresh, empty Crawlee session for one attempt without a managed session. HttpCrawler needs a
     * session object while the pool is on (it persists cookies into it and checks blocked codes with
     * it); an empty one per attempt means no cookie ever goes from one such request to the next.
     */
    #sessionless(): Session | undefined {
        const sessionPool = this.#crawler.sessionPool;
        return sessionPool ? new Session({ sessionPool, log: this.#log }) : undefined;
    }

    /**
     * An error that comes from the sessions stopping the crawl (a limit, `pool()` failing, a hook's
     * `CloseCrawlerError`): the request goes back to the queue as it is, for a later run, instead of
     * counting as a failed attempt (with `maxRequestRetries: 0` it would otherwise be lost).
     */
    #whenClosed(error: unknown): unknown {
        if (
            this.#manager.closed &&
            (error instanceof SessionsClosedError ||
                error instanceof TooManyBadSessionInitsError ||
                error instanceof PoolError ||
                error instanceof CloseCrawlerError)
        ) {
            return new RetryRequestError(error.message);
        }
        return error;
    }

    /**
     * What an attempt that threw `error` throws. The adapter only classifies: an error before any
     * response that is a transport failure (a network, timeout or proxy error, or Crawlee's own
     * `SessionError` for a proxy) goes to the engine's verdict; the engine's own verdicts pass.
     */
    async #classify(error: unknown, attempt: Attempt): Promise<unknown> {
        const stopping = this.#whenClosed(error);
        if (stopping !== error) return stopping;
        if (error instanceof SessionCheckFailedError || error instanceof SessionDownloadError) {
            return this.#lastRotation(error, attempt);
        }
        if (attempt.response) return error;
        if (error instanceof SessionError || isNetworkError(error)) {
            return this.#lastRotation(await this.#manager.judge(attempt.lease, { error }), attempt);
        }
        return error;
    }

    /**
     * On the last rotation Crawlee will not retry: say so instead of promising another session. The
     * error stays a `SessionError` of the same class: Crawlee fails it at once, as it does any
     * `SessionError` once `sessionRotationCount` reached `maxSessionRotations` (`_canRequestBeRetried`).
     */
    #lastRotation(error: SessionCheckFailedError | SessionDownloadError, attempt: Attempt): Error {
        const request = attempt.lease.request;
        const max = this.#crawler.maxSessionRotations;
        if (typeof max !== 'number' || (request.sessionRotationCount ?? 0) < max) return error;
        return rotationsExhausted(error, max);
    }

    /**
     * The session's sticky proxy. Sessions restored from storage or initialised by another process
     * (shared store) were not prepared here: their proxy info is rebuilt from the saved URL.
     */
    async #proxyInfoOf(lease: SessionLease): Promise<ProxyInfo | undefined> {
        const stored = this.#proxies.get(lease.session);
        if (stored || !lease.proxyUrl) return stored;
        let url: URL;
        try {
            url = new URL(lease.proxyUrl);
        } catch {
            // Never quote it, nor keep URL's error (its `input` is the URL): a proxy URL carries its password.
            throw await this.#manager.judge(lease, { error: undefined, reason: 'its saved proxy URL cannot be read' });
        }
        const info: ProxyInfo = {
            url: lease.proxyUrl,
            hostname: url.hostname,
            port: url.port || (url.protocol === 'https:' ? 443 : 80),
            username: decodeURIComponent(url.username),
            password: decodeURIComponent(url.password),
            sessionId: lease.session.id,
        };
        this.#proxies.set(lease.session, info);
        return info;
    }

    async #beforeNavigation(context: AttemptContext, gotOptions: Record<string, unknown>): Promise<void> {
        const attempt = this.#attempts.get(context);
        if (!attempt) return;
        const proxyInfo = await this.#proxyInfoOf(attempt.lease);
        if (proxyInfo) context.proxyInfo = proxyInfo;
        // In a browser crawler the second argument is `page.goto`'s options: overrides go through the navigation.
        if (this.#browser) return;
        bindNavigation(gotOptions, context.request, attempt.lease);
    }

    async #afterNavigation(context: AttemptContext): Promise<void> {
        const attempt = this.#attempts.get(context);
        if (!attempt) return;
        const response = await readNavigation(context);
        if (!response) return;
        attempt.response = response;
        // The status is judged here, before the body is read: browser crawlers do not throw on 5xx at
        // all, HTTP crawlers only after these hooks.
        const verdict = await this.#manager.judge(attempt.lease, response);
        if (verdict) {
            discardBody(context);
            attempt.checked = true;
            throw verdict;
        }
    }

    async #checkNavigation(context: AttemptContext): Promise<void> {
        const attempt = this.#attempts.get(context);
        if (!attempt?.response || attempt.checked) return;
        attempt.checked = true;
        const verdict = await this.#manager.judge(attempt.lease, {
            ...attempt.response,
            url: context.request.loadedUrl ?? attempt.response.url,
            body: await readBody(context),
        });
        if (verdict) throw verdict;
    }

    /**
     * `ctx.sendRequest` bound to the attempt's session: its cookies (both ways), proxy and
     * fingerprint, plus `processRequest()` headers. In BasicCrawler, where it is the download,
     * its responses are checked like navigations.
     */
    async #sendRequest(context: AttemptContext, attempt: Attempt, overrides: Record<string, unknown> = {}) {
        const { lease } = attempt;
        const checked = !this.#crawler.postNavigationHooks;
        let response: ClientResponse;
        try {
            response = await sendAttemptRequest(this.#crawler.httpClient, context.request, lease, overrides);
        } catch (error) {
            if (checked && isNetworkError(error)) throw await this.#manager.judge(lease, { error });
            throw error;
        }
        if (checked) {
            // In BasicCrawler this is the download: once a response came, later errors are not download errors.
            attempt.response = {
                statusCode: response.statusCode,
                url: response.url,
                headers: response.headers as SessionResponse['headers'],
            };
            attempt.checked = true;
            const verdict = await this.#manager.judge(lease, toSessionResponse(response));
            if (verdict) throw verdict;
        }
        return response;
    }

    #startStatusLine(): void {
        const seconds = this.#manager.options.statusIntervalSecs;
        if (seconds <= 0 || this.#statusTimer) return;
        this.#statusTimer = setInterval(() => this.#log.info(formatStatusLine(this.#manager.pools())), seconds * 1000);
        this.#statusTimer.unref();
    }

    async #finish(): Promise<void> {
        if (this.#statusTimer) clearInterval(this.#statusTimer);
        this.#statusTimer = undefined;
        const manager = this.#manager;
        manager.close();
        await this.#persistence.stop();
        // A shared store's connections close here (close() started it; dispose() never rejects).
        await manager.dispose();
        this.#log.info(formatSummary(manager.stats, manager.pools(), manager.closeReason));
        if (manager.options.report !== false) {
            try {
                await writeSessionReport(this.#crawler.config, manager);
            } catch (error) {
                this.#log.warning(`Could not write the session report: ${describeError(error)}`);
            }
        }
    }
}
