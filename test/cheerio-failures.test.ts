import { CheerioCrawler } from '@crawlee/cheerio';
import { type Request, type Session, SessionError } from '@crawlee/core';
import {
    attachManagedSessions,
    CloseCrawlerError,
    type Download,
    getRequestSessionId,
    type ManagedSessionsOptions,
    NoSessionAvailableError,
    type RequestOverrides,
    SessionCheckFailedError,
    SessionConfig,
    SessionConfigRegistry,
    SessionDownloadError,
    type SessionResponse,
    SessionRotationsExhaustedError,
} from '@managed-sessions/crawlee';
import { describe, expect, it } from 'vitest';
import { captureLog, queueCounts, testConfig } from './support/crawlee.js';
import {
    cookieValue,
    dropConnection,
    html,
    redirect,
    type SeenRequest,
    serverPerTest,
    sidSite,
    sidsSeen,
} from './support/server.js';

const serve = serverPerTest();

type CheerioOptions = NonNullable<ConstructorParameters<typeof CheerioCrawler>[0]>;

/** A CheerioCrawler on fresh storage that records `#sid` of every handled page and every failure. */
function cheerio(extra: Partial<CheerioOptions> = {}) {
    const handled: string[] = [];
    const failed: string[] = [];
    const { log, lines } = captureLog();
    const crawler = new CheerioCrawler(
        {
            log,
            maxConcurrency: 1,
            maxRequestRetries: 2,
            requestHandler: ({ $ }) => void handled.push($('#sid').text()),
            failedRequestHandler: (_context, error) => void failed.push(error.message),
            ...extra,
        },
        testConfig(),
    );
    return { crawler, handled, failed, lines };
}

function attach(crawler: CheerioCrawler, options: ManagedSessionsOptions = {}) {
    return attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0, ...options });
}

const isInit = (request: SeenRequest) => !cookieValue(request.cookie, 'sid');
const isPage = (request: SeenRequest) => !isInit(request);

/** Resolves once `condition()` holds: it watches state that no event announces. */
async function until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('checks and rotation (CheerioCrawler)', () => {
    it('processRequest headers apply to one attempt: the retry carries the new session’s token only', async () => {
        let tokens = 0;
        const server = await serve((request, response) => {
            if (request.path === '/token') {
                tokens++;
                return html(response, `<meta name="csrf" content="tok${tokens}">`, 200, {
                    'set-cookie': `sid=s${tokens}; Path=/`,
                });
            }
            const sid = cookieValue(request.cookie, 'sid');
            if (request.headers['x-csrf'] !== `tok${sid?.slice(1)}`) return html(response, 'bad token', 400);
            if (sid === 's1') return html(response, 'banned', 403);
            html(response, `<p id="sid">${sid}</p>`);
        });
        class Csrf extends SessionConfig {
            override async initSession(session: Session, _request: Request, download: Download): Promise<boolean> {
                const page = await download({ url: `${server.url}/token` });
                const token = /name="csrf" content="([^"]+)"/.exec(page.body)?.[1];
                if (!token) return false;
                session.userData.csrf = token;
                return true;
            }
            override processRequest(_request: Request, session: Session): RequestOverrides {
                return { headers: { 'x-csrf': String(session.userData.csrf) } };
            }
        }
        const registry = new SessionConfigRegistry();
        registry.register(Csrf, { include: server.host });
        const attemptSessions: (string | undefined)[] = [];
        const requestHeaders: Record<string, string>[] = [];
        const { crawler, handled } = cheerio({
            requestHandler: ({ request, $ }) => {
                handled.push($('#sid').text());
                attemptSessions.push(getRequestSessionId(request));
                requestHeaders.push({ ...request.headers });
            },
            errorHandler: ({ request }) => {
                attemptSessions.push(getRequestSessionId(request));
                requestHeaders.push({ ...request.headers });
            },
        });
        const sessions = attach(crawler, { registry });
        await crawler.run([`${server.url}/page`]);

        expect(server.seen.map((r) => `${r.path} ${r.headers['x-csrf'] ?? '-'}`)).toEqual([
            '/token -',
            '/page tok1',
            '/token -',
            '/page tok2',
        ]);
        expect(handled).toEqual(['s2']);
        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-failed': 1,
            'sessions/use/check-passed': 1,
        });
        expect(new Set(attemptSessions).size).toBe(2);
        expect(requestHeaders).toEqual([{}, {}]);
    });

    it('retries a failed check on another ready session (maxCheckFailures keeps the first one)', async () => {
        const server = await serve(
            sidSite((request, response, sid) => {
                if (request.path !== '/3' || sid !== 's1') return false;
                html(response, 'banned', 403);
                return true;
            }),
        );
        const { crawler, handled } = cheerio();
        const sessions = attach(crawler, { poolSize: 2, maxCheckFailures: 2 });
        await crawler.run([1, 2, 3, 4].map((i) => `${server.url}/${i}`));

        expect(server.seen.filter(isPage).map((r) => `${r.path} ${cookieValue(r.cookie, 'sid')}`)).toEqual([
            '/1 s1',
            '/2 s2',
            '/3 s1',
            // Crawlee queues the retry behind /4.
            '/4 s2',
            // s1 is due first, but the retry avoids the session its failed attempt had.
            '/3 s2',
        ]);
        expect(handled).toEqual(['s1', 's2', 's2', 's2']);
        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-failed': 1,
            'sessions/use/check-passed': 4,
        });
        expect(sessions.pools()[0]).toMatchObject({ ready: 2, discarded: 0 });
    });

    it.each([false, true])(
        'a blocked 403 retires exactly one session, once (retryOnBlocked: %s)',
        async (retryOnBlocked) => {
            const server = await serve(
                sidSite((_request, response, sid) => {
                    if (sid !== 's1') return false;
                    html(response, 'banned', 403);
                    return true;
                }),
            );
            const { crawler, handled, lines } = cheerio({
                retryOnBlocked,
                maxRequestRetries: 0,
                maxSessionRotations: 3,
            });
            const sessions = attach(crawler);
            await crawler.run([`${server.url}/a`, `${server.url}/b`]);

            expect(sessions.stats).toEqual({
                'sessions/init/check-passed': 2,
                'sessions/use/check-failed': 1,
                'sessions/use/check-passed': 2,
            });
            expect(sidsSeen(server)).toEqual(['-', 's1', '-', 's2', 's2']);
            expect(handled).toEqual(['s2', 's2']);
            expect(sessions.pools()[0]).toMatchObject({ ready: 1, discarded: 1 });
            // Crawlee's own pool only ever held its placeholder.
            expect(crawler.sessionPool!.getState().sessions).toHaveLength(1);
            expect(lines.filter((line) => line.includes('Session check failed for'))).toHaveLength(1);
        },
    );

    it('the final error after maxSessionRotations is still the session error class, and says the rotations ran out', async () => {
        const server = await serve(
            sidSite((request, response) => {
                if (request.path === '/403') html(response, 'banned', 403);
                else html(response, 'origin down', 520);
                return true;
            }),
        );
        const errors: Error[] = [];
        const { crawler } = cheerio({
            maxRequestRetries: 5,
            maxSessionRotations: 1,
            failedRequestHandler: (_context, error) => void errors.push(error),
        });
        attach(crawler);
        await crawler.run([`${server.url}/403`, `${server.url}/520`]);

        expect(errors).toHaveLength(2);
        const [check, download] = errors;
        // What a failedRequestHandler tests for keeps working on the last attempt's error.
        for (const error of errors) {
            expect(error).toBeInstanceOf(SessionError);
            expect(error).toBeInstanceOf(SessionRotationsExhaustedError);
            expect(error.name).toBe('SessionRotationsExhaustedError');
            expect(error.stack).toMatch(/^SessionRotationsExhaustedError: /);
            expect((error as SessionRotationsExhaustedError).maxSessionRotations).toBe(1);
        }
        expect(check).toBeInstanceOf(SessionCheckFailedError);
        expect(check).not.toBeInstanceOf(SessionDownloadError);
        expect(check).toMatchObject({ url: `${server.url}/403`, pool: server.host, statusCode: 403 });
        expect(check!.cause).toBeInstanceOf(SessionCheckFailedError);
        expect(check!.message).toBe(
            `Session check failed for ${server.url}/403 (pool ${server.host}, status 403). Session errors used up ` +
                'maxSessionRotations (1) and the request failed: every attempt got a different session. If the site ' +
                'rejects them all, fix the init or check() for this pool; otherwise raise maxSessionRotations in the ' +
                'crawler options.',
        );
        expect(download).toBeInstanceOf(SessionDownloadError);
        expect(download).toMatchObject({ url: `${server.url}/520`, pool: server.host, reason: 'status 520' });
        expect(download!.message).toBe(
            `Download error for ${server.url}/520 (pool ${server.host}): status 520. Session errors used up ` +
                'maxSessionRotations (1) and the request failed: every attempt got a different session. If the site ' +
                'rejects them all, fix the init or check() for this pool; otherwise raise maxSessionRotations in the ' +
                'crawler options.',
        );
        // Two attempts each (one rotation), each on its own session.
        expect(sidsSeen(server, isPage)).toEqual(['s1', 's2', 's3', 's4']);
    });

    it('check() throwing counts use/check-error and discards the session', async () => {
        const server = await serve(sidSite());
        let thrown = false;
        const { crawler, handled, lines } = cheerio();
        const sessions = attach(crawler, {
            checker: (response) => {
                if (!thrown && response.url.endsWith('/a') && !response.body.includes('id="new"')) {
                    thrown = true;
                    throw new Error('checker bug');
                }
                return true;
            },
        });
        await crawler.run([`${server.url}/a`]);

        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-error': 1,
            'sessions/use/check-passed': 1,
        });
        expect(handled).toEqual(['s2']);
        expect(lines).toContainEqual(`check() threw on the use response of ${server.url}/a: checker bug`);
    });

    it.each(['check', 'processRequest'] as const)(
        'CloseCrawlerError from %s() stops the crawl with its reason, uncounted, losing no request',
        async (hook) => {
            const server = await serve(
                sidSite((_request, response) => {
                    html(response, 'account suspended');
                    return true;
                }),
            );
            class Suspended extends SessionConfig {
                override check(response: SessionResponse, request: Request, session: Session) {
                    if (hook === 'check' && response.body.includes('suspended')) {
                        throw new CloseCrawlerError('account_suspended');
                    }
                    return super.check(response, request, session);
                }
                override processRequest(): RequestOverrides | undefined {
                    if (hook === 'processRequest') throw new CloseCrawlerError('account_suspended');
                    return undefined;
                }
            }
            const registry = new SessionConfigRegistry();
            registry.register(Suspended, { include: server.host });
            // No retries: the request whose hook stopped the crawl must still stay queued.
            const { crawler, handled, failed } = cheerio({ maxRequestRetries: 0 });
            const sessions = attach(crawler, { registry });
            await crawler.run([`${server.url}/a`, `${server.url}/b`]);

            expect(sessions.closeReason).toBe('account_suspended');
            expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1 });
            expect(handled).toEqual([]);
            expect(failed).toEqual([]);
            expect(sidsSeen(server)).toEqual(hook === 'check' ? ['-', 's1'] : ['-']);
            expect(await queueCounts(crawler)).toEqual({ added: 2, handled: 0, failed: 0, pending: 2 });
        },
    );
});

describe('download errors (CheerioCrawler)', () => {
    it.each([
        { status: 520, maxErrors: 1, pages: ['s1', 's2'], stats: { init: 2, discarded: 1 } },
        { status: 521, maxErrors: 1, pages: ['s1', 's2'], stats: { init: 2, discarded: 1 } },
        // With maxErrors 2 a session survives one error status: the retry uses it again.
        { status: 520, maxErrors: 2, pages: ['s1', 's1'], stats: { init: 1, discarded: 0 } },
    ])('$status with maxErrors $maxErrors', async ({ status, maxErrors, pages, stats }) => {
        let errors = 0;
        const server = await serve(
            sidSite((_request, response) => {
                if (errors++ > 0) return false;
                html(response, 'origin error', status);
                return true;
            }),
        );
        const { crawler, handled } = cheerio({ maxRequestRetries: 0, maxSessionRotations: 1 });
        const sessions = attach(crawler, { maxErrors });
        await crawler.run([`${server.url}/a`]);

        expect(sidsSeen(server, isPage)).toEqual(pages);
        expect(server.seen.filter(isInit)).toHaveLength(stats.init);
        expect(handled).toEqual([pages[1]]);
        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': stats.init,
            'sessions/use/failed': 1,
            'sessions/use/check-passed': 1,
        });
        expect(sessions.pools()[0]).toMatchObject({ ready: 1, discarded: stats.discarded });
    });

    it('an init answered with 521 counts init/failed and is not retried by the HTTP client', async () => {
        let inits = 0;
        const server = await serve((request, response) => {
            const sid = cookieValue(request.cookie, 'sid');
            if (sid) return html(response, `<p id="sid">${sid}</p>`);
            inits++;
            if (inits === 1) return html(response, 'down', 521);
            html(response, 'welcome', 200, { 'set-cookie': `sid=s${inits}; Path=/` });
        });
        const { crawler, handled } = cheerio();
        const sessions = attach(crawler);
        await crawler.run([`${server.url}/a`]);

        expect(sidsSeen(server)).toEqual(['-', '-', 's2']);
        expect(handled).toEqual(['s2']);
        expect(sessions.stats).toEqual({
            'sessions/init/failed': 1,
            'sessions/init/check-passed': 1,
            'sessions/use/check-passed': 1,
        });
    });

    it('a network error (socket destroyed) counts use/failed and the retry gets another session', async () => {
        let drops = 0;
        const server = await serve(
            sidSite((_request, response) => {
                if (drops++ > 0) return false;
                dropConnection(response);
                return true;
            }),
        );
        const { crawler, handled } = cheerio({ maxRequestRetries: 0, maxSessionRotations: 1 });
        const sessions = attach(crawler);
        await crawler.run([`${server.url}/a`]);

        expect(sidsSeen(server)).toEqual(['-', 's1', '-', 's2']);
        expect(handled).toEqual(['s2']);
        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/failed': 1,
            'sessions/use/check-passed': 1,
        });
    });

    it('a redirect keeps the session: the hop’s cookie lands in it and goes with the final hop and later requests', async () => {
        const server = await serve(
            sidSite((request, response) => {
                if (request.path !== '/start') return false;
                redirect(response, '/final', { 'set-cookie': 'hop=1; Path=/' });
                return true;
            }),
        );
        const loaded: (string | undefined)[] = [];
        const { crawler, handled } = cheerio({
            requestHandler: ({ request, $ }) => {
                handled.push($('#sid').text());
                loaded.push(request.loadedUrl);
            },
        });
        const sessions = attach(crawler);
        await crawler.run([`${server.url}/start`, `${server.url}/later`]);

        expect(server.seen.map((r) => `${r.path} ${r.cookie ?? ''}`)).toEqual([
            '/start ',
            '/start sid=s1',
            '/final sid=s1; hop=1',
            '/later sid=s1; hop=1',
        ]);
        expect(loaded).toEqual([`${server.url}/final`, `${server.url}/later`]);
        // One attempt, one check: the redirect hop is not checked on its own.
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 2 });
    });
    it('a redirect to another host carries none of the session’s cookies', async () => {
        const server = await serve(
            sidSite((request, response) => {
                if (request.path !== '/away') return false;
                redirect(response, `${server.otherHostUrl}/landing`, { 'set-cookie': 'hop=1; Path=/' });
                return true;
            }),
        );
        const { crawler, handled } = cheerio();
        const sessions = attach(crawler);
        await crawler.run([`${server.url}/away`, `${server.url}/later`]);

        expect(server.seen.map((r) => `${r.headers.host?.split(':')[0]} ${r.path} ${r.cookie ?? '-'}`)).toEqual([
            '127.0.0.1 /away -',
            '127.0.0.1 /away sid=s1',
            // localhost is another host: no sid, no hop (sidSite answers it as an init, setting sid=s2 there).
            'localhost /landing -',
            '127.0.0.1 /later sid=s1; hop=1',
        ]);
        expect(handled).toEqual(['', 's1']);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 2 });
    });

    it('init downloads are bounded by navigationTimeoutSecs: a timeout counts init/failed', async () => {
        let inits = 0;
        const site = sidSite();
        const server = await serve(async (request, response) => {
            if (!cookieValue(request.cookie, 'sid') && ++inits === 1) return new Promise<void>(() => undefined);
            await site(request, response);
        });
        const { crawler, handled, lines } = cheerio({ navigationTimeoutSecs: 0.3 });
        const sessions = attach(crawler);
        await crawler.run([`${server.url}/a`]);

        expect(sidsSeen(server)).toEqual(['-', '-', 's1']);
        expect(handled).toEqual(['s1']);
        expect(sessions.stats).toEqual({
            'sessions/init/failed': 1,
            'sessions/init/check-passed': 1,
            'sessions/use/check-passed': 1,
        });
        expect(
            lines.filter((line) => line.startsWith(`Session init for pool ${server.host} failed: Timeout`)),
        ).toHaveLength(1);
    });
});

describe('stopping (CheerioCrawler)', () => {
    it('stops with bad_session_inits; unhandled requests stay queued and a later run resumes them', async () => {
        let healthy = false;
        const server = await serve((request, response) => {
            const sid = cookieValue(request.cookie, 'sid');
            if (sid) return html(response, `<p id="sid">${sid}</p>`);
            if (!healthy) return html(response, 'denied', 403);
            html(response, 'welcome', 200, { 'set-cookie': 'sid=ok; Path=/' });
        });
        const { crawler, handled, failed, lines } = cheerio({ maxRequestRetries: 0 });
        const sessions = attach(crawler, { maxBadInits: 2 });
        const urls = [1, 2, 3, 4, 5].map((i) => `${server.url}/${i}`);
        await crawler.run(urls);

        expect(sessions.closeReason).toBe('bad_session_inits');
        expect(sessions.stats).toEqual({ 'sessions/init/check-failed': 2 });
        expect(server.seen).toHaveLength(2);
        expect(handled).toEqual([]);
        expect(failed).toEqual([]);
        expect(await queueCounts(crawler)).toEqual({ added: 5, handled: 0, failed: 0, pending: 5 });
        expect(lines).toContainEqual(
            `Stopping the crawl (bad_session_inits): Pool ${server.host} had 2 consecutive failed session inits; ` +
                'stopping the crawl (bad_session_inits). Check the init request and check() against the site, ' +
                'or raise maxBadInits for this pool.',
        );

        healthy = true;
        await crawler.run(undefined, { purgeRequestQueue: false });
        expect(sessions.closeReason).toBeUndefined();
        expect(handled).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
        expect(await queueCounts(crawler)).toEqual({ added: 5, handled: 5, failed: 0, pending: 0 });
    });

    it('stops with pool_error when pool() throws; no request is lost', async () => {
        const server = await serve(sidSite());
        class Broken extends SessionConfig {
            override pool(): string {
                throw new Error('no pool today');
            }
        }
        const registry = new SessionConfigRegistry();
        registry.register(Broken, { include: server.host });
        const { crawler, handled, lines } = cheerio({ maxRequestRetries: 0 });
        const sessions = attach(crawler, { registry });
        await crawler.run([`${server.url}/1`, `${server.url}/2`, `${server.url}/3`]);

        expect(sessions.closeReason).toBe('pool_error');
        expect(sessions.stats).toEqual({});
        expect(server.seen).toEqual([]);
        expect(handled).toEqual([]);
        expect(await queueCounts(crawler)).toEqual({ added: 3, handled: 0, failed: 0, pending: 3 });
        expect(lines).toContainEqual(
            `Stopping the crawl (pool_error): Cannot choose a session pool for ${server.url}/1: Broken.pool() threw: no pool today`,
        );
    });

    it('closeReason stays undefined after a normal finish and after crawler.stop()', async () => {
        const server = await serve(sidSite());
        const first = cheerio();
        const finished = attach(first.crawler);
        await first.crawler.run([`${server.url}/1`, `${server.url}/2`]);
        expect(finished.closeReason).toBeUndefined();
        expect(first.handled).toEqual(['s1', 's1']);

        const second = cheerio({
            requestHandler: ({ $ }) => {
                second.handled.push($('#sid').text());
                second.crawler.stop();
            },
        });
        const stopped = attach(second.crawler);
        await second.crawler.run([`${server.url}/1`, `${server.url}/2`, `${server.url}/3`]);
        expect(stopped.closeReason).toBeUndefined();
        expect(second.handled).toEqual(['s2']);
        expect(await queueCounts(second.crawler)).toEqual({ added: 3, handled: 1, failed: 0, pending: 2 });
    });
});

describe('waiting for sessions (CheerioCrawler)', () => {
    it('requests wait for the pool’s one init instead of starting their own', async () => {
        let releaseInit!: () => void;
        const initHeld = new Promise<void>((resolve) => {
            releaseInit = resolve;
        });
        const site = sidSite();
        const server = await serve(async (request, response) => {
            if (!cookieValue(request.cookie, 'sid')) await initHeld;
            await site(request, response);
        });
        const { crawler, handled } = cheerio({ minConcurrency: 3, maxConcurrency: 3 });
        const sessions = attach(crawler);
        const run = crawler.run([1, 2, 3].map((i) => `${server.url}/${i}`));
        await until(() => sessions.pools()[0]?.waiting === 3);
        expect(sessions.pools()).toEqual([
            { id: server.host, size: 1, ready: 0, initializing: 1, waiting: 3, discarded: 0 },
        ]);
        releaseInit();
        await run;

        expect(sidsSeen(server)).toEqual(['-', 's1', 's1', 's1']);
        expect(handled).toEqual(['s1', 's1', 's1']);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 3 });
    });

    it('fails a request with NoSessionAvailableError when the init hangs past waitTimeoutSecs', async () => {
        // The init never gets an answer; the crawl's teardown cancels it.
        const server = await serve(() => new Promise<void>(() => undefined));
        const errors: unknown[] = [];
        const { crawler, handled } = cheerio({
            maxRequestRetries: 0,
            failedRequestHandler: (_context, error) => void errors.push(error),
        });
        const sessions = attach(crawler, { waitTimeoutSecs: 0.2 });
        await crawler.run([`${server.url}/a`]);

        expect(handled).toEqual([]);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(NoSessionAvailableError);
        expect((errors[0] as Error).message).toBe(
            `No session of pool ${server.host} became ready for ${server.url}/a within 0.2s ` +
                '(size 1, ready 0, initializing 1, consecutive failed inits 0). Raise waitTimeoutSecs or the pool size, ' +
                'lower delay, or check why inits are slow or failing.',
        );
        expect(server.seen).toHaveLength(1);
        expect(await queueCounts(crawler)).toEqual({ added: 1, handled: 0, failed: 1, pending: 0 });
        expect(sessions.pools()).toMatchObject([{ id: server.host, size: 1, ready: 0, waiting: 0, discarded: 0 }]);
        // The init that never came back was cancelled at teardown: no outcome to count.
        expect(sessions.stats).toEqual({});
    });
});
