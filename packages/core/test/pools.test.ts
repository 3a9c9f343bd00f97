import { type ManagedSessionsOptions, NoSessionAvailableError, type SessionResponse } from '@managed-sessions/core';
import type { SessionLease } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { type Deferred, deferred, type Harness, isSettled, req, response, settle, setup } from './helpers.js';

const URL_A = 'https://shop.example/a';

async function lease(h: Harness, url = URL_A): Promise<SessionLease> {
    const got = await h.manager.acquire(req(url));
    if (!got) throw new Error('no lease');
    return got;
}

/** Names sessions A, B, C… in the order their inits started. */
function namer(h: Harness): (l: SessionLease) => string {
    return (l) => String.fromCharCode(65 + h.site.sessionIds.indexOf(l.session.id));
}

/** Init downloads wait until the test resolves them, in order. */
function heldInits(h: Harness): Deferred<SessionResponse>[] {
    const held: Deferred<SessionResponse>[] = [];
    h.site.respond = () => {
        const d = deferred<SessionResponse>();
        held.push(d);
        return d.promise;
    };
    return held;
}

describe('lazy fill', () => {
    it('the first `size` requests each trigger exactly one init, later ones none', async () => {
        const h = setup({ poolSize: 3 });
        const downloads: number[] = [];
        for (let i = 0; i < 6; i++) {
            await lease(h, `https://shop.example/${i}`);
            await settle();
            downloads.push(h.site.calls.length);
        }
        expect(downloads).toEqual([1, 2, 3, 3, 3, 3]);
        expect(h.site.urls).toEqual(['https://shop.example/0', 'https://shop.example/1', 'https://shop.example/2']);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 3 });
    });

    it('a burst of 20 requests on a pool of 3 makes exactly 3 inits and serves all', async () => {
        const h = setup({ poolSize: 3 });
        const held = heldInits(h);
        const burst = Array.from({ length: 20 }, (_, i) => h.manager.acquire(req(`https://shop.example/${i}`)));
        await settle();
        expect(h.site.calls).toHaveLength(3);
        expect(h.manager.pools()).toEqual([
            { id: 'shop.example', size: 3, ready: 0, initializing: 3, waiting: 20, discarded: 0 },
        ]);
        for (const d of held) d.resolve(response(URL_A));
        const leases = await Promise.all(burst);
        expect(leases.every((l) => l !== undefined)).toBe(true);
        expect(h.site.calls).toHaveLength(3);
        expect(h.manager.pools()).toEqual([
            { id: 'shop.example', size: 3, ready: 3, initializing: 0, waiting: 0, discarded: 0 },
        ]);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 3 });
    });

    it('each pool fills on its own', async () => {
        const h = setup({ poolSize: 2 });
        await lease(h, 'https://shop.example/1');
        await lease(h, 'https://blog.example/1');
        await lease(h, 'https://blog.example/2');
        await lease(h, 'https://blog.example/3');
        await settle();
        expect(h.manager.pools().map(({ id, ready }) => ({ id, ready }))).toEqual([
            { id: 'shop.example', ready: 1 },
            { id: 'blog.example', ready: 2 },
        ]);
        expect(h.site.calls).toHaveLength(3);
    });
});

describe('rotation', () => {
    it('with delay 0 rotates A, B, C, A, B, C', async () => {
        const h = setup({ poolSize: 3 });
        const name = namer(h);
        const fill = await Promise.all([1, 2, 3].map(() => lease(h)));
        expect(fill.map(name)).toEqual(['A', 'B', 'C']);
        const order: string[] = [];
        for (let i = 0; i < 6; i++) {
            const l = await lease(h);
            order.push(name(l));
            h.manager.release(l);
        }
        expect(order).toEqual(['A', 'B', 'C', 'A', 'B', 'C']);
    });

    it('each of the first `size` requests gets the session its own init made', async () => {
        const h = setup({ poolSize: 3 });
        const name = namer(h);
        const order: string[] = [];
        for (let i = 0; i < 7; i++) {
            // Time passes between requests: A is free when B's init starts, yet the second request
            // waits for B, so the pool fills with sessions that are each used.
            await h.clock.advance(1_000);
            const l = await lease(h);
            order.push(name(l));
            h.manager.release(l);
        }
        expect(order).toEqual(['A', 'B', 'C', 'A', 'B', 'C', 'A']);
        expect(h.site.calls).toHaveLength(3);
    });
});

describe('delay', () => {
    function delayed(options: ManagedSessionsOptions, random = 0.5) {
        return setup({ poolSize: 1, delay: 2, ...options }, { random: () => random });
    }

    async function waitMs(h: Harness): Promise<[number, string, string]> {
        const first = await lease(h);
        const started = h.clock.now();
        const second = h.manager.acquire(req(URL_A));
        let waited = 0;
        while (!(await isSettled(second))) {
            await h.clock.advance(1);
            waited++;
            if (waited > 10_000) throw new Error('never served');
        }
        const got = (await second)!;
        expect(h.clock.now() - started).toBe(waited);
        return [waited, first.session.id, got.session.id];
    }

    it('is honoured between assignments: not before, exactly at', async () => {
        const h = delayed({ randomizeDelay: false });
        const first = await lease(h);
        // Releasing early changes nothing: delay counts from the assignment.
        await h.clock.advance(500);
        h.manager.release(first);
        const second = h.manager.acquire(req(URL_A));
        await h.clock.advance(1_499);
        expect(await isSettled(second)).toBe(false);
        expect(h.manager.pools()[0]).toMatchObject({ ready: 1, waiting: 1 });
        await h.clock.advance(1);
        expect((await second)?.session.id).toBe(first.session.id);
        // The next one counts from the second assignment.
        const third = h.manager.acquire(req(URL_A));
        await h.clock.advance(1_999);
        expect(await isSettled(third)).toBe(false);
        await h.clock.advance(1);
        expect((await third)?.session.id).toBe(first.session.id);
        expect(h.site.calls).toHaveLength(1);
    });

    it.each([
        ['random 0 → ×0.5', 0, 1_000],
        ['random 0.5 → ×1', 0.5, 2_000],
        ['random 0.75 → ×1.25', 0.75, 2_500],
        ['random → 1 → ×1.5', 1 - Number.EPSILON, 3_000],
    ])('randomizeDelay: %s', async (_what, random, ms) => {
        const [waited, a, b] = await waitMs(delayed({ randomizeDelay: true }, random));
        expect(waited).toBe(ms);
        expect(b).toBe(a);
    });

    it('randomizeDelay: false ignores the random factor', async () => {
        const [waited] = await waitMs(delayed({ randomizeDelay: false }, 0));
        expect(waited).toBe(2_000);
    });

    it('pools[id].randomizeDelay overrides the global option', async () => {
        const [waited] = await waitMs(delayed({ pools: { 'shop.example': { randomizeDelay: false } } }, 0));
        expect(waited).toBe(2_000);
    });

    it('serves waiters in arrival order, one per delay', async () => {
        const h = delayed({ randomizeDelay: false });
        await lease(h, 'https://shop.example/0');
        const served: string[] = [];
        const waiting = [1, 2, 3].map((i) =>
            h.manager.acquire(req(`https://shop.example/${i}`)).then(() => served.push(`${i}@${h.clock.now()}`)),
        );
        const start = h.clock.now();
        await h.clock.advance(6_000);
        await Promise.all(waiting);
        expect(served).toEqual([`1@${start + 2_000}`, `2@${start + 4_000}`, `3@${start + 6_000}`]);
    });

    it('uses another session that is due instead of waiting', async () => {
        const h = setup({ poolSize: 2, delay: 2, randomizeDelay: false });
        const name = namer(h);
        const [a, b] = await Promise.all([lease(h), lease(h)]);
        expect([name(a), name(b)]).toEqual(['A', 'B']);
        const third = h.manager.acquire(req(URL_A));
        await h.clock.advance(1_999);
        expect(await isSettled(third)).toBe(false);
        await h.clock.advance(1);
        expect(name((await third)!)).toBe('A');
    });

    it('with delay 0 one session serves several requests at once', async () => {
        const h = setup({ poolSize: 1 });
        const leases = await Promise.all([1, 2, 3].map((i) => lease(h, `https://shop.example/${i}`)));
        expect(new Set(leases.map((l) => l.session.id)).size).toBe(1);
        expect(h.site.calls).toHaveLength(1);
    });
});

describe('exclusive', () => {
    it('a second request waits until the first releases the session', async () => {
        const h = setup({ poolSize: 1, exclusive: true });
        const first = await lease(h);
        const second = h.manager.acquire(req(URL_A));
        await h.clock.advance(30_000);
        expect(await isSettled(second)).toBe(false);
        expect(h.manager.pools()[0]).toMatchObject({ ready: 1, waiting: 1 });
        h.manager.release(first);
        expect((await second)?.session.id).toBe(first.session.id);
        expect(h.site.calls).toHaveLength(1);
    });

    it('releasing twice frees the session once', async () => {
        const h = setup({ poolSize: 1, exclusive: true });
        const first = await lease(h);
        const second = h.manager.acquire(req(URL_A));
        const third = h.manager.acquire(req(URL_A));
        h.manager.release(first);
        h.manager.release(first);
        await settle();
        expect(await isSettled(second)).toBe(true);
        expect(await isSettled(third)).toBe(false);
        h.manager.release((await second)!);
        expect(await isSettled(third)).toBe(true);
    });

    it('honours delay after the release', async () => {
        const h = setup({ poolSize: 1, exclusive: true, delay: 2, randomizeDelay: false });
        const first = await lease(h);
        const second = h.manager.acquire(req(URL_A));
        await h.clock.advance(500);
        h.manager.release(first);
        await h.clock.advance(1_499);
        expect(await isSettled(second)).toBe(false);
        await h.clock.advance(1);
        expect(await isSettled(second)).toBe(true);
    });

    it('hands a released session to a waiter while other sessions stay busy', async () => {
        const h = setup({ poolSize: 2, pools: { 'shop.example': { exclusive: true } } });
        const name = namer(h);
        const [a, b] = await Promise.all([lease(h), lease(h)]);
        const third = h.manager.acquire(req(URL_A));
        await settle();
        expect(await isSettled(third)).toBe(false);
        h.manager.release(b);
        expect(name((await third)!)).toBe('B');
        expect(name(a)).toBe('A');
    });
});

describe('waiting for a session', () => {
    it('waits without polling and fails after waitTimeoutSecs with a clear error', async () => {
        const h = setup({ poolSize: 1 });
        const held = heldInits(h);
        const attempt = h.manager.acquire(req(URL_A));
        const outcome = attempt.catch((error: unknown) => error);
        await settle();
        // One timer: the wait limit. Nothing polls.
        expect(h.clock.pendingTimers).toBe(1);
        expect(h.manager.pools()).toEqual([
            { id: 'shop.example', size: 1, ready: 0, initializing: 1, waiting: 1, discarded: 0 },
        ]);
        await h.clock.advance(59_999);
        expect(await isSettled(attempt)).toBe(false);
        await h.clock.advance(1);
        const error = await outcome;
        expect(error).toBeInstanceOf(NoSessionAvailableError);
        expect((error as NoSessionAvailableError).message).toBe(
            'No session of pool shop.example became ready for https://shop.example/a within 60s ' +
                '(size 1, ready 0, initializing 1, consecutive failed inits 0). Raise waitTimeoutSecs or the pool size, ' +
                'lower delay, or check why inits are slow or failing.',
        );
        expect((error as NoSessionAvailableError).pool).toBe('shop.example');
        expect((error as NoSessionAvailableError).url).toBe(URL_A);
        expect((error as NoSessionAvailableError).code).toBe('ERR_NO_SESSION_AVAILABLE');
        expect(h.clock.pendingTimers).toBe(0);
        expect(h.manager.pools()[0]).toMatchObject({ waiting: 0, initializing: 1 });

        // The init goes on; once it is ready, a request is served at once.
        held[0]!.resolve(response(URL_A));
        await settle();
        const next = h.manager.acquire(req(URL_A));
        expect(await isSettled(next)).toBe(true);
        expect(h.site.calls).toHaveLength(1);
    });

    it('is woken by a ready session, whatever the time', async () => {
        const h = setup({ poolSize: 1 });
        const held = heldInits(h);
        const attempt = h.manager.acquire(req(URL_A));
        await h.clock.advance(10_000);
        held[0]!.resolve(response(URL_A));
        expect(await isSettled(attempt)).toBe(true);
        expect(h.clock.pendingTimers).toBe(0);
    });

    it('counts a delay wait toward waitTimeoutSecs, and leaves no timer behind', async () => {
        const h = setup({ poolSize: 1, delay: 10, randomizeDelay: false, waitTimeoutSecs: 5 });
        await lease(h);
        const attempt = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        await h.clock.advance(4_999);
        expect(await isSettled(attempt)).toBe(false);
        await h.clock.advance(1);
        expect(((await attempt) as Error).message).toContain(
            'within 5s (size 1, ready 1, initializing 0, consecutive failed inits 0)',
        );
        expect(h.clock.pendingTimers).toBe(0);
    });

    it('names the consecutive failed inits', async () => {
        const h = setup({ poolSize: 1, maxBadInits: 5, waitTimeoutSecs: 1 });
        const held = heldInits(h);
        const attempt = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        await settle();
        held[0]!.resolve(response(URL_A, 520));
        await settle();
        held[1]!.resolve(response(URL_A, 403));
        await h.clock.advance(1_000);
        expect(((await attempt) as Error).message).toContain(
            '(size 1, ready 0, initializing 1, consecutive failed inits 2)',
        );
    });
});
