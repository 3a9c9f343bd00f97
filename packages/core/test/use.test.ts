import { type Request, type Session, SessionError } from '@crawlee/core';
import {
    getRequestSessionId,
    type ManagedSessionsOptions,
    type RequestOverrides,
    SessionCheckFailedError,
    SessionConfig,
    SessionDownloadError,
    type SessionResponse,
    STAT_NAMES,
} from '@managed-sessions/core';
import type { SessionLease } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { type Deferred, deferred, type Harness, isSettled, lease, req, response, settle, setup } from './helpers.js';

const URL_A = 'https://shop.example/a';

function namer(h: Harness): (l: SessionLease) => string {
    return (l) => String.fromCharCode(65 + h.site.sessionIds.indexOf(l.session.id));
}

/** From now on, init downloads wait until the test resolves them. */
function holdInits(h: Harness): Deferred<SessionResponse>[] {
    const held: Deferred<SessionResponse>[] = [];
    h.site.respond = () => {
        const d = deferred<SessionResponse>();
        held.push(d);
        return d.promise;
    };
    return held;
}

async function failCheck(h: Harness, l: SessionLease, status = 403, body = 'ok'): Promise<unknown> {
    return h.manager.check(l, response(l.request.url, status, body)).then(
        () => undefined,
        (error: unknown) => error,
    );
}

describe('use checks', () => {
    it('a passing check counts use/check-passed and keeps the session', async () => {
        const h = setup({ poolSize: 1 });
        const l = await lease(h);
        await h.manager.check(l, response(URL_A));
        await h.manager.check(l, response(URL_A, 404));
        h.manager.release(l);
        expect((await lease(h)).session.id).toBe(l.session.id);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 2 });
    });

    it.each([401, 403, 429])('the default check fails %s: SessionCheckFailedError, a SessionError', async (status) => {
        const h = setup({ poolSize: 1 });
        const l = await lease(h);
        const error = await failCheck(h, l, status);
        expect(error).toBeInstanceOf(SessionCheckFailedError);
        expect(error).toBeInstanceOf(SessionError);
        const failed = error as SessionCheckFailedError;
        expect(failed.message).toBe(
            'Detected a session error, rotating session... \n' +
                `Session check failed for https://shop.example/a (pool shop.example, status ${status}): ` +
                'the session check rejected the response. The request is retried with another session; ' +
                'if every response fails, fix check() or the init.',
        );
        expect([failed.code, failed.url, failed.pool, failed.statusCode]).toEqual([
            'ERR_SESSION_CHECK_FAILED',
            URL_A,
            'shop.example',
            status,
        ]);
        await settle();
        expect(h.manager.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-failed': 1,
        });
        expect(h.manager.pools()).toEqual([
            { id: 'shop.example', size: 1, ready: 1, initializing: 0, waiting: 0, discarded: 1 },
        ]);
        // The replacement was initialised with the failed request.
        expect(h.site.urls).toEqual([URL_A, URL_A]);
    });

    it.each([1, 2, 3])('maxCheckFailures %i: the session goes at the %i-th failure', async (max) => {
        const h = setup({ poolSize: 1, maxCheckFailures: max });
        const l = await lease(h);
        for (let i = 1; i < max; i++) {
            expect(await failCheck(h, l)).toBeInstanceOf(SessionCheckFailedError);
            await settle();
            expect(h.manager.pools()[0]).toMatchObject({ ready: 1, discarded: 0 });
            expect(h.site.calls).toHaveLength(1);
        }
        expect(await failCheck(h, l)).toBeInstanceOf(SessionCheckFailedError);
        await settle();
        expect(h.manager.pools()[0]).toMatchObject({ ready: 1, discarded: 1 });
        expect(h.site.calls).toHaveLength(2);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-failed': max });
    });

    it('a check that throws counts use/check-error and discards the session at once', async () => {
        class Throwing extends SessionConfig {
            override check(response: SessionResponse): boolean {
                if (response.body === 'weird') throw new Error('cannot parse');
                return true;
            }
        }
        const h = setup({ poolSize: 1, maxCheckFailures: 5 });
        h.registry.register(Throwing, { include: 'shop.example' });
        const l = await lease(h);
        const error = await h.manager.check(l, response(URL_A, 200, 'weird')).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SessionCheckFailedError);
        expect((error as Error).message).toContain(
            'Session check failed for https://shop.example/a (pool shop.example, status 200): check() threw.',
        );
        await settle();
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-error': 1 });
        expect(h.manager.pools()[0]).toMatchObject({ ready: 1, discarded: 1 });
    });

    it('checks the final response of the attempt with the attempt request', async () => {
        const seen: [string, string, string][] = [];
        class Recording extends SessionConfig {
            override check(response: SessionResponse, request: Request, session: Session): boolean {
                seen.push([response.url, request.url, session.id]);
                return true;
            }
        }
        const h = setup({ poolSize: 1 });
        h.registry.register(Recording, { include: 'shop.example' });
        const l = await lease(h);
        await h.manager.check(l, response('https://shop.example/redirected'));
        const id = l.session.id;
        expect(seen).toEqual([
            [URL_A, URL_A, id],
            ['https://shop.example/redirected', URL_A, id],
        ]);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 1 });
    });
});

describe('download errors', () => {
    it('return a SessionDownloadError, redacted, and count use/failed', async () => {
        const h = setup({ poolSize: 1, maxErrors: 2 });
        const l = await lease(h);
        const cause = new Error('socket hang up');
        const error = h.manager.downloadError(l, 'proxy http://user:s3cret@proxy.example:8000 refused', cause);
        expect(error).toBeInstanceOf(SessionDownloadError);
        expect(error).toBeInstanceOf(SessionError);
        expect(error.message).toBe(
            'Detected a session error, rotating session... \n' +
                'Download error for https://shop.example/a (pool shop.example): proxy http://***:***@proxy.example:8000 refused. ' +
                'It counts against the session (option maxErrors) and the request is retried with another session.',
        );
        expect(error.message).not.toContain('s3cret');
        // A redacted stand-in: HTTP clients' errors carry the request's cookies and proxy password.
        expect(error.cause).not.toBe(cause);
        expect(error.cause).toMatchObject({ name: 'Error', message: 'socket hang up' });
        expect([error.code, error.url, error.pool]).toEqual(['ERR_SESSION_DOWNLOAD', URL_A, 'shop.example']);
        await settle();
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/failed': 1 });
        expect(h.manager.pools()[0]).toMatchObject({ ready: 1, discarded: 0 });
    });

    it.each([1, 2, 3])('maxErrors %i: the session goes at the %i-th error', async (max) => {
        const h = setup({ poolSize: 1, maxErrors: max });
        const l = await lease(h);
        for (let i = 1; i < max; i++) {
            h.manager.downloadError(l, 'HTTP 520');
            await settle();
            expect(h.manager.pools()[0]).toMatchObject({ ready: 1, discarded: 0 });
        }
        h.manager.downloadError(l, 'HTTP 520');
        await settle();
        expect(h.manager.pools()[0]).toMatchObject({ ready: 1, discarded: 1 });
        expect(h.site.calls).toHaveLength(2);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/failed': max });
    });

    it('isErrorStatus follows errorStatusCodes', () => {
        expect([520, 521, 503].map((s) => setup().manager.isErrorStatus(s))).toEqual([true, true, false]);
        expect(setup({ errorStatusCodes: [503] }).manager.isErrorStatus(520)).toBe(false);
        expect(setup({ errorStatusCodes: [503] }).manager.isErrorStatus(503)).toBe(true);
    });

    it('maxErrors and maxCheckFailures count separately', async () => {
        const h = setup({ poolSize: 1, maxErrors: 2, maxCheckFailures: 2 });
        const l = await lease(h);
        h.manager.downloadError(l, 'HTTP 520');
        await failCheck(h, l);
        await settle();
        expect(h.manager.pools()[0]).toMatchObject({ discarded: 0 });
        h.manager.downloadError(l, 'HTTP 520');
        await settle();
        expect(h.manager.pools()[0]).toMatchObject({ discarded: 1 });
    });
});

describe('discard and replacement', () => {
    it('a discarded session leaves the rotation at once; its replacement joins when ready', async () => {
        const h = setup({ poolSize: 2 });
        const name = namer(h);
        const [a, b] = await Promise.all([lease(h), lease(h)]);
        expect([name(a), name(b)]).toEqual(['A', 'B']);
        const held = holdInits(h);
        await failCheck(h, a);
        h.manager.release(a);
        const next: string[] = [];
        for (let i = 0; i < 4; i++) {
            const l = await lease(h);
            next.push(name(l));
            h.manager.release(l);
        }
        expect(next).toEqual(['B', 'B', 'B', 'B']);
        expect(h.manager.pools()[0]).toMatchObject({ ready: 1, initializing: 1, discarded: 1 });
        held[0]!.resolve(response(URL_A));
        await settle();
        const after: string[] = [];
        for (let i = 0; i < 2; i++) {
            const l = await lease(h);
            after.push(name(l));
            h.manager.release(l);
        }
        expect(after).toEqual(['C', 'B']);
        expect(h.site.calls).toHaveLength(3);
    });

    it.each([
        ['three failed checks', ['check', 'check', 'check'], { 'sessions/use/check-failed': 3 }],
        ['three download errors', ['error', 'error', 'error'], { 'sessions/use/failed': 3 }],
        [
            'a failed check, a download error and a check that threw',
            ['check', 'error', 'throw'],
            { 'sessions/use/check-failed': 1, 'sessions/use/failed': 1, 'sessions/use/check-error': 1 },
        ],
    ] as const)('concurrent failures of one session replace it once: %s', async (_what, failures, stats) => {
        class Throwing extends SessionConfig {
            override check(response: SessionResponse): boolean {
                if (response.body === 'throw') throw new Error('cannot parse');
                return response.statusCode !== 403;
            }
        }
        const h = setup({ poolSize: 1 });
        h.registry.register(Throwing, { include: 'shop.example' });
        const leases = await Promise.all([1, 2, 3].map((i) => lease(h, req(`https://shop.example/${i}`))));
        expect(new Set(leases.map((l) => l.session.id)).size).toBe(1);
        await Promise.all(
            leases.map((l, i) => {
                const failure = failures[i];
                if (failure === 'error') return h.manager.downloadError(l, 'HTTP 520');
                return failure === 'check' ? failCheck(h, l) : failCheck(h, l, 200, 'throw');
            }),
        );
        for (const l of leases) h.manager.release(l);
        await settle();
        expect(h.site.calls).toHaveLength(2);
        expect(h.manager.pools()).toEqual([
            { id: 'shop.example', size: 1, ready: 1, initializing: 0, waiting: 0, discarded: 1 },
        ]);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 2, ...stats });
    });

    it('a retry after a failure gets another session when the pool has one', async () => {
        const h = setup({ poolSize: 2 });
        const name = namer(h);
        const first = req('https://shop.example/1');
        const [a, b] = [await lease(h, first), await lease(h, req('https://shop.example/2'))];
        expect([name(a), name(b)]).toEqual(['A', 'B']);
        holdInits(h);
        await failCheck(h, a);
        h.manager.release(a);
        const retry = await lease(h, first);
        expect(name(retry)).toBe('B');
    });

    it.each([
        ['a failed check below maxCheckFailures', { maxCheckFailures: 3 }, 'check'],
        ['a download error below maxErrors', { maxErrors: 3 }, 'error'],
    ] as const)('a retry after %s gets another session', async (_what, options: ManagedSessionsOptions, failure) => {
        const h = setup({ poolSize: 2, ...options });
        const name = namer(h);
        const first = req('https://shop.example/1');
        const [a, b] = [await lease(h, first), await lease(h, req('https://shop.example/2'))];
        expect([name(a), name(b)]).toEqual(['A', 'B']);
        if (failure === 'check') await failCheck(h, a);
        else h.manager.downloadError(a, 'HTTP 520');
        h.manager.release(a);
        // A is still in rotation, and next in line, but the retry gets B.
        expect(h.manager.pools()[0]).toMatchObject({ ready: 2, discarded: 0 });
        expect(getRequestSessionId(first)).toBe(a.session.id);
        // Crawlee hands the retry over as a new Request object with the same uniqueKey.
        const again = req('https://shop.example/1');
        const retry = await lease(h, again);
        expect(name(retry)).toBe('B');
        expect(getRequestSessionId(again)).toBe(b.session.id);
        h.manager.release(retry);
        // Other requests still use A.
        expect(name(await lease(h, req('https://shop.example/3')))).toBe('A');
    });

    it('a retry takes the same session when it is the only one', async () => {
        const h = setup({ poolSize: 1, maxCheckFailures: 3 });
        const first = req(URL_A);
        const a = await lease(h, first);
        await failCheck(h, a);
        h.manager.release(a);
        expect((await lease(h, first)).session.id).toBe(a.session.id);
    });
});

describe('planned expiry', () => {
    it('maxUsageCount retires a session on its last use and replaces it ahead of need', async () => {
        const h = setup({ poolSize: 1, maxUsageCount: 2 });
        const name = namer(h);
        const first = await lease(h);
        h.manager.release(first);
        const last = await lease(h);
        expect([name(first), name(last)]).toEqual(['A', 'A']);
        // The replacement starts while the last use is in flight.
        await settle();
        expect(h.site.calls).toHaveLength(2);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/expired': 1 });
        expect(h.manager.pools()).toEqual([
            { id: 'shop.example', size: 1, ready: 1, initializing: 0, waiting: 0, discarded: 1 },
        ]);
        // The last use's outcome still counts, but ends nothing more.
        await failCheck(h, last);
        h.manager.release(last);
        await settle();
        expect(h.site.calls).toHaveLength(2);
        // The next request does not wait for an init.
        const next = h.manager.acquire(req(URL_A));
        expect(await isSettled(next)).toBe(true);
        expect(name((await next)!)).toBe('B');
        expect(h.site.calls).toHaveLength(2);
        expect(h.manager.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/expired': 1,
            'sessions/use/check-failed': 1,
        });
    });

    it('maxUsageCount 1 gives every request a fresh session', async () => {
        const h = setup({ poolSize: 1, maxUsageCount: 1 });
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
            const l = await lease(h);
            ids.push(l.session.id);
            h.manager.release(l);
            await settle();
        }
        expect(new Set(ids).size).toBe(3);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 4, 'sessions/use/expired': 3 });
    });

    it('maxAgeSecs retires a session that would age out before a replacement is ready', async () => {
        const h = setup({ poolSize: 1, maxAgeSecs: 10 });
        const name = namer(h);
        // Inits take 2 s, so a session is replaced when it is 8 s old.
        const held = holdInits(h);
        const firstAttempt = h.manager.acquire(req(URL_A));
        await h.clock.advance(2_000);
        held[0]!.resolve(response(URL_A));
        const first = (await firstAttempt)!;
        const born = h.clock.now();
        h.manager.release(first);

        await h.clock.advance(7_999);
        const young = await lease(h);
        h.manager.release(young);
        expect(name(young)).toBe('A');
        expect(h.site.calls).toHaveLength(1);

        await h.clock.advance(1);
        expect(h.clock.now() - born).toBe(8_000);
        const old = await lease(h);
        expect(name(old)).toBe('A');
        await settle();
        // Retired on this use; the replacement's init is under way.
        expect(h.site.calls).toHaveLength(2);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/expired': 1 });
        await h.clock.advance(2_000);
        held[1]!.resolve(response(URL_A));
        await settle();
        h.manager.release(old);
        const next = h.manager.acquire(req(URL_A));
        expect(await isSettled(next)).toBe(true);
        expect(name((await next)!)).toBe('B');
        expect(h.site.calls).toHaveLength(2);
    });

    it('maxAgeSecs: a session that aged out while idle is replaced for the request that finds it', async () => {
        const h = setup({ poolSize: 1, maxAgeSecs: 10 });
        const name = namer(h);
        const first = await lease(h);
        h.manager.release(first);
        await h.clock.advance(10_000);
        const attempt = h.manager.acquire(req(URL_A));
        // Served by the replacement, without waiting out waitTimeoutSecs.
        expect(await isSettled(attempt)).toBe(true);
        const next = (await attempt)!;
        expect([name(first), name(next)]).toEqual(['A', 'B']);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/expired': 1 });
        expect(h.manager.pools()[0]).toMatchObject({ ready: 1, discarded: 1 });
        expect(h.clock.pendingTimers).toBe(0);
    });
});

describe('processRequest', () => {
    class Csrf extends SessionConfig {
        static calls = 0;
        override processRequest(request: Request, session: Session): RequestOverrides | undefined {
            Csrf.calls++;
            if (request.url.endsWith('/none')) return undefined;
            return {
                headers: { 'x-csrf': `${session.id}:${Csrf.calls}` },
                url: `${request.url}?attempt=${Csrf.calls}`,
            };
        }
    }

    it('returns overrides in the lease, for that attempt only', async () => {
        const h = setup({ poolSize: 1 });
        h.registry.register(Csrf, { include: 'shop.example' });
        Csrf.calls = 0;
        const request = req(URL_A, {}, { headers: { accept: 'text/html' } });
        const first = await lease(h, request);
        expect(first.overrides).toEqual({
            headers: { 'x-csrf': `${first.session.id}:1` },
            url: 'https://shop.example/a?attempt=1',
        });
        h.manager.release(first);
        const second = await lease(h, request);
        expect(second.overrides).toEqual({
            headers: { 'x-csrf': `${second.session.id}:2` },
            url: 'https://shop.example/a?attempt=2',
        });
        // The request itself is untouched.
        expect(request.url).toBe(URL_A);
        expect(request.headers).toEqual({ accept: 'text/html' });
        expect((await lease(h, req('https://shop.example/none'))).overrides).toBeUndefined();
    });

    it('a processRequest that throws releases the session and fails that attempt', async () => {
        class Failing extends SessionConfig {
            override processRequest(request: Request): void {
                if (request.url.endsWith('/bad')) throw new Error('no token');
            }
        }
        const h = setup({ poolSize: 1, exclusive: true });
        h.registry.register(Failing, { include: 'shop.example' });
        await expect(h.manager.acquire(req('https://shop.example/bad'))).rejects.toThrow('no token');
        // Exclusive: had the session not been released, this would wait.
        const next = h.manager.acquire(req(URL_A));
        expect(await isSettled(next)).toBe(true);
        expect(h.manager.closeReason).toBeUndefined();
    });
});

describe('disabled sessions', () => {
    class Disabled extends SessionConfig {
        override enabled(): boolean {
            return false;
        }
    }

    it.each([
        ['userData.sessionEnabled false', {}, {}, false],
        ['option enabled false', { enabled: false }, {}, true],
        ['config.enabled() false', {}, { config: true }, true],
    ] as const)('%s: acquire returns undefined and counts use/disabled', async (_what, options, extra, inherit) => {
        const h = setup({ poolSize: 1, statsPerPool: true, ...options });
        if ('config' in extra) h.registry.register(Disabled, { include: 'shop.example' });
        const userData = inherit ? {} : { sessionEnabled: false };
        expect(await h.manager.acquire(req(URL_A, userData))).toBeUndefined();
        expect(await h.manager.acquire(req(URL_A, userData))).toBeUndefined();
        expect(h.manager.stats).toEqual({ 'sessions/use/disabled': 2 });
        expect(h.site.calls).toHaveLength(0);
        expect(h.manager.pools()).toEqual([]);
    });

    it('userData.sessionEnabled true wins over option enabled false', async () => {
        const h = setup({ poolSize: 1, enabled: false });
        expect(await h.manager.acquire(req(URL_A, { sessionEnabled: true }))).toBeDefined();
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 1 });
    });
});

describe('stats', () => {
    it('statsPerPool counts each stat also under sessions/pools/{pool}/', async () => {
        const h = setup({ poolSize: 1, statsPerPool: true, maxUsageCount: 2 });
        const a = await lease(h, req(URL_A));
        await h.manager.check(a, response(URL_A));
        h.manager.release(a);
        const b = await lease(h, req('http://127.0.0.1:8080/x'));
        await failCheck(h, b);
        h.manager.downloadError(b, 'HTTP 520');
        h.manager.release(b);
        const c = await lease(h, req(URL_A));
        h.manager.release(c);
        await h.manager.acquire(req(URL_A, { sessionEnabled: false }));
        await settle();
        expect(h.manager.stats).toEqual({
            'sessions/init/check-passed': 4,
            'sessions/use/check-passed': 1,
            'sessions/use/check-failed': 1,
            'sessions/use/failed': 1,
            'sessions/use/expired': 1,
            'sessions/use/disabled': 1,
            'sessions/pools/shop.example/init/check-passed': 2,
            'sessions/pools/shop.example/use/check-passed': 1,
            'sessions/pools/shop.example/use/expired': 1,
            'sessions/pools/127.0.0.1:8080/init/check-passed': 2,
            'sessions/pools/127.0.0.1:8080/use/check-failed': 1,
            'sessions/pools/127.0.0.1:8080/use/failed': 1,
        });
    });

    it('names every stat as CONTRACT does', () => {
        expect(STAT_NAMES.map((name) => `sessions/${name}`)).toEqual([
            'sessions/init/check-passed',
            'sessions/init/check-failed',
            'sessions/init/check-error',
            'sessions/init/param-error',
            'sessions/init/failed',
            'sessions/use/check-passed',
            'sessions/use/check-failed',
            'sessions/use/check-error',
            'sessions/use/failed',
            'sessions/use/expired',
            'sessions/use/disabled',
        ]);
    });

    it('stats is a copy', async () => {
        const h = setup({ poolSize: 1 });
        await lease(h);
        const stats = h.manager.stats;
        stats['sessions/init/check-passed'] = 99;
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 1 });
    });
});

describe('leases', () => {
    it('an unknown lease is a TypeError', async () => {
        const h = setup({ poolSize: 1 });
        const l = await lease(h);
        const fake = { ...l };
        await expect(h.manager.check(fake, response(URL_A))).rejects.toThrow(
            'Unknown session lease: pass the lease that acquire() returned.',
        );
        expect(() => h.manager.downloadError(fake, 'x')).toThrow(TypeError);
        expect(() => h.manager.release(fake)).not.toThrow();
    });
});
