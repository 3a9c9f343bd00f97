/**
 * Smoke tests of `examples/`: each example's `run()` crawls its own demo shop, and its outcome is
 * asserted exactly, so an example that stops working fails the suite instead of rotting.
 */
import { productName, productPrice } from '@managed-sessions/demo-site';
import { describe, expect, it } from 'vitest';
import { run as csrfHeader } from '../examples/csrf-header/main.js';
import { run as demo } from '../examples/demo/main.js';
import { run as locationPrices } from '../examples/location-prices/main.js';
import { run as loginChain } from '../examples/login-chain/main.js';
import { run as quickstart } from '../examples/quickstart/main.js';
import { run as siteConfigs } from '../examples/site-configs/main.js';
import { run as stickyProxy } from '../examples/sticky-proxy/main.js';

/** A `print` option that keeps the lines instead of writing them. */
function collect(): { lines: string[]; print: (line: string) => void } {
    const lines: string[] = [];
    return { lines, print: (line) => void lines.push(line) };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
/** Names of products 1 to `n` of a shop with `seed`, sorted. */
const names = (seed: number, n: number) =>
    ids(n)
        .map((id) => productName(seed, id))
        .sort();

describe('examples', () => {
    it('quickstart: scrapes the catalogue page and its 50 products with one pool of 8 sessions', async () => {
        const { lines, print } = collect();
        const result = await quickstart({ print });

        const scraped = Object.entries(result.products).map(([url, name]) => [Number(url.split('/').pop()), name]);
        expect(scraped.sort(([a], [b]) => Number(a) - Number(b))).toEqual(
            ids(50).map((id) => [id, productName(1, id)]),
        );
        expect(result.failed).toBe(0);
        expect(result.stats).toEqual({ 'sessions/init/check-passed': 8, 'sessions/use/check-passed': 51 });
        expect(result.pools).toHaveLength(1);
        expect(result.pools[0]).toMatchObject({ size: 8, ready: 8, initializing: 0, waiting: 0, discarded: 0 });
        // Inits == poolSize: every session was started by one home-page visit, none replaced.
        expect(result.site).toMatchObject({ inits: 8, bans: 0, pages: 51 });
        expect(lines[0]).toBe('Scraped 50 products with 8 sessions.');
    });

    it('site-configs: each shop gets its own config class, pool and check', async () => {
        const result = await siteConfigs({ print: () => {} });

        expect(result.configs).toEqual({ books: 'BookShopSessions', garden: 'GardenShopSessions' });
        expect(Object.values(result.books).sort()).toEqual(names(1, 15));
        // No challenge or expired page got through the garden shop's body check.
        expect(Object.values(result.garden).sort()).toEqual(names(2, 15));
        expect(result.failed).toBe(0);
        const garden = result.pools.find((pool) => pool.id === 'garden');
        const books = result.pools.find((pool) => pool.id !== 'garden');
        expect(result.pools).toHaveLength(2);
        expect(books).toMatchObject({ size: 3, ready: 3, discarded: 0 });
        expect(garden).toMatchObject({ id: 'garden', size: 2 });
        expect(result.site.books).toMatchObject({ inits: 3, bans: 0, expired: 0 });
        // Sessions of 5 uses for 15 pages: the body check caught every expired page (status 200).
        expect(result.site.garden.expired).toBeGreaterThan(0);
        expect(result.site.garden.challenges).toBe(0);
        expect(result.stats['sessions/use/check-failed']).toBe(result.site.garden.expired);
        expect(result.stats['sessions/use/check-passed']).toBe(30);
        // Each discarded garden session was replaced by a new one (a last replacement may still be starting).
        expect(garden!.discarded).toBeGreaterThan(0);
        expect(result.stats['sessions/init/check-passed']).toBeGreaterThanOrEqual(3 + 2 + garden!.discarded - 1);
    });

    it('location-prices: one pool per postal code, every price for its own postal code', async () => {
        const result = await locationPrices({ print: () => {} });

        const postalCodes = ['10001', '94103', '60601'];
        for (const postalCode of postalCodes) {
            expect(result.prices[postalCode]).toEqual(
                Object.fromEntries(ids(10).map((id) => [id, productPrice(1, id, postalCode).toFixed(2)])),
            );
            expect(new Set(Object.values(result.shown[postalCode] ?? {}))).toEqual(new Set([postalCode]));
        }
        expect(result.failed).toBe(0);
        const host = result.pools[0]!.id.split('@')[0];
        expect(result.pools.map((pool) => [pool.id, pool.size, pool.ready])).toEqual(
            postalCodes.map((postalCode) => [`${host}@${postalCode}`, 2, 2]),
        );
        expect(result.stats).toEqual({ 'sessions/init/check-passed': 6, 'sessions/use/check-passed': 30 });
        expect(result.site).toMatchObject({ inits: 6, bans: 0 });
        // Each init is the home page plus one POST /location.
        expect(result.site?.byPath['/location']).toBe(6);
    });

    it('csrf-header: processRequest() sends each session its own token', async () => {
        const result = await csrfHeader({ print: () => {} });

        expect(Object.values(result.products).map((p) => [p.id, p.name, p.price])).toEqual(
            ids(20).map((id) => [id, productName(1, id), productPrice(1, id)]),
        );
        expect(result.failed).toBe(0);
        expect(result.stats).toEqual({ 'sessions/init/check-passed': 3, 'sessions/use/check-passed': 20 });
        // Not one 403: every API call carried the token of the session that served it.
        expect(result.site).toMatchObject({ inits: 3, api: 20, bans: 0 });
    });

    it('login-chain: every session logs in through initSession() before it scrapes', async () => {
        const result = await loginChain({ print: () => {} });

        expect(result.products).toEqual(Object.fromEntries(ids(20).map((id) => [id, productName(1, id)])));
        expect(result.failed).toBe(0);
        expect(result.stats).toEqual({ 'sessions/init/check-passed': 3, 'sessions/use/check-passed': 20 });
        expect(result.site).toMatchObject({ inits: 3, logins: 3, bans: 0 });
    });

    it('sticky-proxy: each session keeps one exit; sessions on the banned exit are replaced', async () => {
        const { lines, print } = collect();
        const result = await stickyProxy({ print });

        expect(result.pages).toBe(30);
        expect(result.failed).toBe(0);
        const sessions = Object.entries(result.exitsBySession);
        expect(sessions).toHaveLength(4);
        for (const [, exits] of sessions) {
            expect(exits).toHaveLength(1);
            expect(exits[0]).not.toBe(result.bannedExit);
        }
        // The banned exit saw only init requests, each a failed init.
        const failedInits = result.stats['sessions/init/check-failed'] ?? 0;
        expect(failedInits).toBeGreaterThan(0);
        expect(result.site.exits[String(result.bannedExit)]).toBe(failedInits);
        expect(result.stats['sessions/init/check-passed']).toBe(4);
        expect(result.stats['sessions/use/check-passed']).toBe(30);
        // Proxy credentials never reach the output.
        expect(lines.join('\n')).not.toContain('s3cret');
    });

    it('demo: 1,023 pages for three postal codes, verified, well under a minute', { timeout: 120_000 }, async () => {
        const { lines, print } = collect();
        const result = await demo({ print, progressIntervalSecs: 1 });

        expect(result.problems).toEqual([]);
        expect(result.ok).toBe(true);
        expect(result.pages).toBe(1023);
        expect(result.expectedPages).toBe(1023);
        expect(result.failed).toBe(0);
        expect(result.closeReason).toBeUndefined();
        expect(result.pools.map((pool) => [pool.postalCode, pool.pages, pool.size])).toEqual([
            ['10001', 341, 8],
            ['94103', 341, 8],
            ['60601', 341, 8],
        ]);
        const stats = result.stats;
        expect(stats['sessions/use/check-passed']).toBe(1023);
        // Every expired page (status 200) was caught by the body check, and every 520/521 counted.
        expect(result.site.expired).toBeGreaterThan(0);
        expect(stats['sessions/use/check-failed']).toBe(result.site.expired);
        expect((stats['sessions/use/failed'] ?? 0) + (stats['sessions/init/failed'] ?? 0)).toBeGreaterThanOrEqual(
            result.site.errors520 + result.site.errors521,
        );
        // 20 uses per session, one of them the location: at least 1023 / 19 sessions.
        expect(stats['sessions/init/check-passed']).toBeGreaterThanOrEqual(Math.ceil(1023 / 19));
        expect(result.requests / result.pages).toBeLessThan(1.5);
        expect(result.seconds).toBeLessThan(60);
        expect(lines).toContainEqual(expect.stringMatching(/^\[ +\d+\.\ds\] pages +\d+\/1023 /));
        const table = /^pool +postal code +pages +ready\/size +inits +discarded$/;
        expect(lines).toContainEqual(expect.stringMatching(table));
        expect(lines.at(-1)).toMatch(
            /^Verified: all 1023 pages scraped once, every product priced for its own postal code\.$/,
        );
    });
});
