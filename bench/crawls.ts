/**
 * The crawls of benchmarks 2 and 3, run inside a crawler worker process (crawl-worker.ts) against
 * a demo shop in another process (site-worker.ts), so `process.cpuUsage()` here is the crawler's.
 */
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, Log, LogLevel, type Request, Session, SessionError, type SessionPool } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';
import {
    attachManagedSessions,
    type ManagedSessionsOptions,
    SessionConfig,
    SessionConfigRegistry,
    type SessionResponse,
} from '@managed-sessions/crawlee';

/** What one measured crawl reports. */
export interface CrawlResult {
    /** Product pages handled with their real content. */
    pages: number;
    /** Requests that failed after all retries. */
    failed: number;
    /** Wall seconds of `crawler.run()` (requests already queued). */
    seconds: number;
    /** CPU seconds (user + system) of this process during `crawler.run()`. */
    cpuSeconds: number;
    /** The plugin's stats, for plugin variants. */
    stats?: Record<string, number>;
    /** The lifetime each pool learned (option `adaptiveLifetime`), for plugin variants. */
    learned?: unknown[];
    /** With `randomBans`: expired pages the ban front served (every request after a session's ban). */
    bannedPages?: number;
}

const quiet = () => new Log({ level: LogLevel.OFF });

/** In-memory storage: nothing is written to ./storage, and every crawl starts empty. */
function memoryConfig(): Configuration {
    return new Configuration({ storageClient: new MemoryStorage({ persistStorage: false }), persistStorage: false });
}

function productUrls(siteUrl: string, products: number): { url: string }[] {
    return Array.from({ length: products }, (_, i) => ({ url: `${siteUrl}/product/${i + 1}` }));
}

async function measuredRun(crawler: CheerioCrawler, siteUrl: string, products: number) {
    await crawler.addRequests(productUrls(siteUrl, products), { waitForAllRequestsToBeAdded: true });
    const cpu = process.cpuUsage();
    const started = performance.now();
    const { requestsFailed } = await crawler.run();
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    return { failed: requestsFailed, seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

// ---- benchmark 2: overhead on a friendly site ---------------------------------------------------

export interface FriendlyCrawlArgs {
    siteUrl: string;
    products: number;
    concurrency: number;
    /**
     * `plain`: CheerioCrawler defaults; `no-pool`: `useSessionPool: false`; `plugin`: defaults plus
     * `attachManagedSessions(crawler)` with all its defaults.
     */
    variant: 'plain' | 'no-pool' | 'plugin';
}

/** CheerioCrawler over `products` product pages; the variants differ in nothing else. */
export async function friendlyCrawl({
    siteUrl,
    products,
    concurrency,
    variant,
}: FriendlyCrawlArgs): Promise<CrawlResult> {
    let pages = 0;
    const crawler = new CheerioCrawler(
        {
            log: quiet(),
            ...(variant === 'no-pool' ? { useSessionPool: false, persistCookiesPerSession: false } : {}),
            minConcurrency: concurrency,
            maxConcurrency: concurrency,
            async requestHandler({ $ }) {
                if ($('#product').length > 0) pages++;
            },
        },
        memoryConfig(),
    );
    const sessions = variant === 'plugin' ? attachManagedSessions(crawler) : undefined;
    const run = await measuredRun(crawler, siteUrl, products);
    return { pages, ...run, ...(sessions ? { stats: sessions.stats } : {}) };
}

// ---- benchmark 3: efficiency under bans ---------------------------------------------------------

/** The shop's expired page: status 200, only a body check notices it. */
const EXPIRED = '<h1 id="expired">';

/**
 * The plugin's site config for the shop, as a user would write it (compare examples/demo): the
 * init visits the home page, which sets the `sid` cookie; the check also rejects the expired page.
 */
export class ShopSessions extends SessionConfig {
    override params(request: Request) {
        return { url: new URL('/', request.url).href };
    }

    override check(response: SessionResponse, request: Request, session: Session): boolean {
        return super.check(response, request, session) && !response.body.includes(EXPIRED);
    }
}

export type BanVariant =
    | 'builtin'
    | 'builtin-maxUsageCount-20'
    | 'plugin'
    | 'plugin-no-adaptive'
    | 'plugin-maxUsageCount-19';

export interface BanCrawlArgs {
    siteUrl: string;
    products: number;
    concurrency: number;
    poolSize: number;
    variant: BanVariant;
    /** Crawl through a {@link startBanFront} that bans sessions at random (chance `rate` per page). */
    randomBans?: { rate: number; seed: number };
}

/** Crawlee 3 counts session rotations as retries too, and here they are routine: leave room. */
const MAX_REQUEST_RETRIES = 8;

/** One crawl of the shop under its standard ban model, with Crawlee's SessionPool or with the plugin. */
export async function banCrawl(args: BanCrawlArgs): Promise<CrawlResult> {
    return args.variant.startsWith('builtin') ? builtinCrawl(args) : pluginCrawl(args);
}

/**
 * Crawlee's own SessionPool, configured as its session-management guide advises: `useSessionPool`,
 * `persistCookiesPerSession`, `retryOnBlocked` (401/403/429 and challenge selectors retire the
 * session and retry), and a handler that rejects the expired page with a `SessionError` (Crawlee
 * retires the session and retries the request with another). The pool has as many sessions as the
 * plugin's (`maxPoolSize` = `poolSize`; Crawlee's default of 1,000 would start a session for each of
 * the first 1,000 requests).
 *
 * Crawlee has no session init, so a session gets its cookie in `createSessionFunction`: a GET of
 * the home page with Node's fetch, up to 3 tries on a non-200 answer (the shop's 520/521), whose
 * `Set-Cookie` goes into the new session. That is the same one init request per session as the
 * plugin's, made as early (before first use).
 */
async function builtinCrawl({ siteUrl, products, concurrency, poolSize, variant }: BanCrawlArgs): Promise<CrawlResult> {
    let pages = 0;
    const sessionOptions = variant === 'builtin-maxUsageCount-20' ? { maxUsageCount: 20 } : {};
    const crawler = new CheerioCrawler(
        {
            log: quiet(),
            minConcurrency: concurrency,
            maxConcurrency: concurrency,
            maxRequestRetries: MAX_REQUEST_RETRIES,
            useSessionPool: true,
            persistCookiesPerSession: true,
            retryOnBlocked: true,
            sessionPoolOptions: {
                maxPoolSize: poolSize,
                createSessionFunction: async (pool: SessionPool) => {
                    const session = new Session({ ...sessionOptions, sessionPool: pool, log: quiet() });
                    await visitHome(siteUrl, session);
                    return session;
                },
            },
            async requestHandler({ $ }) {
                if ($('#expired').length > 0) throw new SessionError('the shop expired the session');
                if ($('#product').length > 0) pages++;
            },
        },
        memoryConfig(),
    );
    const run = await measuredRun(crawler, siteUrl, products);
    return { pages, ...run };
}

async function visitHome(siteUrl: string, session: Session): Promise<void> {
    const url = `${siteUrl}/`;
    for (let attempt = 0; attempt < 3; attempt++) {
        const response = await fetch(url, { redirect: 'manual' });
        await response.arrayBuffer();
        if (response.status !== 200) continue;
        session.setCookiesFromResponse({ headers: { 'set-cookie': response.headers.getSetCookie() }, url } as never);
        return;
    }
}

/**
 * A front to the shop on another port of 127.0.0.1 that bans sessions at random, as sites that ban
 * on a risk score do: each product page of a live session bans it with chance `rate`, and from then
 * on every product page of that session is the shop's expired page (status 200). Nothing about the
 * lifetimes repeats (they are geometric, mean 1/rate pages), so a lifetime learned from them is a
 * fluke. Every request still goes to the shop, so its counters stay the count of HTTP requests.
 *
 * Each session's lifetime is drawn, in the order sessions first show up, from a PRNG seeded with
 * `seed`: crawls compared with the same seed meet (nearly) the same lifetimes, which takes most of
 * the chance out of their difference.
 */
export async function startBanFront(shopUrl: string, rate: number, seed: number) {
    const shop = new URL(shopUrl);
    const agent = new Agent({ keepAlive: true });
    const random = parkMiller(seed);
    /** Pages each session may still serve; 0: banned. */
    const left = new Map<string, number>();
    let bannedPages = 0;
    const server = createServer((req, res) => {
        const forward = httpRequest(
            { host: shop.hostname, port: shop.port, method: req.method, path: req.url, headers: req.headers, agent },
            (upstream) => {
                const sid = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
                const page = upstream.statusCode === 200 && req.url?.startsWith('/product/') && sid !== undefined;
                if (page && !left.has(sid)) {
                    let lifetime = 0;
                    while (random() >= rate) lifetime++;
                    left.set(sid, lifetime);
                }
                if (page && left.get(sid) === 0) {
                    bannedPages++;
                    upstream.resume();
                    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
                    res.end('<!doctype html><title>Session expired</title><h1 id="expired">Session expired</h1>');
                    return;
                }
                if (page) left.set(sid, left.get(sid)! - 1);
                res.writeHead(upstream.statusCode ?? 502, upstream.headers);
                upstream.pipe(res);
            },
        );
        forward.on('error', () => res.destroy());
        req.pipe(forward);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        get bannedPages() {
            return bannedPages;
        },
        async close() {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
            agent.destroy();
        },
    };
}

/** Park–Miller minimal standard PRNG in [0, 1). */
function parkMiller(seed: number): () => number {
    let state = seed % 2147483647 || 1;
    return () => {
        state = (state * 48271) % 2147483647;
        return (state - 1) / 2147483646;
    };
}

/** The plugin with {@link ShopSessions}; `plugin` is every default, the others change one option. */
async function pluginCrawl(args: BanCrawlArgs): Promise<CrawlResult> {
    if (!args.randomBans) return pluginCrawlOf(args);
    const front = await startBanFront(args.siteUrl, args.randomBans.rate, args.randomBans.seed);
    try {
        const result = await pluginCrawlOf({ ...args, siteUrl: front.url });
        return { ...result, bannedPages: front.bannedPages };
    } finally {
        await front.close();
    }
}

async function pluginCrawlOf({
    siteUrl,
    products,
    concurrency,
    poolSize,
    variant,
}: BanCrawlArgs): Promise<CrawlResult> {
    let pages = 0;
    const crawler = new CheerioCrawler(
        {
            log: quiet(),
            minConcurrency: concurrency,
            maxConcurrency: concurrency,
            maxRequestRetries: MAX_REQUEST_RETRIES,
            async requestHandler({ $ }) {
                if ($('#product').length > 0) pages++;
            },
        },
        memoryConfig(),
    );
    // The shop's port is only known now, and patterns must name it.
    const registry = new SessionConfigRegistry();
    registry.register(ShopSessions, { include: new URL(siteUrl).host });
    const options: ManagedSessionsOptions = { registry, poolSize };
    if (variant === 'plugin-maxUsageCount-19') options.maxUsageCount = 19;
    if (variant === 'plugin-no-adaptive') Object.assign(options, { adaptiveLifetime: false });
    const sessions = attachManagedSessions(crawler, options);
    const run = await measuredRun(crawler, siteUrl, products);
    const learned = sessions.pools().map((pool) => ('lifetime' in pool ? pool.lifetime : undefined));
    return { pages, ...run, stats: sessions.stats, learned };
}
