import { afterEach, describe, expect, it } from 'vitest';
import { type DemoSite, type ProxyExits, startDemoSite, startProxyExits } from '../src/index.js';
import { get, newSession, viaProxy, viaTunnel } from './helpers.js';

const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
    // Proxies first: they hold connections to the site.
    for (const close of closers.splice(0).reverse()) await close();
});

async function setup(
    count: number,
    options: Parameters<typeof startDemoSite>[0] = {},
    auth?: { username: string; password: string },
): Promise<{ site: DemoSite; proxies: ProxyExits }> {
    const site = await startDemoSite(options);
    closers.push(() => site.close());
    const proxies = await startProxyExits(count, { site, auth });
    closers.push(() => proxies.close());
    return { site, proxies };
}

describe('startProxyExits', () => {
    it('forwards through distinct exits and the site counts requests per exit', async () => {
        const { site, proxies } = await setup(3);
        expect(proxies.exits).toEqual([0, 1, 2]);
        expect(proxies.urls).toHaveLength(3);
        for (const url of proxies.urls) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

        const cookie = await newSession(site.url);
        await viaProxy(proxies.urls[0]!, `${site.url}/product/1`, { cookie });
        await viaProxy(proxies.urls[2]!, `${site.url}/product/1`, { cookie });
        const reply = await viaProxy(proxies.urls[2]!, `${site.url}/product/2`, { cookie });
        expect(reply.status).toBe(200);
        expect(reply.body).toContain('<article id="product" data-id="2">');
        expect(site.counters.exits).toEqual({ '0': 1, '2': 2 });
        expect(site.counters.requests).toBe(4);
    });

    it('overwrites an exit header sent by the client', async () => {
        const { site, proxies } = await setup(2);
        await viaProxy(proxies.urls[1]!, `${site.url}/`, { 'x-demo-exit': '0' });
        expect(site.counters.exits).toEqual({ '1': 1 });
    });

    it('a banned exit gets 403 for every page while the others and direct requests pass', async () => {
        const { site, proxies } = await setup(2, { bannedExits: [1] });
        const cookie = await newSession(site.url);
        const banned = await viaProxy(proxies.urls[1]!, `${site.url}/`, { cookie });
        expect(banned.status).toBe(403);
        expect(banned.body).toContain('<h1 id="forbidden">Access denied</h1><p id="reason">exit-banned</p>');
        expect((await viaProxy(proxies.urls[0]!, `${site.url}/product/1`, { cookie })).status).toBe(200);

        site.banExit(0);
        expect(site.bannedExits).toEqual([0, 1]);
        expect((await viaProxy(proxies.urls[0]!, `${site.url}/product/1`, { cookie })).status).toBe(403);
        expect((await get(`${site.url}/product/1`, { headers: { cookie } })).status).toBe(200);

        site.unbanExit(1);
        expect((await viaProxy(proxies.urls[1]!, `${site.url}/product/1`, { cookie })).status).toBe(200);
        expect(site.counters).toMatchObject({ bans: 2, exits: { '0': 2, '1': 2 } });
    });

    it('attributes CONNECT tunnels to the site to their exit', async () => {
        const { site, proxies } = await setup(2, { bannedExits: [0] });
        const cookie = await newSession(site.url);
        const ok = await viaTunnel(proxies.urls[1]!, `${site.url}/product/5`, { cookie });
        expect([ok.tunnelStatus, ok.status]).toEqual([200, 200]);
        expect(ok.body).toContain('<article id="product" data-id="5">');
        const banned = await viaTunnel(proxies.urls[0]!, `${site.url}/product/5`, { cookie });
        expect([banned.tunnelStatus, banned.status]).toEqual([200, 403]);
        expect(site.counters.exits).toEqual({ '0': 1, '1': 1 });
    });

    it('requires proxy credentials when auth is set, and puts them in the URLs', async () => {
        const auth = { username: 'crawler', password: 'p@ss:word' };
        const { site, proxies } = await setup(1, {}, auth);
        expect(proxies.urls[0]).toMatch(/^http:\/\/crawler:p%40ss%3Aword@127\.0\.0\.1:\d+$/);
        expect((await viaProxy(proxies.urls[0]!, `${site.url}/`)).status).toBe(200);

        const port = new URL(proxies.urls[0]!).port;
        expect((await viaProxy(`http://127.0.0.1:${port}`, `${site.url}/`)).status).toBe(407);
        expect((await viaProxy(`http://crawler:wrong@127.0.0.1:${port}`, `${site.url}/`)).status).toBe(407);
        expect((await viaTunnel(`http://127.0.0.1:${port}`, `${site.url}/`)).tunnelStatus).toBe(407);
        expect(site.counters.requests).toBe(1);
    });

    it('numbers exits per site across calls, and from 0 without a site', async () => {
        const { site, proxies } = await setup(2);
        const more = await startProxyExits(1, { site });
        closers.push(() => more.close());
        const standalone = await startProxyExits(2);
        closers.push(() => standalone.close());
        expect([proxies.exits, more.exits, standalone.exits]).toEqual([[0, 1], [2], [0, 1]]);
        await viaProxy(more.urls[0]!, `${site.url}/`);
        await viaProxy(standalone.urls[1]!, `${site.url}/`);
        expect(site.counters.exits).toEqual({ '1': 1, '2': 1 });
    });

    it('close() stops the proxies', async () => {
        const { site, proxies } = await setup(1);
        await viaProxy(proxies.urls[0]!, `${site.url}/`);
        await proxies.close();
        await expect(viaProxy(proxies.urls[0]!, `${site.url}/`)).rejects.toThrow(/ECONNREFUSED/);
    });

    it('rejects a bad count or empty credentials', async () => {
        await expect(startProxyExits(0)).rejects.toThrow(
            'Expected `count` to be an integer in [1, 1000], got `0` (number)',
        );
        await expect(startProxyExits(1, { auth: { username: 'u', password: '' } })).rejects.toThrow(
            'Expected `auth.password` to be a non-empty string, got `""` (string)',
        );
    });
});
