import type { Request, Session } from '@crawlee/core';
import {
    CloseCrawlerError,
    type Download,
    type InitRequest,
    type Location,
    type ManagedSessionsOptions,
    type PoolConfig,
    SessionConfig,
    type SessionResponse,
    SessionsClosedError,
    type StatName,
    TooManyBadSessionInitsError,
} from '@managed-sessions/core';
import type { SessionManagerDeps } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { captureLog, type Responder, req, response, settle, setup } from './helpers.js';

const URL_A = 'https://shop.example/a';

interface Arrangement {
    config?: typeof SessionConfig;
    respond?: Responder;
    options?: ManagedSessionsOptions;
    deps?: Partial<SessionManagerDeps>;
}

/**
 * [what fails, the stat it counts, downloads per failed init, the setup]. `fail()` is called
 * exactly once per init and says whether this init must fail.
 */
const outcomes: [string, StatName, number, (fail: () => boolean) => Arrangement][] = [
    [
        'params() throws',
        'init/param-error',
        0,
        (fail) => ({
            config: class extends SessionConfig {
                override params(request: Request): InitRequest {
                    if (fail()) throw new Error('no params');
                    return { url: request.url };
                }
            },
        }),
    ],
    [
        'params() rejects',
        'init/param-error',
        0,
        (fail) => ({
            config: class extends SessionConfig {
                override async params(request: Request): Promise<InitRequest> {
                    if (fail()) throw new Error('no params');
                    return { url: request.url };
                }
            },
        }),
    ],
    ...(
        [
            ['null', null],
            ['an array', [{ url: URL_A }]],
            ['a string', URL_A],
            ['a number', 42],
            ['undefined', undefined],
            ['an invalid InitRequest', { url: 'ftp://shop.example/' }],
            ['a GET with a form', { url: URL_A, form: { a: 'b' } }],
        ] as const
    ).map(([what, value]): [string, StatName, number, (fail: () => boolean) => Arrangement] => [
        `params() returns ${what}`,
        'init/param-error',
        0,
        (fail) => ({
            config: class extends SessionConfig {
                override params(request: Request): InitRequest {
                    return (fail() ? value : { url: request.url }) as InitRequest;
                }
            },
        }),
    ]),
    [
        'location() throws',
        'init/param-error',
        0,
        (fail) => ({
            config: class extends SessionConfig {
                override location(): Location {
                    if (fail()) throw new Error('no location');
                    return {};
                }
            },
        }),
    ],
    [
        'the download throws',
        'init/failed',
        1,
        (fail) => ({
            respond: (call) => {
                if (fail()) throw new Error('ECONNRESET');
                return response(call.url);
            },
        }),
    ],
    [
        'the init response is 520',
        'init/failed',
        1,
        (fail) => ({ respond: (call) => response(call.url, fail() ? 520 : 200) }),
    ],
    [
        'the init response is 521',
        'init/failed',
        1,
        (fail) => ({ respond: (call) => response(call.url, fail() ? 521 : 200) }),
    ],
    [
        'the init response has a status of errorStatusCodes',
        'init/failed',
        1,
        (fail) => ({ respond: (call) => response(call.url, fail() ? 503 : 200), options: { errorStatusCodes: [503] } }),
    ],
    [
        'prepareSession throws',
        'init/failed',
        0,
        (fail) => ({
            deps: {
                prepareSession: () => {
                    if (fail()) throw new Error('no proxy');
                    return undefined;
                },
            },
        }),
    ],
    [
        'initSession() throws',
        'init/failed',
        0,
        (fail) => ({
            config: class extends SessionConfig {
                override async initSession(session: Session, request: Request, download: Download) {
                    if (fail()) throw new Error('login form changed');
                    return super.initSession(session, request, download);
                }
            },
        }),
    ],
    [
        'initSession() returns false',
        'init/check-failed',
        1,
        (fail) => ({
            config: class extends SessionConfig {
                override async initSession(session: Session, request: Request, download: Download) {
                    const passed = await super.initSession(session, request, download);
                    return fail() ? false : passed;
                }
            },
        }),
    ],
    [
        'check() fails the init response (403)',
        'init/check-failed',
        1,
        (fail) => ({ respond: (call) => response(call.url, fail() ? 403 : 200) }),
    ],
    [
        'check() throws on the init response',
        'init/check-error',
        1,
        (fail) => ({
            config: class extends SessionConfig {
                override check(): boolean {
                    if (fail()) throw new Error('selector missing');
                    return true;
                }
            },
        }),
    ],
    [
        'the checker option throws on the init response',
        'init/check-error',
        1,
        (fail) => ({
            options: {
                checker: () => {
                    if (fail()) throw new Error('selector missing');
                    return true;
                },
            },
        }),
    ],
];

function arrange(make: (fail: () => boolean) => Arrangement, failures: number, options: ManagedSessionsOptions) {
    let inits = 0;
    const arrangement = make(() => ++inits <= failures);
    const h = setup({ poolSize: 1, ...options, ...arrangement.options }, arrangement.deps ?? {});
    if (arrangement.config) h.registry.register(arrangement.config, { include: '', priority: 1000 });
    if (arrangement.respond) h.site.respond = arrangement.respond;
    return h;
}

describe('init outcomes', () => {
    it.each(outcomes)('%s: counts %s once, then a new init replaces it', async (_what, stat, downloads, make) => {
        const { manager, site, closes } = arrange(make, 1, { maxBadInits: 2 });
        const lease = await manager.acquire(req(URL_A));
        expect(lease).toBeDefined();
        expect(manager.stats).toEqual({ [`sessions/${stat}`]: 1, 'sessions/init/check-passed': 1 });
        // The failed init's downloads, then the successful one's.
        expect(site.calls).toHaveLength(downloads + 1);
        expect(site.sessionIds.at(-1)).toBe(lease!.session.id);
        expect(manager.closeReason).toBeUndefined();
        expect(closes).toEqual([]);
    });

    it.each(outcomes)('%s: counts toward maxBadInits', async (_what, stat, downloads, make) => {
        const { manager, site, closes } = arrange(make, Number.POSITIVE_INFINITY, { maxBadInits: 3 });
        const error = await manager.acquire(req(URL_A)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TooManyBadSessionInitsError);
        expect(manager.stats).toEqual({ [`sessions/${stat}`]: 3 });
        expect(site.calls).toHaveLength(downloads * 3);
        expect(manager.closeReason).toBe('bad_session_inits');
        expect(closes.map((close) => close.reason)).toEqual(['bad_session_inits']);
    });

    it('logs why params() failed', async () => {
        const { log, lines } = captureLog();
        const { manager, registry } = setup({ poolSize: 1, maxBadInits: 1 }, { log });
        registry.register(
            class NullParams extends SessionConfig {
                override params(): InitRequest {
                    return null as never;
                }
            },
            { include: 'shop.example' },
        );
        await manager.acquire(req(URL_A)).catch(() => undefined);
        expect(lines.map((line) => line.message)).toContain(
            'Session init for pool shop.example: params() for https://shop.example/a returned null; return an InitRequest object such as { url }.',
        );
    });
});

describe('logs', () => {
    it('never show proxy credentials or cookies', async () => {
        const { log, lines } = captureLog();
        const { manager, site, registry } = setup({ poolSize: 1 }, { log });
        registry.register(
            class CookieCheck extends SessionConfig {
                override check(response: SessionResponse): boolean {
                    if (response.body === 'odd') throw new Error('unexpected Set-Cookie: sid=s3cret-cookie');
                    return true;
                }
            },
            { include: 'shop.example' },
        );
        site.respond = (call) => {
            if (site.calls.length === 1) {
                throw new Error(
                    'tunneling socket could not be established: http://user:s3cret-pass@proxy.example:8000',
                );
            }
            return response(call.url);
        };
        const lease = (await manager.acquire(req(URL_A)))!;
        await manager.check(lease, response(URL_A, 200, 'odd')).catch(() => undefined);
        const text = lines.map((line) => line.message).join('\n');
        expect(text).toContain(
            'Session init for pool shop.example failed: tunneling socket could not be established: http://***:***@proxy.example:8000',
        );
        expect(text).toContain('Set-Cookie: ***');
        expect(text).not.toContain('s3cret');
    });
});

describe('maxBadInits', () => {
    function failingSite(options: ManagedSessionsOptions = {}) {
        const h = setup({ poolSize: 1, ...options });
        h.site.respond = () => {
            throw new Error('ECONNREFUSED');
        };
        return h;
    }

    it('rejects every waiter with TooManyBadSessionInitsError and stops with bad_session_inits', async () => {
        const { manager, site, closes, clock } = failingSite({ maxBadInits: 3 });
        const waiters = [1, 2, 3].map((i) => manager.acquire(req(`https://shop.example/${i}`)));
        const errors = await Promise.all(waiters.map((waiter) => waiter.catch((error: unknown) => error)));
        for (const error of errors) {
            expect(error).toBeInstanceOf(TooManyBadSessionInitsError);
            expect((error as Error).message).toBe(
                'Pool shop.example had 3 consecutive failed session inits; stopping the crawl (bad_session_inits). ' +
                    'Check the init request and check() against the site, or raise maxBadInits for this pool.',
            );
            expect((error as TooManyBadSessionInitsError).pool).toBe('shop.example');
            expect((error as TooManyBadSessionInitsError).code).toBe('ERR_TOO_MANY_BAD_SESSION_INITS');
        }
        expect(site.calls).toHaveLength(3);
        expect(manager.stats).toEqual({ 'sessions/init/failed': 3 });
        expect(manager.closeReason).toBe('bad_session_inits');
        expect(closes).toHaveLength(1);
        expect(closes[0]?.reason).toBe('bad_session_inits');
        expect(closes[0]?.error).toBeInstanceOf(TooManyBadSessionInitsError);
        expect(clock.pendingTimers).toBe(0);

        // No more inits, ever.
        await expect(manager.acquire(req('https://shop.example/4'))).rejects.toThrow(SessionsClosedError);
        await settle();
        expect(site.calls).toHaveLength(3);
    });

    class Configured extends SessionConfig {
        override pool(request: Request): PoolConfig {
            return { id: new URL(request.url).hostname, maxBadInits: 3 };
        }
    }

    it.each([
        ['the global option', {}, false, 5],
        ['pools[id].maxBadInits', { pools: { 'shop.example': { maxBadInits: 2 } } }, false, 2],
        ['PoolConfig.maxBadInits', {}, true, 3],
        ['pools[id] over PoolConfig', { pools: { 'shop.example': { maxBadInits: 4 } } }, true, 4],
    ] as const)('%s sets the limit', async (_what, options, withConfig, limit) => {
        const { manager, site, registry } = failingSite({ maxBadInits: 5, ...options });
        if (withConfig) registry.register(Configured, { include: 'shop.example' });
        await expect(manager.acquire(req(URL_A))).rejects.toThrow(TooManyBadSessionInitsError);
        expect(site.calls).toHaveLength(limit);
        expect(manager.stats).toEqual({ 'sessions/init/failed': limit });
    });

    it('counts consecutive failures only: a successful init resets the count', async () => {
        const { manager, site, closes } = setup({ poolSize: 1, maxBadInits: 3 });
        // Inits 1-2 fail, 3 passes, 4-5 fail, 6 passes.
        site.respond = (call) => response(call.url, [1, 2, 4, 5].includes(site.calls.length) ? 520 : 200);
        const first = (await manager.acquire(req(URL_A)))!;
        expect(manager.stats).toEqual({ 'sessions/init/failed': 2, 'sessions/init/check-passed': 1 });
        await expect(manager.check(first, response(URL_A, 403))).rejects.toThrow();
        manager.release(first);
        const second = (await manager.acquire(req(URL_A)))!;
        expect(second.session.id).not.toBe(first.session.id);
        expect(site.calls).toHaveLength(6);
        expect(manager.stats).toEqual({
            'sessions/init/failed': 4,
            'sessions/init/check-passed': 2,
            'sessions/use/check-failed': 1,
        });
        expect(manager.closeReason).toBeUndefined();
        expect(closes).toEqual([]);
        expect(manager.pools()[0]).toMatchObject({ ready: 1, initializing: 0, discarded: 1 });
    });

    it('counts per pool: failures in one pool do not add to another', async () => {
        const { manager, site } = setup({ poolSize: 1, maxBadInits: 2 });
        let failOther = true;
        site.respond = (call) =>
            response(call.url, call.url.startsWith('https://other.example') && failOther ? 520 : 200);
        await manager.acquire(req(URL_A));
        failOther = false;
        site.respond = (call) =>
            response(call.url, call.url.startsWith('https://other.example') && site.calls.length === 2 ? 520 : 200);
        const other = await manager.acquire(req('https://other.example/'));
        expect(other?.poolId).toBe('other.example');
        expect(manager.closeReason).toBeUndefined();
        expect(manager.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/init/failed': 1 });
    });
});

describe('CloseCrawlerError from a hook', () => {
    // [hook, config, when it runs: during the init, the use check, or acquire() before/after the init]
    const hooks: [string, typeof SessionConfig, 'init' | 'use' | 'before-init' | 'after-init'][] = [
        [
            'params()',
            class extends SessionConfig {
                override params(): InitRequest {
                    throw new CloseCrawlerError('out_of_credit');
                }
            },
            'init',
        ],
        [
            'location()',
            class extends SessionConfig {
                override location(): Location {
                    throw new CloseCrawlerError('out_of_credit');
                }
            },
            'init',
        ],
        [
            'check() on the init response',
            class extends SessionConfig {
                override check(): boolean {
                    throw new CloseCrawlerError('out_of_credit');
                }
            },
            'init',
        ],
        [
            'initSession()',
            class extends SessionConfig {
                override async initSession(): Promise<boolean> {
                    throw new CloseCrawlerError('out_of_credit');
                }
            },
            'init',
        ],
        [
            'check() on a use response',
            class extends SessionConfig {
                override check(response: SessionResponse): boolean {
                    if (response.url === URL_A) throw new CloseCrawlerError('out_of_credit');
                    return true;
                }
            },
            'use',
        ],
        [
            'processRequest()',
            class extends SessionConfig {
                override processRequest(): void {
                    throw new CloseCrawlerError('out_of_credit');
                }
            },
            'after-init',
        ],
        [
            'enabled()',
            class extends SessionConfig {
                override enabled(): boolean {
                    throw new CloseCrawlerError('out_of_credit');
                }
            },
            'before-init',
        ],
        [
            'pool()',
            class extends SessionConfig {
                override pool(): string {
                    throw new CloseCrawlerError('out_of_credit');
                }
            },
            'before-init',
        ],
    ];

    it.each(hooks)('%s stops the crawl with its reason, counting nothing', async (_hook, cls, phase) => {
        const { manager, registry, closes, clock } = setup({ poolSize: 2 });
        registry.register(cls, { include: '', priority: 1000 });
        let error: unknown;
        if (phase === 'use') {
            const lease = (await manager.acquire(req('https://shop.example/init')))!;
            error = await manager.check(lease, response(URL_A, 200)).catch((e: unknown) => e);
            expect(error).toBeInstanceOf(CloseCrawlerError);
            expect(manager.stats).toEqual({ 'sessions/init/check-passed': 1 });
        } else {
            error = await manager.acquire(req(URL_A)).catch((e: unknown) => e);
            expect(error).toBeInstanceOf(phase === 'init' ? SessionsClosedError : CloseCrawlerError);
            expect(manager.stats).toEqual(phase === 'after-init' ? { 'sessions/init/check-passed': 1 } : {});
        }
        expect(manager.closeReason).toBe('out_of_credit');
        expect(closes).toHaveLength(1);
        expect(closes[0]?.reason).toBe('out_of_credit');
        expect(closes[0]?.error).toBeInstanceOf(CloseCrawlerError);
        expect(closes[0]?.error.message).toBe('Crawl stopped by a session config: out_of_credit');
        expect(clock.pendingTimers).toBe(0);
        // enabled() runs before acquire() looks at the closed state, so it throws again.
        await expect(manager.acquire(req('https://shop.example/b'))).rejects.toThrow(
            _hook === 'enabled()'
                ? 'Crawl stopped by a session config: out_of_credit'
                : 'Sessions are closed (out_of_credit)',
        );
        expect(closes).toHaveLength(1);
    });
});
