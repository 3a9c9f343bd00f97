import { SessionCheckFailedError, SessionConfig, type SessionResponse } from '@managed-sessions/core';
import type { SessionLease } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { req, response, setup } from './helpers.js';

const URL = 'https://shop.example/p';
const EXPIRED = response(URL, 200, '<h1 id="expired">Session expired</h1>');

class ExpiryAwareConfig extends SessionConfig {
    override check(res: SessionResponse) {
        return !res.body.includes('id="expired"');
    }
}

/** Park–Miller minimal standard PRNG: the same seed gives the same draws on every machine. */
function seeded(seed: number): () => number {
    let state = seed;
    return () => {
        state = (state * 48271) % 2147483647;
        return state / 2147483647;
    };
}

/**
 * One session at a time (poolSize 1) on a site whose every page of a live session bans it with
 * probability `banRate` (from then on the session gets the expired page), or that expires session n
 * after `lifetime(n)` uses. A failed check is retried on the replacement, as Crawlee would. Returns every request
 * the site received, inits included, and the pool's learned lifetime.
 */
async function crawl(
    options: { adaptiveLifetime: boolean },
    pages: number,
    site: { banRate: number; seed: number } | { lifetime: (session: number) => number },
) {
    const h = setup({ poolSize: 1, ...options });
    h.registry.register(ExpiryAwareConfig, { include: 'shop.example' });
    const random = 'seed' in site ? seeded(site.seed) : () => 1;
    const banned = new Set<string>();
    const uses = new Map<string, number>();
    const order: string[] = [];
    let useRequests = 0;
    const attempt = async (): Promise<boolean> => {
        const lease = (await h.manager.acquire(req(URL))) as SessionLease;
        const id = lease.session.id;
        if (!uses.has(id)) order.push(id);
        useRequests++;
        const used = uses.get(id) ?? 0;
        let expired: boolean;
        if ('lifetime' in site) expired = used >= site.lifetime(order.indexOf(id));
        else {
            if (!banned.has(id) && random() < site.banRate) banned.add(id);
            expired = banned.has(id);
        }
        if (!expired) uses.set(id, used + 1);
        try {
            await h.manager.check(lease, expired ? EXPIRED : response(URL));
            return true;
        } catch (error) {
            if (!(error instanceof SessionCheckFailedError)) throw error;
            return false;
        } finally {
            h.manager.release(lease);
        }
    };
    for (let i = 0; i < pages; i++) {
        // A fresh session may be banned on its first page too: retry until one serves it.
        let tries = 1;
        while (!(await attempt())) expect(++tries).toBeLessThan(10);
    }
    return {
        requests: useRequests + h.site.calls.length,
        lifetime: h.manager.pools()[0]!.lifetime,
        stats: h.manager.stats,
    };
}

describe('adaptive lifetime under random bans', () => {
    // Each page bans its session with probability 5 %: lifetimes are geometric (mean 20 pages), nothing
    // about them repeats, and retiring sessions early only adds inits.
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
        it(`learns no lifetime and costs no requests (seed ${seed})`, async () => {
            const on = await crawl({ adaptiveLifetime: true }, 2_000, { banRate: 0.05, seed });
            const off = await crawl({ adaptiveLifetime: false }, 2_000, { banRate: 0.05, seed });
            expect(on.lifetime).toBeUndefined();
            expect(on.stats['sessions/use/expired']).toBeUndefined();
            // Same seed, same draws, same sessions: exactly the same requests.
            expect(on.requests).toBe(off.requests);
        });
    }

    /** Session n lives 19, 20 or 21 uses, unless a ban (chance `banRate` per page) cuts it short. */
    function fixedLifetime(seed: number, banRate: number) {
        const draw = seeded(seed);
        const lifetimes: number[] = [];
        return (n: number) => {
            while (lifetimes.length <= n) {
                let ban = 0;
                while (ban < 21 && draw() >= banRate) ban++;
                lifetimes.push(Math.min(ban, 19 + Math.floor(draw() * 3)));
            }
            return lifetimes[n]!;
        };
    }

    it('learns a fixed lifetime of 20 ± 1 uses and saves the wasted request of each expiry', async () => {
        const on = await crawl({ adaptiveLifetime: true }, 2_000, { lifetime: fixedLifetime(11, 0) });
        const off = await crawl({ adaptiveLifetime: false }, 2_000, { lifetime: fixedLifetime(11, 0) });
        expect(on.lifetime?.uses).toBe(19);
        // Off: 1 init + ~20 pages + 1 expired page per session; on: 1 init + 19 pages.
        expect(on.requests / off.requests).toBeLessThan(0.97);
    });

    it('still learns it when 5 % random bans cut most sessions short, and still saves requests', async () => {
        const on = await crawl({ adaptiveLifetime: true }, 2_000, { lifetime: fixedLifetime(11, 0.05) });
        const off = await crawl({ adaptiveLifetime: false }, 2_000, { lifetime: fixedLifetime(11, 0.05) });
        // Only the 38 % of sessions that escape a ban reach the site's expiry, so there is less to save.
        expect(on.lifetime?.uses).toBe(19);
        expect(on.stats['sessions/use/expired']).toBeGreaterThan(10);
        expect(on.requests / off.requests).toBeLessThan(0.995);
    });
});
