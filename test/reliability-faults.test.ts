/**
 * Issue #6, faults: a crawl that hits faults keeps going where it can, stops cleanly where it cannot, and
 * loses no request. Every test drives a real CheerioCrawler against local servers and ends with the
 * request ledger: handled + failed + still queued = added, checked against both the handlers and the queue.
 *
 * Already covered elsewhere, so not repeated here: an init timing out (`navigationTimeoutSecs`), an init
 * answered 521, the `checker` option throwing on a use response, `bad_session_inits` on one host with a
 * resume (cheerio-failures.test.ts); a proxy exit refusing connections (proxies.test.ts).
 */
import type { Request, Session } from '@crawlee/core';
import {
    attachManagedSessions,
    type Download,
    type InitRequest,
    isSessionInitRequest,
    SessionConfig,
    SessionConfigRegistry,
    SessionDownloadError,
    type SessionResponse,
} from '@managed-sessions/crawlee';
import { describe, expect, it } from 'vitest';
import { captureLog } from './support/crawlee.js';
import {
    type CrawlRecord,
    deadPort,
    ledger,
    recordingCrawler,
    sharedStorage,
    startServerAt,
    until,
    useCleanup,
} from './support/reliability-harness.js';
import { cookieValue, html, type SeenRequest, sidSite, startServer, type TestServer } from './support/server.js';

const cleanup = useCleanup();
const serve = async (handler: Parameters<typeof startServer>[0]) => cleanup(await startServer(handler));

const isInit = (request: SeenRequest) => !cookieValue(request.cookie, 'sid');

/** How the first session init of a crawl goes wrong; every later init works. */
interface InitFault {
    name: string;
    /** The first init request that reaches the site gets this status instead of a session. */
    firstInitStatus?: number;
    errorStatusCodes?: number[];
    /** What `params()` returns (or throws) for the first init; later ones visit the request URL. */
    params?: (deadUrl: string) => unknown;
    throwFrom?: 'initSession' | 'init check' | 'use check';
    stat: string;
    /** The `sid` every page was served with: `s2` when the faulty init got `s1` from the site. */
    sid: 's1' | 's2';
    /** The one line that explains the fault. */
    logLine: (server: TestServer, deadUrl: string) => string;
}

const paramsLine = (detail: (server: TestServer) => string) => (server: TestServer) =>
    `Session init for pool ${server.host}: ${detail(server)}`;

const initFaults: InitFault[] = [
    {
        name: 'initSession() throws after its download',
        throwFrom: 'initSession',
        stat: 'init/failed',
        sid: 's2',
        logLine: (server) => `Session init for pool ${server.host} failed: init bug`,
    },
    {
        name: 'the init download is refused (ECONNREFUSED)',
        params: (deadUrl) => ({ url: deadUrl }),
        stat: 'init/failed',
        sid: 's1',
        logLine: (server, deadUrl) =>
            `Session init for pool ${server.host} failed: connect ECONNREFUSED ${new URL(deadUrl).host}`,
    },
    {
        name: 'the init is answered 503, an errorStatusCodes status',
        firstInitStatus: 503,
        errorStatusCodes: [503],
        stat: 'init/failed',
        sid: 's1',
        logLine: (server) => `Session init for pool ${server.host} failed: init response 503 from ${server.url}/1`,
    },
    {
        name: 'params() throws',
        params: () => {
            throw new Error('no params today');
        },
        stat: 'init/param-error',
        sid: 's1',
        logLine: paramsLine(
            (server) => `params(), locationParams() or location() threw for ${server.url}/1: no params today`,
        ),
    },
    ...(
        [
            ['null', null, 'null'],
            ['an array', [{ url: 'http://127.0.0.1/' }], 'an array'],
            ['a URL string', 'http://127.0.0.1/', 'string'],
            ['a number', 42, 'number'],
        ] as const
    ).map(
        ([what, value, type]): InitFault => ({
            name: `params() returns ${what}`,
            params: () => value,
            stat: 'init/param-error',
            sid: 's1',
            logLine: paramsLine(
                (server) =>
                    `params() for ${server.url}/1 returned ${type}; return an InitRequest object such as { url }.`,
            ),
        }),
    ),
    {
        name: 'params() returns an InitRequest with an ftp URL',
        params: () => ({ url: 'ftp://127.0.0.1/init' }),
        stat: 'init/param-error',
        sid: 's1',
        logLine: paramsLine(
            (server) =>
                `params() for ${server.url}/1 returned an invalid InitRequest: url: expected an absolute http(s) URL`,
        ),
    },
    {
        name: 'params() returns an InitRequest with a non-string header',
        params: () => ({ headers: { 'x-session': 1 } }),
        stat: 'init/param-error',
        sid: 's1',
        logLine: paramsLine(
            (server) =>
                `params() for ${server.url}/1 returned an invalid InitRequest: headers.x-session: expected a string`,
        ),
    },
    {
        name: 'check() throws on the init response',
        throwFrom: 'init check',
        stat: 'init/check-error',
        sid: 's2',
        logLine: paramsLine((server) => `check() threw on the init response of ${server.url}/1: check bug`),
    },
];

describe('a fault in one session init is counted, its session dropped, and the crawl goes on', () => {
    it.each(initFaults)('$name: counts $stat once; all requests handled', async (fault) => {
        const dead = `http://127.0.0.1:${await deadPort()}/init`;
        let faultyInits = 0;
        const site = sidSite();
        const server = await serve(async (request, response) => {
            if (fault.firstInitStatus && isInit(request) && faultyInits++ === 0) {
                return html(response, 'busy', fault.firstInitStatus);
            }
            await site(request, response);
        });
        let paramsCalls = 0;
        let initSessionCalls = 0;
        let initChecks = 0;
        class Faulty extends SessionConfig {
            override params(request: Request): InitRequest {
                if (fault.params && paramsCalls++ === 0) return fault.params(dead) as InitRequest;
                return { url: request.url };
            }
            override async initSession(session: Session, request: Request, download: Download): Promise<boolean> {
                const passed = await super.initSession(session, request, download);
                if (fault.throwFrom === 'initSession' && initSessionCalls++ === 0) throw new Error('init bug');
                return passed;
            }
            override check(response: SessionResponse, request: Request, session: Session) {
                if (fault.throwFrom === 'init check' && isSessionInitRequest(request) && initChecks++ === 0) {
                    throw new Error('check bug');
                }
                return super.check(response, request, session);
            }
        }
        const registry = new SessionConfigRegistry();
        registry.register(Faulty, { include: server.host });
        const { log, lines } = captureLog();
        const sids: string[] = [];
        const { crawler, record } = recordingCrawler({ log, onPage: ({ $ }) => void sids.push($('#sid').text()) });
        const sessions = attachManagedSessions(crawler, {
            registry,
            poolSize: 1,
            statusIntervalSecs: 0,
            ...(fault.errorStatusCodes ? { errorStatusCodes: fault.errorStatusCodes } : {}),
        });
        await crawler.run([1, 2, 3].map((i) => `${server.url}/${i}`));

        expect(sessions.stats).toEqual({
            [`sessions/${fault.stat}`]: 1,
            'sessions/init/check-passed': 1,
            'sessions/use/check-passed': 3,
        });
        // The faulty session never served a page: with `s2`, the site had issued `s1` to it.
        expect(sids).toEqual([fault.sid, fault.sid, fault.sid]);
        expect(sessions.pools()).toEqual([
            { id: server.host, size: 1, ready: 1, initializing: 0, waiting: 0, discarded: 0 },
        ]);
        expect(lines.filter((line) => line.startsWith(fault.logLine(server, dead)))).toHaveLength(1);
        // No request needed a retry (maxRequestRetries is 0): a failed init costs none.
        expect(record.retried).toEqual([]);
        expect(await ledger(crawler, record)).toEqual({ added: 3, handled: 3, failed: 0, pending: 0 });
    });

    it('check() throwing on a use response counts use/check-error; the retry gets a new session', async () => {
        const server = await serve(sidSite());
        let thrown = false;
        class Faulty extends SessionConfig {
            override check(response: SessionResponse, request: Request, session: Session) {
                if (!isSessionInitRequest(request) && !thrown) {
                    thrown = true;
                    throw new Error('check bug');
                }
                return super.check(response, request, session);
            }
        }
        const registry = new SessionConfigRegistry();
        registry.register(Faulty, { include: server.host });
        const { log, lines } = captureLog();
        const sids: string[] = [];
        const { crawler, record } = recordingCrawler({ log, onPage: ({ $ }) => void sids.push($('#sid').text()) });
        const sessions = attachManagedSessions(crawler, { registry, poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([1, 2, 3].map((i) => `${server.url}/${i}`));

        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-error': 1,
            'sessions/use/check-passed': 3,
        });
        expect(sids).toEqual(['s2', 's2', 's2']);
        expect(sessions.pools()).toEqual([
            { id: server.host, size: 1, ready: 1, initializing: 0, waiting: 0, discarded: 1 },
        ]);
        expect(lines).toContainEqual(`check() threw on the use response of ${server.url}/1: check bug`);
        // The one retry is a session rotation, not one of maxRequestRetries (0).
        expect(record.retried.map((retry) => retry.url)).toEqual([`${server.url}/1`]);
        expect(await ledger(crawler, record)).toEqual({ added: 3, handled: 3, failed: 0, pending: 0 });
    });
});

describe('one host down while another is up', () => {
    it('its pool stops the whole crawl at maxBadInits; the other host’s requests stay queued and a second run finishes them', async () => {
        // Host A refuses connections (nothing listens on its port); host B works.
        const port = await deadPort();
        const a = { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` };
        const b = await serve(sidSite());
        const urls = [`${b.url}/1`, `${b.url}/2`, `${a.url}/1`, `${b.url}/3`, `${a.url}/2`, `${b.url}/4`];
        const open = sharedStorage();
        const record: CrawlRecord = { handled: [], failed: [], retried: [] };

        const first = captureLog();
        const run1 = recordingCrawler({ log: first.log, record, ...(await open()) });
        const sessions1 = attachManagedSessions(run1.crawler, { poolSize: 1, maxBadInits: 3, statusIntervalSecs: 0 });
        await run1.crawler.run(urls);

        // maxBadInits counts one pool's consecutive failed inits, but pool A reaching it stops the whole
        // crawl, host B included. It stops cleanly: closeReason says why.
        expect(sessions1.closeReason).toBe('bad_session_inits');
        expect(sessions1.stats).toEqual({
            'sessions/init/failed': 3,
            'sessions/init/check-passed': 1,
            'sessions/use/check-passed': 2,
        });
        expect(first.lines.filter((line) => line.startsWith(`Session init for pool ${a.host} failed:`))).toEqual(
            Array(3).fill(`Session init for pool ${a.host} failed: connect ECONNREFUSED ${a.host}`),
        );
        expect(first.lines).toContainEqual(
            `Stopping the crawl (bad_session_inits): Pool ${a.host} had 3 consecutive failed session inits; ` +
                'stopping the crawl (bad_session_inits). Check the init request and check() against the site, ' +
                'or raise maxBadInits for this pool.',
        );
        // Nothing is lost: the request whose wait was cut short by the stop went back to the queue (no
        // failure, although maxRequestRetries is 0), and B's unreached requests were never taken.
        expect(record.handled).toEqual([`${b.url}/1`, `${b.url}/2`]);
        expect(record.failed).toEqual([]);
        expect(await ledger(run1.crawler, record)).toEqual({ added: 6, handled: 2, failed: 0, pending: 4 });

        // Host A is back at the same address. A new crawler over the same storage (a restarted process)
        // finishes the rest.
        cleanup(await startServerAt(port, sidSite()));
        const second = captureLog();
        const run2 = recordingCrawler({ log: second.log, record, ...(await open()) });
        const sessions2 = attachManagedSessions(run2.crawler, { poolSize: 1, maxBadInits: 3, statusIntervalSecs: 0 });
        await run2.crawler.run();

        expect(sessions2.closeReason).toBeUndefined();
        // Every URL handled exactly once over the two runs (A's first request was put back behind the others).
        expect(record.handled.slice(2).sort()).toEqual([`${a.url}/1`, `${a.url}/2`, `${b.url}/3`, `${b.url}/4`].sort());
        expect(record.failed).toEqual([]);
        expect(await ledger(run2.crawler, record)).toEqual({ added: 6, handled: 6, failed: 0, pending: 0 });
        // B's session was restored from the first run's state (no new init at B); A got its first one.
        expect(b.seen.filter(isInit)).toHaveLength(1);
        expect(sessions2.stats).toEqual({
            'sessions/init/failed': 3,
            'sessions/init/check-passed': 2,
            'sessions/use/check-passed': 6,
        });
    });
});

describe('every response of one host is 520', () => {
    const A_REQUESTS = 2;
    const ROTATIONS = 3;

    async function crawl() {
        const failing = await serve(
            sidSite((_request, response) => {
                html(response, 'origin error', 520);
                return true;
            }),
        );
        const healthy = await serve(sidSite());
        const { log } = captureLog();
        const { crawler, record } = recordingCrawler({ log, maxSessionRotations: ROTATIONS });
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statsPerPool: true, statusIntervalSecs: 0 });
        const aUrls = Array.from({ length: A_REQUESTS }, (_, i) => `${failing.url}/${i}`);
        const bUrls = [1, 2, 3, 4].map((i) => `${healthy.url}/${i}`);
        await crawler.run([aUrls[0]!, bUrls[0]!, aUrls[1]!, ...bUrls.slice(1)]);
        return { failing, healthy, sessions, crawler, record, aUrls, bUrls };
    }

    it('its requests fail after maxSessionRotations, each attempt on a new session; the other host is unaffected', async () => {
        const { failing, healthy, sessions, crawler, record, aUrls, bUrls } = await crawl();
        const attempts = A_REQUESTS * (ROTATIONS + 1);

        expect(record.failed.map((failure) => failure.url)).toEqual(aUrls);
        for (const { error } of record.failed) {
            expect(error.name).toBe('SessionRotationsExhaustedError');
            expect(error.cause).toBeInstanceOf(SessionDownloadError);
        }
        expect(record.retried).toHaveLength(A_REQUESTS * ROTATIONS);
        // Each 520 discarded its session (maxErrors 1): no session served two attempts.
        const attemptSids = failing.seen.filter((request) => !isInit(request)).map((r) => cookieValue(r.cookie, 'sid'));
        expect(attemptSids).toHaveLength(attempts);
        expect(new Set(attemptSids).size).toBe(attempts);
        // run() may resolve before the cancelled replacement init settles (see reliability-stop.test.ts).
        const poolOf = () => sessions.pools().find((pool) => pool.id === failing.host)!;
        await until(() => poolOf().initializing === 0, 2_000);
        const poolA = poolOf();
        expect(poolA).toMatchObject({ discarded: attempts, initializing: 0, waiting: 0 });
        // The replacement of the last discarded session may have become ready before the crawl ended.
        expect(sessions.stats[`sessions/pools/${failing.host}/init/check-passed`]).toBe(attempts + poolA.ready);
        expect(sessions.stats[`sessions/pools/${failing.host}/use/failed`]).toBe(attempts);

        expect(record.handled).toEqual(bUrls);
        expect(healthy.seen.filter(isInit)).toHaveLength(1);
        expect(
            Object.fromEntries(
                Object.entries(sessions.stats).filter(([name]) => name.startsWith(`sessions/pools/${healthy.host}/`)),
            ),
        ).toEqual({
            [`sessions/pools/${healthy.host}/init/check-passed`]: 1,
            [`sessions/pools/${healthy.host}/use/check-passed`]: 4,
        });
        expect(await ledger(crawler, record)).toEqual({ added: 6, handled: 4, failed: 2, pending: 0 });
    });

    // The last attempt's error must not promise another session: it names the option that ran out.
    it('the final error says that session errors used up maxSessionRotations', async () => {
        const { failing, record } = await crawl();
        expect(record.failed).toHaveLength(A_REQUESTS);
        for (const { url, error } of record.failed) {
            expect(error.message).toContain(url);
            expect(error.message).toContain(`pool ${failing.host}`);
            expect(error.message).toContain(`maxSessionRotations (${ROTATIONS})`);
            expect(error.message).not.toContain('is retried');
        }
    });
});
