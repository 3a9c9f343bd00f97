import { EventEmitter } from 'node:events';
import { NoSessionAvailableError } from '@managed-sessions/core';
import {
    createCrawleeSession,
    ManagedSession,
    ManualClock,
    Pool,
    type PoolHost,
    type ResolvedPoolOptions,
    type TimerHandle,
} from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { isSettled, req, response, setup, silentLog } from './helpers.js';

const URL_A = 'https://shop.example/a';
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Longer than any Node timer can wait. */
const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;

/** A manual clock that counts the timers scheduled on it. */
class CountingClock extends ManualClock {
    scheduled = 0;
    readonly delays: number[] = [];

    override setTimeout(callback: () => void, ms: number): TimerHandle {
        this.scheduled++;
        this.delays.push(ms);
        return super.setTimeout(callback, ms);
    }
}

/** A pool on `clock` whose inits succeed at once, or never when `hang` is set. */
function pool(clock: ManualClock, options: Partial<ResolvedPoolOptions>, host: Partial<PoolHost> = {}) {
    const hub = new EventEmitter();
    const inits: ManagedSession[] = [];
    const full: PoolHost = {
        clock,
        random: () => 0.5,
        log: silentLog,
        waitTimeoutSecs: 60,
        maxUsageCount: undefined,
        maxAgeSecs: undefined,
        adaptiveLifetime: false,
        init: async (p) => {
            const managed = new ManagedSession(createCrawleeSession(hub, silentLog), p.id, undefined, clock.now());
            inits.push(managed);
            return managed;
        },
        expired: () => undefined,
        badInits: () => undefined,
        sessionFrom: () => {
            throw new Error('not shared');
        },
        ...host,
    };
    const created = new Pool(
        'shop.example',
        { size: 1, delay: 0, randomizeDelay: false, maxBadInits: 8, exclusive: false, ...options },
        full,
    );
    return { pool: created, inits };
}

describe('timers longer than 2^31-1 ms', () => {
    it('ManualClock fires them after 1 ms, as Node does', async () => {
        const clock = new ManualClock();
        let fired = 0;
        clock.setTimeout(() => fired++, THIRTY_DAYS_MS);
        await clock.advance(1);
        expect(fired).toBe(1);
    });

    it('a waitTimeoutSecs past 24.8 days waits its full length, not 1 ms', async () => {
        const clock = new CountingClock();
        const { pool: p } = pool(
            clock,
            {},
            { waitTimeoutSecs: THIRTY_DAYS_MS / 1000, init: () => new Promise(() => undefined) },
        );
        const waiting = Promise.resolve(p.acquire(req(URL_A))).catch((error: unknown) => error);
        await clock.advance(1_000);
        expect(await isSettled(waiting)).toBe(false);
        await clock.advance(THIRTY_DAYS_MS - 1_001);
        expect(await isSettled(waiting)).toBe(false);
        await clock.advance(1);
        const error = await waiting;
        expect(error).toBeInstanceOf(NoSessionAvailableError);
        expect((error as Error).message).toContain(`within ${THIRTY_DAYS_MS / 1000}s`);
        expect(Math.max(...clock.delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
        expect(clock.pendingTimers).toBe(0);
    });

    it('a delay past 24.8 days wakes the waiter once it is due, without a timer every millisecond', async () => {
        const clock = new CountingClock();
        const { pool: p, inits } = pool(clock, { delay: THIRTY_DAYS_MS / 1000 }, { waitTimeoutSecs: 40 * 24 * 3600 });
        const first = await p.acquire(req(URL_A));
        p.release(first);
        const second = Promise.resolve(p.acquire(req(URL_A)));
        await clock.advance(60_000);
        expect(await isSettled(second)).toBe(false);
        // The wait limit and one wake-up, not one per millisecond.
        expect(clock.scheduled).toBeLessThanOrEqual(3);
        await clock.advance(THIRTY_DAYS_MS - 60_001);
        expect(await isSettled(second)).toBe(false);
        await clock.advance(1);
        expect(await second).toBe(first);
        expect(inits).toHaveLength(1);
        expect(Math.max(...clock.delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
        expect(clock.scheduled).toBeLessThanOrEqual(5);
    });
});

describe('restored sessions with times from a skewed clock', () => {
    async function savedState(skewMs: number) {
        const h = setup({ poolSize: 1 });
        const lease = (await h.manager.acquire(req(URL_A)))!;
        await h.manager.check(lease, response(URL_A));
        h.manager.release(lease);
        const state = JSON.parse(JSON.stringify(h.manager.snapshot(true)));
        for (const session of state.pools[0].sessions) {
            session.nextUseAt = h.clock.now() + skewMs;
            session.createdAt = h.clock.now() + skewMs;
        }
        return { state, id: lease.session.id };
    }

    it('a nextUseAt years ahead does not block the pool: the session is used at once', async () => {
        const { state, id } = await savedState(10 * 365 * 24 * 3600 * 1000);
        const h = setup({ poolSize: 1, waitTimeoutSecs: 5 });
        expect(h.manager.restore(state)).toBe(1);
        const lease = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        await h.clock.advance(0);
        expect(await isSettled(lease)).toBe(true);
        expect(((await lease) as { session: { id: string } }).session.id).toBe(id);
        expect(h.site.calls).toHaveLength(0);
    });

    it('a nextUseAt ahead is honoured no longer than the pool delay', async () => {
        const { state, id } = await savedState(10 * 365 * 24 * 3600 * 1000);
        const h = setup({ poolSize: 1, delay: 3, randomizeDelay: false, waitTimeoutSecs: 60 });
        h.manager.restore(state);
        const lease = h.manager.acquire(req(URL_A));
        await h.clock.advance(2_999);
        expect(await isSettled(lease)).toBe(false);
        await h.clock.advance(1);
        expect((await lease)!.session.id).toBe(id);
        expect(h.site.calls).toHaveLength(0);
    });

    it('a createdAt in the future counts as now: maxAgeSecs still retires the session', async () => {
        const { state, id } = await savedState(365 * 24 * 3600 * 1000);
        const h = setup({ poolSize: 1, maxAgeSecs: 60 });
        h.manager.restore(state);
        const first = (await h.manager.acquire(req(URL_A)))!;
        expect(first.session.id).toBe(id);
        h.manager.release(first);
        await h.clock.advance(61_000);
        const second = h.manager.acquire(req(URL_A));
        await h.clock.advance(0);
        expect((await second)!.session.id).not.toBe(id);
        expect(h.site.calls).toHaveLength(1);
    });
});
