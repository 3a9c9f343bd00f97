import { CheerioCrawler } from '@crawlee/cheerio';
import { ProxyConfiguration, type Request } from '@crawlee/core';
import { createPlaywrightRouter, PlaywrightCrawler, type PlaywrightCrawlerOptions } from '@crawlee/playwright';
import {
    attachManagedSessions,
    getRequestSessionId,
    type InitRequest,
    isSessionInitRequest,
    type Location,
    LocationSessionConfig,
    type ManagedSessionsOptions,
    ManagedSessionsOptionsError,
    type RequestOverrides,
    SessionConfig,
    SessionConfigRegistry,
    type SessionResponse,
} from '@managed-sessions/crawlee';
import { type ProxyExits, startProxyExits } from '@managed-sessions/demo-site';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { describeWithChromium, launchContext } from './support/browser.js';
import { type JsShop, type ShopVisit, startJsShop } from './support/browser-site.js';
import { captureLog, queueCounts, testConfig } from './support/crawlee.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
});

async function shop(): Promise<JsShop> {
    const started = await startJsShop();
    closers.push(() => started.close());
    return started;
}

async function exits(count: number): Promise<ProxyExits> {
    const started = await startProxyExits(count, { auth: { username: 'crawler', password: 's3cret' } });
    closers.push(() => started.close());
    return started;
}

interface Handled {
    url: string;
    sessionId: string | undefined;
    /** `#product` and `#postal-code` as the page shows them. */
    product: string | null;
    postalCode: string | null;
}

/** The text of `selector` in the page as it is (no waiting), or `null` without one. */
async function textOf(page: Page, selector: string): Promise<string | null> {
    const element = await page.$(selector);
    return element ? element.textContent() : null;
}

/** A PlaywrightCrawler on fresh storage and system Chromium that records what each handled page shows. */
function playwright(extra: Partial<PlaywrightCrawlerOptions> = {}) {
    const handled: Handled[] = [];
    const { log, lines } = captureLog();
    const crawler = new PlaywrightCrawler(
        {
            log,
            launchContext: launchContext(),
            maxConcurrency: 1,
            maxRequestRetries: 2,
            navigationTimeoutSecs: 15,
            requestHandler: async ({ request, page }) => {
                handled.push({
                    url: request.url,
                    sessionId: getRequestSessionId(request),
                    product: await textOf(page, '#product'),
                    postalCode: await textOf(page, '#postal-code'),
                });
            },
            ...extra,
        },
        testConfig(),
    );
    return { crawler, handled, lines };
}

function attach(crawler: PlaywrightCrawler | CheerioCrawler, options: ManagedSessionsOptions = {}) {
    return attachManagedSessions(crawler, { statusIntervalSecs: 0, ...options });
}

/** Sets the location through the shop's form, which only exists once the page's script ran. */
class ShopLocation extends LocationSessionConfig {
    override locationParams(request: Request, location: Location): InitRequest {
        return {
            url: `${new URL(request.url).origin}/`,
            pageActions: async (page) => {
                const tab = page as Page;
                await tab.fill('#postal-code-input', location.postalCode!);
                await Promise.all([tab.waitForURL('**/location'), tab.click('#save')]);
            },
        };
    }

    /** The rendered `#postal-code`: the server's HTML only has it as script data. */
    override locationCheck(response: SessionResponse, _request: Request, _session: unknown, location: Location) {
        return response.body.includes(`<span id="postal-code">${location.postalCode}</span>`);
    }

    override processRequest(): RequestOverrides {
        return { headers: { 'x-shop-location': 'set' } };
    }
}

function registryFor(site: JsShop, config: typeof SessionConfig): SessionConfigRegistry {
    const registry = new SessionConfigRegistry();
    registry.register(config, { include: site.host });
    return registry;
}

const products = (site: JsShop, ids: number[]) => ids.map((id) => `${site.url}/product/${id}`);
const productVisits = (site: JsShop) => site.visits.filter((visit) => visit.path.startsWith('/product/'));
function bySession(visits: ShopVisit[]): Map<string, ShopVisit[]> {
    const groups = new Map<string, ShopVisit[]>();
    for (const visit of visits) groups.set(visit.sid ?? '-', [...(groups.get(visit.sid ?? '-') ?? []), visit]);
    return groups;
}

describe('PlaywrightCrawler without a browser', () => {
    it('refuses a crawler without incognito pages, saying how to fix it', () => {
        const crawler = new PlaywrightCrawler(
            { launchContext: { ...launchContext(), useIncognitoPages: false }, requestHandler: () => undefined },
            testConfig(),
        );
        expect(() => attachManagedSessions(crawler)).toThrow(ManagedSessionsOptionsError);
        expect(() => attachManagedSessions(crawler)).toThrow(
            "attachManagedSessions() needs incognito pages in a PlaywrightCrawler: each session's page must have " +
                'its own browser context, for its cookies and its proxy. Create the crawler with ' +
                'new PlaywrightCrawler({ launchContext: { useIncognitoPages: true }, … }).',
        );
    });

    it('a CheerioCrawler makes an init with pageActions as a plain HTTP request, and says so once', async () => {
        const site = await shop();
        const { log, lines } = captureLog();
        const crawler = new CheerioCrawler({ log, maxConcurrency: 1, requestHandler: () => undefined }, testConfig());
        const sessions = attach(crawler, {
            poolSize: 2,
            params: { url: `${site.url}/`, pageActions: async () => undefined },
        });
        await crawler.run(products(site, [1, 2]));

        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-passed': 2 });
        expect(site.visits.filter((visit) => visit.path === '/')).toHaveLength(2);
        expect(lines.filter((line) => line.includes('pageActions'))).toEqual([
            'An init request has pageActions, which only browser crawlers (PlaywrightCrawler) run; ' +
                'this crawler makes it as a plain HTTP request.',
        ]);
    });
});

describeWithChromium('PlaywrightCrawler', () => {
    it('HTTP inits serve the browser: each page has its session cookies, sticky proxy exit and the cookies its scripts set', async () => {
        const site = await shop();
        const proxies = await exits(3);
        // A proxy configuration that rotates on every call: stickiness must come from the session.
        let calls = 0;
        const { crawler, handled } = playwright({
            maxConcurrency: 2,
            proxyConfiguration: new ProxyConfiguration({ newUrlFunction: () => proxies.urls[calls++ % 3]! }),
        });
        // Exclusive: each session serves one page at a time, so its cookie history is ordered.
        const sessions = attach(crawler, { poolSize: 2, exclusive: true, params: { url: `${site.url}/` } });
        await crawler.run(products(site, [1, 2, 3, 4, 5, 6]));

        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-passed': 6 });
        // The inits: two HTTP GET / without cookies, through the two exits the sessions got.
        const inits = site.visits.filter((visit) => visit.path === '/');
        expect(inits.map((visit) => visit.sid)).toEqual([undefined, undefined]);
        expect(new Set(site.createdVia.values())).toEqual(new Set(proxies.exits.slice(0, 2).map(String)));
        // Every page: the session's cookie only, through the exit the session was created through.
        const pages = productVisits(site);
        expect(pages).toHaveLength(6);
        for (const visit of pages) {
            expect(visit.headers.cookie?.match(/sid=/g)).toHaveLength(1);
            expect(visit.exit).toBe(site.createdVia.get(visit.sid!));
        }
        // The `viewed` cookie, set by each page's script, reached the session and its next page only.
        const groups = bySession(pages);
        expect([...groups.keys()].sort()).toEqual(['s1', 's2']);
        for (const visits of groups.values()) {
            expect(visits.map((visit) => visit.viewed)).toEqual([
                undefined,
                ...visits.slice(0, -1).map((visit) => visit.path.split('/').pop()),
            ]);
        }
        expect(handled.map((page) => page.product).sort()).toEqual([1, 2, 3, 4, 5, 6].map((id) => `Product ${id}`));
        expect(await queueCounts(crawler)).toMatchObject({ handled: 6, failed: 0, pending: 0 });
    });

    it('pageActions run the init in a browser page of the session; checks see the rendered page', async () => {
        const site = await shop();
        const proxies = await exits(2);
        const router = createPlaywrightRouter();
        const shown: { label: string; postalCode: string | null }[] = [];
        router.addHandler('product', async ({ page }) => {
            shown.push({ label: 'product', postalCode: await page.locator('#postal-code').textContent() });
        });
        const { crawler } = playwright({
            maxConcurrency: 2,
            proxyConfiguration: new ProxyConfiguration({ proxyUrls: [...proxies.urls] }),
            requestHandler: router,
        });
        const sessions = attach(crawler, {
            poolSize: 2,
            location: { postalCode: '10001' },
            registry: registryFor(site, ShopLocation),
        });
        await crawler.run(products(site, [1, 2, 3, 4]).map((url) => ({ url, label: 'product' })));

        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-passed': 4 });
        // Each init: the form page, then the form posted by the browser, through the session's exit.
        const inits = site.visits.filter((visit) => !visit.path.startsWith('/product/'));
        expect(inits.map((visit) => `${visit.method} ${visit.path}`).sort()).toEqual([
            'GET /',
            'GET /',
            'POST /location',
            'POST /location',
        ]);
        for (const post of inits.filter((visit) => visit.method === 'POST')) {
            expect(post.exit).toBe(site.createdVia.get(post.sid!));
            expect(String(post.headers['user-agent'])).toMatch(/Chrome/);
        }
        expect(Object.fromEntries(site.postalCodes)).toEqual({ s1: '10001', s2: '10001' });
        // The check needed the rendered page: the HTML sent has the postal code only as script data.
        expect(site.productHtml(1, '10001')).not.toContain('<span id="postal-code">');
        expect(site.productHtml(1, '10001')).toContain('10001');
        expect(shown).toEqual(Array.from({ length: 4 }, () => ({ label: 'product', postalCode: '10001' })));
        for (const visit of productVisits(site)) {
            expect(visit.exit).toBe(site.createdVia.get(visit.sid!));
            // processRequest() headers reach the page's navigation.
            expect(visit.headers['x-shop-location']).toBe('set');
        }
    });

    it('a failed check discards the session and the request is retried with another session', async () => {
        const site = await shop();
        site.banFrom('s1', 2);
        const { crawler, handled } = playwright();
        const sessions = attach(crawler, {
            poolSize: 2,
            params: { url: `${site.url}/` },
            // `#product` is built by the page's script: the check sees the rendered page.
            checker: (response, request) =>
                isSessionInitRequest(request) || response.body.includes('<h1 id="product">'),
        });
        await crawler.run(products(site, [1, 2, 3, 4]));

        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 3,
            'sessions/use/check-failed': 1,
            'sessions/use/check-passed': 4,
        });
        const pages = productVisits(site);
        expect(pages).toHaveLength(5);
        const s1 = pages.filter((visit) => visit.sid === 's1');
        expect(s1).toHaveLength(2);
        // The banned page's request came back with another session, and s1 never served again.
        const banned = s1[1]!.path;
        const retry = pages.filter((visit) => visit.path === banned);
        expect(retry.map((visit) => visit.sid)).toEqual(['s1', expect.not.stringMatching(/^s1$/)]);
        expect(pages.indexOf(s1[1]!)).toBeLessThan(pages.indexOf(retry[1]!));
        expect(handled).toHaveLength(4);
        expect(handled.every((page) => page.product?.startsWith('Product '))).toBe(true);
        expect(sessions.pools()[0]).toMatchObject({ size: 2, ready: 2, discarded: 1 });
    });

    it('520 is a download error: the session is discarded and the page is retried with another one', async () => {
        const site = await shop();
        site.failOnce('/product/2', 520);
        const { crawler, handled } = playwright({ maxRequestRetries: 0, maxSessionRotations: 1 });
        const sessions = attach(crawler, { poolSize: 1, params: { url: `${site.url}/` } });
        await crawler.run(products(site, [1, 2]));

        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/failed': 1,
            'sessions/use/check-passed': 2,
        });
        expect(productVisits(site).map((visit) => `${visit.path} ${visit.sid}`)).toEqual([
            '/product/1 s1',
            '/product/2 s1',
            '/product/2 s2',
        ]);
        // The user's handler never saw the error page.
        expect(handled.map((page) => page.product)).toEqual(['Product 1', 'Product 2']);
        expect(sessions.pools()[0]).toMatchObject({ ready: 1, discarded: 1 });
    });

    it('a request without a session gets a fresh context: no cookie of another request', async () => {
        const site = await shop();
        const { crawler } = playwright();
        const sessions = attach(crawler, { params: { url: `${site.url}/` } });
        await crawler.run([1, 2].map((i) => ({ url: `${site.url}/?visit=${i}`, userData: { sessionEnabled: false } })));

        expect(sessions.stats).toEqual({ 'sessions/use/disabled': 2 });
        expect(site.visits.map((visit) => `${visit.path} ${visit.sid ?? '-'}`)).toEqual(['/ -', '/ -']);
        expect([...site.createdVia.keys()]).toEqual(['s1', 's2']);
    });

    it('a browser init that times out counts init/failed and stops at maxBadInits, leaving requests queued', async () => {
        const site = await shop();
        const { crawler, handled, lines } = playwright({ navigationTimeoutSecs: 2 });
        const sessions = attach(crawler, {
            poolSize: 1,
            maxBadInits: 1,
            params: {
                url: `${site.url}/`,
                pageActions: async (page) => void (await (page as Page).waitForSelector('#never-there')),
            },
        });
        const started = Date.now();
        await crawler.run(products(site, [1, 2]));

        expect(Date.now() - started).toBeLessThan(15_000);
        expect(sessions.stats).toEqual({ 'sessions/init/failed': 1 });
        expect(sessions.closeReason).toBe('bad_session_inits');
        expect(lines.some((line) => line.includes('timed out after 2 seconds'))).toBe(true);
        expect(handled).toEqual([]);
        expect(productVisits(site)).toEqual([]);
        expect(await queueCounts(crawler)).toMatchObject({ handled: 0, failed: 0, pending: 2 });
    });

    it('stopping the crawl during a browser init ends it promptly and counts nothing for that init', async () => {
        const site = await shop();
        let actionsStarted!: () => void;
        const inActions = new Promise<void>((resolve) => {
            actionsStarted = resolve;
        });
        // Product 1's pool initialises in a page that waits forever; product 2's pool fails its (HTTP) init
        // once that page is busy, and maxBadInits 1 stops the crawl.
        class TwoPools extends SessionConfig {
            override pool(request: Request): string {
                return request.url.endsWith('/1') ? 'browser' : 'http';
            }

            override async params(request: Request): Promise<InitRequest> {
                if (request.url.endsWith('/1')) {
                    return {
                        url: `${site.url}/`,
                        pageActions: async (page) => {
                            actionsStarted();
                            await (page as Page).waitForSelector('#never-there');
                        },
                    };
                }
                await inActions;
                return { url: `${site.url}/product/9` };
            }
        }
        const { crawler, handled } = playwright({ minConcurrency: 2, maxConcurrency: 2, navigationTimeoutSecs: 30 });
        const sessions = attach(crawler, { poolSize: 1, maxBadInits: 1, registry: registryFor(site, TwoPools) });
        const started = Date.now();
        await crawler.run(products(site, [1, 2]));

        expect(Date.now() - started).toBeLessThan(15_000);
        expect(sessions.closeReason).toBe('bad_session_inits');
        expect(sessions.stats).toEqual({ 'sessions/init/check-failed': 1 });
        expect(site.visits.map((visit) => `${visit.path} ${visit.sid ?? '-'}`).sort()).toEqual(['/ -', '/product/9 -']);
        expect(handled).toEqual([]);
        expect(await queueCounts(crawler)).toMatchObject({ handled: 0, failed: 0, pending: 2 });
    });
});
