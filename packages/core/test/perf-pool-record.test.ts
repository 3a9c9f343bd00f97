import { describe, expect, it } from 'vitest';
import { req, response, setup } from './helpers.js';

/**
 * The engine keeps one record per live pool (pools/directory.ts) and carries it on the lease, so a
 * request costs one pool lookup; the record also keeps the pool's report totals. This holds that
 * cache to the behaviour it replaced (its idle time and busy count: manager-eviction.test.ts).
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

describe('the per-pool record', () => {
    it('counts acquires into fresh report totals once the pool’s totals were folded away for MAX_POOL_TOTALS', async () => {
        const h = setup({ poolSize: 1 });
        await use(h, 'https://first.example/1');
        // MAX_POOL_TOTALS newer pools: the oldest pool's totals (first.example's) are folded away.
        for (let i = 0; i < MAX_POOL_TOTALS; i++) await use(h, `https://h${i}.example/`);
        // Still live (nothing is idle long enough to be evicted): its sessions serve without an init.
        for (let i = 0; i < 3; i++) await use(h, 'https://first.example/again');
        const first = h.manager.sessionReport().pools.find((pool) => pool.id === 'first.example');
        expect(first?.totals).toEqual({
            poolId: 'first.example',
            sessions: 0,
            initsPassed: 0,
            initsFailed: 0,
            initMsTotal: 0,
            initMsMax: 0,
            failedInitMsTotal: 0,
            acquires: 3,
            waitMsTotal: 0,
            waitMsMax: 0,
            ended: {},
        });
        expect(h.site.calls).toHaveLength(MAX_POOL_TOTALS + 1);
    }, 60_000);
});
