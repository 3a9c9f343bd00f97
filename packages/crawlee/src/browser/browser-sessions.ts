import type { SessionResponse } from '@managed-sessions/core';
import { ManagedSessionsOptionsError } from '@managed-sessions/core';
import type { InitDownloadArgs, SessionLease } from '@managed-sessions/core/internal';
import type { AttemptContext, BrowserCrawlerInternals } from '../crawler-internals.js';
import { downloadInPage } from './page-init.js';

/**
 * Throws unless the browser crawler opens incognito pages. Only an incognito page has a browser
 * context of its own, so only it can carry one session's cookies and proxy: browser-pool applies a
 * page's `proxyUrl` to incognito pages only, and without them BrowserCrawler replaces `ctx.session`
 * with the session the browser was launched with. The option is read when the crawler builds its
 * browser pool, in its constructor, so the adapter cannot turn it on afterwards.
 */
export function assertIncognitoPages(crawler: BrowserCrawlerInternals): void {
    if (crawler.launchContext?.useIncognitoPages) return;
    const name = crawler.constructor?.name || 'BrowserCrawler';
    throw new ManagedSessionsOptionsError(
        `attachManagedSessions() needs incognito pages in a ${name}: each session's page must have its own ` +
            'browser context, for its cookies and its proxy. Create the crawler with ' +
            `new ${name}({ launchContext: { useIncognitoPages: true }, … }).`,
    );
}

/**
 * What a browser crawler needs on top of the HTTP wiring: each attempt's page opens with the
 * session's sticky proxy, `processRequest()` overrides reach the navigation, and inits with
 * `pageActions` run in a page of the session.
 */
export class BrowserSessions {
    readonly #crawler: BrowserCrawlerInternals;
    /** The lease of each running attempt, by crawling-context id (the id its page is opened under). */
    readonly #leases = new Map<string, SessionLease>();

    constructor(crawler: BrowserCrawlerInternals) {
        this.#crawler = crawler;
        this.#install();
    }

    /** Ties the attempt's page and navigation to `lease`, until {@link unbind}. */
    bind(context: AttemptContext, lease: SessionLease): void {
        if (context.id) this.#leases.set(context.id, lease);
    }

    unbind(context: AttemptContext): void {
        if (context.id) this.#leases.delete(context.id);
    }

    /** An init with `pageActions`, in a new incognito page of the session. */
    download(args: InitDownloadArgs): Promise<SessionResponse> {
        const crawler = this.#crawler;
        return downloadInPage(args, {
            browserPool: crawler.browserPool,
            timeoutMillis: crawler.navigationTimeoutMillis,
            ignoreHTTPSErrors: crawler.proxyConfiguration?.isManInTheMiddle ?? false,
        });
    }

    #install(): void {
        const crawler = this.#crawler;
        const pool = crawler.browserPool;
        // BrowserCrawler asks the proxy configuration again for the page (BrC 537); the page must use the
        // session's own proxy URL, which a non-deterministic `newUrlFunction` or a tier change could differ from.
        const newPage = pool.newPage;
        pool.newPage = async (options = {}) => {
            const lease = options.id === undefined ? undefined : this.#leases.get(options.id);
            if (!lease) return newPage.call(pool, options);
            const { proxyTier: _, ...rest } = options;
            return newPage.call(pool, { ...rest, proxyUrl: lease.proxyUrl });
        };

        // `gotoExtended` navigates to `request.url` with `request.headers`: give it this attempt's view.
        const navigate = crawler._navigationHandler;
        crawler._navigationHandler = async (context, gotoOptions) => {
            const overrides = context.id === undefined ? undefined : this.#leases.get(context.id)?.overrides;
            if (!overrides?.url && !overrides?.headers) return navigate.call(crawler, context, gotoOptions);
            const { request } = context;
            const view = Object.create(request, {
                url: { value: overrides.url ?? request.url, enumerable: true },
                headers: { value: { ...request.headers, ...overrides.headers }, enumerable: true },
            }) as typeof request;
            return navigate.call(crawler, { ...context, request: view }, gotoOptions);
        };
    }
}
