import { describe, expect, it } from 'vitest';
import { req, response, setup } from './helpers.js';

/**
 * Each live pool keeps the engine's bookkeeping about it on itself (`PoolUsage`, pools/usage.ts):
 * busy count, last use and its acquires, so a request costs one pool lookup and no report-totals
 * lookup. This holds the acquire count to what the report showed before (its idle time and busy
 * count: manager-eviction.test.ts).
 */

/** MAX_POOL_TOTALS of report/timeline.ts. */
const MAX_POOL_TOTALS = 10_000;

async function use(h: ReturnType<typeof setup>, url: string) {
    const pending = h.manager.acquire(req(url));
    await h.clock.advance(0);
    const lease = (await pending)!;
    await h.manager.check(lease, response(url));
    h.manager.release(lease);
    return lease;
}

describe('the acquires a pool counts', () => {
    it('a live pool loses none when its other report totals are folded away for MAX_POOL_TOTALS', async () => {
        const h = setup({ poolSize: 1 });
        await use(h, 'https://first.example/1');
        // MAX_POOL_TOTALS newer pools: the oldest pool's totals (first.example's) are folded away.
        for (let i = 0; i < MAX_POOL_TOTALS; i++) await use(h, `https://h${i}.example/`);
        // Still live (nothing is idle long enough to be evicted): its sessions serve without an init.
        for (let i = 0; i < 3; i++) await use(h, 'https://first.example/again');
        const first = h.manager.sessionReport().pools.find((pool) => pool.id === 'first.example');
        // The init totals went with the fold; the acquires are the live pool's own count.
        expect(first?.totals).toEqual({
            poolId: 'first.example',
            sessions: 0,
            initsPassed: 0,
            initsFailed: 0,
            initMsTotal: 0,
            initMsMax: 0,
            failedInitMsTotal: 0,
            acquires: 4,
            waitMsTotal: 0,
            waitMsMax: 0,
            ended: {},
        });
        expect(h.site.calls).toHaveLength(MAX_POOL_TOTALS + 1);
    }, 60_000);

    it('an evicted pool’s acquires stay in its totals, and its next life adds to them', async () => {
        const h = setup({ poolSize: 1, poolIdleSecs: 1 });
        for (let i = 0; i < 2; i++) await use(h, 'https://first.example/');
        await h.clock.advance(2_000);
        // Creating another pool sweeps: first.example has been idle past poolIdleSecs.
        await use(h, 'https://second.example/');
        expect(h.manager.evictedPools).toBe(1);
        const acquiresOf = (id: string) =>
            h.manager.sessionReport().pools.find((pool) => pool.id === id)?.totals.acquires;
        expect(acquiresOf('first.example')).toBe(2);
        await use(h, 'https://first.example/again');
        expect(acquiresOf('first.example')).toBe(3);
        expect(acquiresOf('second.example')).toBe(1);
    });
});
