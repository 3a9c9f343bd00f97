import { SessionCheckFailedError, SessionConfig, type SessionResponse } from '@managed-sessions/core';
import type { SessionLease } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { type Harness, req, response, setup } from './helpers.js';

const URL = 'https://shop.example/p';
const EXPIRED = response(URL, 200, '<h1 id="expired">Session expired</h1>');

/**
 * Drives one session at a time (poolSize 1) through a site that expires each session after
 * `lifetime(n)` successful uses (n = session number), for `requests` requests; a failed check is
 * retried once on the replacement, as Crawlee would.
 */
async function crawl(h: Harness, requests: number, lifetime: (session: number) => number) {
    const usesBySession = new Map<string, number>();
    const order: string[] = [];
    let siteRequests = 0;
    const attempt = async (): Promise<boolean> => {
        const lease = (await h.manager.acquire(req(URL))) as SessionLease;
        const id = lease.session.id;
        if (!usesBySession.has(id)) order.push(id);
        const used = usesBySession.get(id) ?? 0;
        siteRequests++;
        try {
            const expired = used >= lifetime(order.indexOf(id));
            if (!expired) usesBySession.set(id, used + 1);
            await h.manager.check(lease, expired ? EXPIRED : response(URL));
            return true;
        } catch (error) {
            if (!(error instanceof SessionCheckFailedError)) throw error;
            return false;
        } finally {
            h.manager.release(lease);
        }
    };
    for (let i = 0; i < requests; i++) {
        if (!(await attempt())) expect(await attempt()).toBe(true);
    }
    return { siteRequests, sessions: order.length };
}

/** The site shows an expired page with status 200: only a body check notices. */
class ExpiryAwareConfig extends SessionConfig {
    override check(res: SessionResponse) {
        return !res.body.includes('id="expired"');
    }
}

function expiredCheck(h: Harness) {
    h.registry.register(ExpiryAwareConfig, { include: 'shop.example' });
}

describe('adaptive session lifetime', () => {
    it('learns a lifetime of 20 uses and retires sessions just before the site expires them', async () => {
        const h = setup({ poolSize: 1 });
        expiredCheck(h);
        const { siteRequests } = await crawl(h, 400, () => 20);
        const stats = h.manager.stats;
        // Four expiries teach the lifetime; from then on sessions retire on their 20th use.
        expect(stats['sessions/use/check-failed']).toBe(4);
        expect(stats['sessions/use/expired']).toBe(400 / 20 - 4);
        expect(siteRequests).toBe(404);
        expect(h.manager.pools()[0]!.lifetime).toEqual({ uses: 20, samples: 4 });
    });

    it('ignores random bans among consistent expiries', async () => {
        const h = setup({ poolSize: 1 });
        expiredCheck(h);
        // Sessions 1 and 4 are banned early; the rest live 20 uses.
        await crawl(h, 300, (n) => (n === 1 ? 3 : n === 4 ? 7 : 20));
        // Learned after four samples (20, 3, 20, 20); session 4's early ban is the fifth and changes nothing.
        expect(h.manager.pools()[0]!.lifetime).toEqual({ uses: 20, samples: 5 });
    });

    it('learns nothing when expiries look random, and keeps replacing on failure', async () => {
        const h = setup({ poolSize: 1 });
        expiredCheck(h);
        const lifetimes = [3, 17, 8, 30, 12, 5, 25, 10, 2, 40, 14, 6];
        await crawl(h, 200, (n) => lifetimes[n % lifetimes.length]!);
        expect(h.manager.pools()[0]!.lifetime).toBeUndefined();
        expect(h.manager.stats['sessions/use/expired']).toBeUndefined();
    });

    it('is off when maxUsageCount is set or adaptiveLifetime is false', async () => {
        for (const options of [{ maxUsageCount: 50 }, { adaptiveLifetime: false }]) {
            const h = setup({ poolSize: 1, ...options });
            expiredCheck(h);
            await crawl(h, 200, () => 20);
            // Ten sessions; the last one's 20th use is the crawl's last request.
            expect(h.manager.stats['sessions/use/check-failed']).toBe(9);
            expect(h.manager.pools()[0]!.lifetime).toBeUndefined();
        }
    });

    it('learns an age lifetime when uses vary but the site expires sessions after a time', async () => {
        const h = setup({ poolSize: 1 });
        expiredCheck(h);
        const created = new Map<string, number>();
        // The site expires a session 30 s after its init; requests come in bursts (0.5 s apart) and pauses (9 s),
        // so the uses per session vary while the age at expiry does not.
        let failures = 0;
        let seed = 7;
        for (let i = 0; i < 400; i++) {
            seed = (seed * 48271) % 2147483647;
            await h.clock.advance(seed % 4 === 0 ? 9_000 : 500);
            const lease = (await h.manager.acquire(req(URL))) as SessionLease;
            const id = lease.session.id;
            if (!created.has(id)) created.set(id, h.clock.now());
            const expired = h.clock.now() - created.get(id)! >= 30_000;
            await h.manager.check(lease, expired ? EXPIRED : response(URL)).catch(() => failures++);
            h.manager.release(lease);
        }
        const lifetime = h.manager.pools()[0]!.lifetime!;
        expect(lifetime.uses).toBeUndefined();
        expect(lifetime.ageSecs).toBeGreaterThanOrEqual(27);
        expect(lifetime.ageSecs).toBeLessThan(30);
        expect(failures).toBe(lifetime.samples);
        expect(h.manager.stats['sessions/use/expired']).toBeGreaterThan(5);
    });
});
