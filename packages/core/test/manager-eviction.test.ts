import { SessionControlError } from '@managed-sessions/core';
import { describe, expect, it } from 'vitest';
import { req, response, setup } from './helpers.js';

/** The default of the option poolIdleSecs, and MAX_LIVE_POOLS of pools/directory.ts. */
const IDLE_MS = 5 * 60_000;
const MAX_LIVE = 20_000;

async function use(h: ReturnType<typeof setup>, url: string, userData: Record<string, unknown> = {}) {
    const pending = h.manager.acquire(req(url, userData));
    await h.clock.advance(0);
    const lease = (await pending)!;
    await h.manager.check(lease, response(url));
    h.manager.release(lease);
    return lease;
}

describe('idle pools', () => {
    it('are evicted after a while unused; their stats stay and a pool that comes back gets its sessions again', async () => {
        const h = setup({ poolSize: 1, delay: 10, randomizeDelay: false });
        const first = await use(h, 'https://a.example/1');
        await h.clock.advance(IDLE_MS);
        await use(h, 'https://b.example/1');
        expect(h.manager.evictedPools).toBe(1);
        expect(h.manager.pools().map((pool) => pool.id)).toEqual(['b.example', 'a.example']);
        // The saved record still holds a.example's session.
        expect(h.manager.snapshot(true).pools.map((pool) => [pool.id, pool.sessions.length])).toEqual([
            ['b.example', 1],
            ['a.example', 1],
        ]);
        const again = await use(h, 'https://a.example/2');
        expect(again.session.id).toBe(first.session.id);
        expect(h.site.calls).toHaveLength(2);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-passed': 3 });
        expect(h.manager.pools().map((pool) => [pool.id, pool.ready])).toEqual([
            ['b.example', 1],
            ['a.example', 1],
        ]);
    });

    it('are never evicted with a lease out or a request waiting', async () => {
        const h = setup({ poolSize: 1, exclusive: true });
        const held = h.manager.acquire(req('https://a.example/1'));
        await h.clock.advance(0);
        const lease = (await held)!;
        // It times out while the clock runs: caught at once, so the rejection is not unhandled.
        const waiting = h.manager.acquire(req('https://c.example/1')).catch(() => undefined);
        h.site.respond = () => new Promise(() => undefined);
        await h.clock.advance(IDLE_MS);
        h.site.respond = (call) => response(call.url);
        await use(h, 'https://b.example/1');
        expect(h.manager.evictedPools).toBe(0);
        h.manager.release(lease);
        await waiting;
    });

    it('with a short poolIdleSecs, a crawl over many hosts keeps only the recently used pools live', async () => {
        const h = setup({ poolSize: 1, poolIdleSecs: 1 });
        for (let i = 0; i < 300; i++) {
            await use(h, `https://h${i}.example/`);
            await h.clock.advance(100);
        }
        // Sweeps run at most every tenth of poolIdleSecs, when a pool is created: the pools used in the
        // last second stay: at the last creation (29.9 s) the pools of hosts 0-289, last used 1 s ago or
        // more, were evicted.
        expect(h.manager.evictedPools).toBe(290);
        expect(h.manager.pools().filter((pool) => pool.ready === 1)).toHaveLength(300);
        // The first host's pool comes back with its parked session, without an init.
        const inits = h.site.calls.length;
        await use(h, 'https://h0.example/again');
        expect(h.site.calls).toHaveLength(inits);
    });

    it('keep their idle times across the 12-day epoch move (pools last used before and after it)', async () => {
        // The directory counts pools' last use from an epoch it moves every 2^30 ms (12.4 days).
        const EPOCH_MOVE_MS = 2 ** 30;
        const h = setup({ poolSize: 1, poolIdleSecs: 60 });
        await h.clock.advance(EPOCH_MOVE_MS - 20_000);
        await use(h, 'https://v.example/');
        await h.clock.advance(30_000);
        // w's acquire moves the epoch; v (idle 30 s) stays.
        await use(h, 'https://w.example/');
        expect(h.manager.evictedPools).toBe(0);
        await h.clock.advance(40_000);
        // v was last used before the move, 70 s ago: evicted. w, 40 s ago: kept.
        await use(h, 'https://x.example/');
        expect(h.manager.evictedPools).toBe(1);
        await h.clock.advance(30_000);
        await use(h, 'https://y.example/');
        expect(h.manager.evictedPools).toBe(2);
        expect(h.manager.pools().map((pool) => pool.id)).toEqual(['x.example', 'y.example', 'v.example', 'w.example']);
    });

    it(`above ${MAX_LIVE} live pools, the least recently used idle ones go even before poolIdleSecs`, async () => {
        const h = setup({ poolSize: 1 });
        for (let i = 0; i < MAX_LIVE + 10; i++) await use(h, `https://h${i}.example/`);
        // At MAX_LIVE live pools, the least recently used go down to nine tenths, once.
        expect(h.manager.evictedPools).toBe(MAX_LIVE / 10);
        // The newest 1,000 parked sessions are kept: the last evicted pool comes back without an init,
        // the first one (its session dropped from the parked ones) with one.
        const inits = h.site.calls.length;
        await use(h, `https://h${MAX_LIVE / 10 - 1}.example/again`);
        expect(h.site.calls).toHaveLength(inits);
        await use(h, 'https://h0.example/again');
        expect(h.site.calls).toHaveLength(inits + 1);
    }, 120_000);
});

describe('pool ids', () => {
    it('longer than 512 characters fail the request, naming the limit', async () => {
        const h = setup();
        const id = 'x'.repeat(513);
        const error = await h.manager.acquire(req('https://a.example/', { sessionPool: id })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SessionControlError);
        expect((error as Error).message).toBe(
            'Invalid request.userData.sessionPool for https://a.example/: the pool id is 513 characters long; ' +
                'the limit is 512 (MAX_POOL_ID_LENGTH). Use a shorter id.',
        );
        expect((await use(h, 'https://a.example/', { sessionPool: 'x'.repeat(512) })).poolId).toHaveLength(512);
    });
});

describe('the session report of many pools', () => {
    it('shows the 100 most active pools and counts the rest', async () => {
        const h = setup({ poolSize: 1 });
        for (let i = 0; i < 150; i++) await use(h, `https://h${i}.example/`);
        // One pool busier than the others stays in.
        for (let i = 0; i < 3; i++) await use(h, 'https://h149.example/more');
        const data = h.manager.sessionReport();
        expect(data.pools).toHaveLength(100);
        expect(data.omittedPools).toBe(50);
        expect(data.pools.map((pool) => pool.id)).toContain('h149.example');
        expect(h.manager.renderReport()).toContain('; 50 less active pool(s) are left out');
    });
});
