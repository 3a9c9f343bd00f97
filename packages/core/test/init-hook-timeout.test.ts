import type { Request, Session } from '@crawlee/core';
import {
    type Download,
    type InitRequest,
    type ManagedSessionsOptions,
    SessionConfig,
    type SessionResponse,
    type StatName,
    TooManyBadSessionInitsError,
} from '@managed-sessions/core';
import type { SessionManagerDeps } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { captureLog, isSettled, req, response, settle, setup } from './helpers.js';

const URL_A = 'https://shop.example/a';
/** The default of option hookTimeoutSecs. */
const HOOK_TIMEOUT_MS = 120_000;
const never = <T>() => new Promise<T>(() => undefined);

interface Hang {
    config?: typeof SessionConfig;
    deps?: Partial<SessionManagerDeps>;
    options?: ManagedSessionsOptions;
}

// [the hook that never settles, the stat its timeout counts, the hook the log names, setup]
const hangs: [string, StatName, string, (hang: () => boolean) => Hang][] = [
    [
        'params()',
        'init/param-error',
        'params()',
        (hang) => ({
            config: class extends SessionConfig {
                override params(request: Request): Promise<InitRequest> {
                    return hang() ? never() : Promise.resolve({ url: request.url });
                }
            },
        }),
    ],
    [
        'initSession()',
        'init/failed',
        'initSession()',
        (hang) => ({
            config: class extends SessionConfig {
                override initSession(session: Session, request: Request, download: Download): Promise<boolean> {
                    return hang() ? never() : super.initSession(session, request, download);
                }
            },
        }),
    ],
    [
        "the proxy's newUrlFunction (prepareSession)",
        'init/failed',
        "the proxy configuration's newUrlFunction",
        (hang) => ({ deps: { prepareSession: () => (hang() ? never() : undefined) } }),
    ],
    [
        'check() of the init response',
        'init/check-error',
        'check()',
        (hang) => ({
            config: class extends SessionConfig {
                override check(): Promise<boolean> {
                    return hang() ? never() : Promise.resolve(true);
                }
            },
        }),
    ],
    [
        'the checker option on the init response',
        'init/check-error',
        'checker()',
        (hang) => ({ options: { checker: () => (hang() ? never() : true) } }),
    ],
    [
        'params() called by an overridden initSession()',
        'init/param-error',
        'params()',
        (hang) => ({
            config: class extends SessionConfig {
                override params(request: Request): Promise<InitRequest> {
                    return hang() ? never() : Promise.resolve({ url: request.url });
                }
                override async initSession(session: Session, request: Request, download: Download) {
                    return super.initSession(session, request, download);
                }
            },
        }),
    ],
];

function arrange(make: (hang: () => boolean) => Hang, hangs: number, options: ManagedSessionsOptions = {}) {
    let inits = 0;
    const hang = make(() => ++inits <= hangs);
    const { log, lines } = captureLog();
    const h = setup({ poolSize: 1, waitTimeoutSecs: 3600, ...options, ...hang.options }, { log, ...hang.deps });
    if (hang.config) h.registry.register(hang.config, { include: '', priority: 1000 });
    return { ...h, lines };
}

describe('a hook of an init that never settles', () => {
    it.each(hangs)(
        '%s: times out after hookTimeoutSecs, counts %s, a new init replaces it',
        async (_what, stat, hook, make) => {
            const h = arrange(make, 1, { maxBadInits: 2 });
            const lease = h.manager.acquire(req(URL_A));
            await settle();
            await h.clock.advance(HOOK_TIMEOUT_MS - 1);
            expect(await isSettled(lease)).toBe(false);
            expect(h.manager.stats).toEqual({});

            await h.clock.advance(1);
            expect((await lease)?.poolId).toBe('shop.example');
            expect(h.manager.stats).toEqual({ [`sessions/${stat}`]: 1, 'sessions/init/check-passed': 1 });
            const logged = h.lines.map((line) => line.message).filter((m) => m.includes('did not settle'));
            expect(logged).toHaveLength(1);
            expect(logged[0]).toContain(`${hook} did not settle within 120s (option hookTimeoutSecs)`);
            expect(logged[0]).toContain('pool shop.example');
            // Only the new session's delay... none: no timer is left behind.
            expect(h.clock.pendingTimers).toBe(0);
        },
    );

    it.each(hangs)('%s: timeouts count toward maxBadInits', async (_what, stat, _hook, make) => {
        const h = arrange(make, Number.POSITIVE_INFINITY, { maxBadInits: 2 });
        const lease = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        await settle();
        await h.clock.advance(HOOK_TIMEOUT_MS);
        await h.clock.advance(HOOK_TIMEOUT_MS);
        expect(await lease).toBeInstanceOf(TooManyBadSessionInitsError);
        expect(h.manager.stats).toEqual({ [`sessions/${stat}`]: 2 });
        expect(h.manager.closeReason).toBe('bad_session_inits');
        expect(h.clock.pendingTimers).toBe(0);
    });

    it.each(hangs)('%s: closing the sessions settles the init at once', async (_what, _stat, _hook, make) => {
        const h = arrange(make, Number.POSITIVE_INFINITY);
        const lease = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        await settle();
        expect(h.manager.pools()[0]).toMatchObject({ initializing: 1 });
        expect(await isSettled(h.manager.dispose())).toBe(true);
        expect(await isSettled(lease)).toBe(true);
        expect(h.manager.pools()[0]).toMatchObject({ initializing: 0 });
        // A cancelled init is not an outcome.
        expect(h.manager.stats).toEqual({});
        expect(h.clock.pendingTimers).toBe(0);
    });

    it('aborts the init signal its downloads got', async () => {
        let signal: AbortSignal | undefined;
        const h = arrange(
            () => ({
                config: class extends SessionConfig {
                    override async initSession(_s: Session, request: Request, download: Download) {
                        await download({ url: request.url });
                        return never<boolean>();
                    }
                },
            }),
            0,
            { maxBadInits: 1 },
        );
        h.site.respond = (call) => {
            signal = call.signal;
            return response(call.url);
        };
        const lease = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        await settle();
        expect(signal?.aborted).toBe(false);
        await h.clock.advance(HOOK_TIMEOUT_MS);
        expect(signal?.aborted).toBe(true);
        expect(await lease).toBeInstanceOf(TooManyBadSessionInitsError);
        expect(h.manager.stats).toEqual({ 'sessions/init/failed': 1 });
    });

    it('a download that hangs (not a user hook) is cut by close(), not by the deadline', async () => {
        const h = arrange(() => ({}), 0);
        h.site.respond = () => never<SessionResponse>();
        const lease = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        await settle();
        // Only the wait limit: the built-in initSession() and its download have no deadline of their own.
        expect(h.clock.pendingTimers).toBe(1);
        expect(await isSettled(h.manager.dispose())).toBe(true);
        expect(await isSettled(lease)).toBe(true);
        expect(h.manager.stats).toEqual({});
    });
});
