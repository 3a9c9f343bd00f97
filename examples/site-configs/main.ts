/**
 * One `SessionConfig` class per site, chosen by URL pattern.
 *
 * Two demo shops with different protections:
 * - the book shop answers a request without a session with a 403, which the default check
 *   already catches; its sessions only need to start on the home page;
 * - the garden shop answers it with a 200 "Please enable cookies" challenge page, and ends a
 *   session after 5 uses with a 200 "expired" page: only a check of the body notices either. It
 *   also gets a pool of its own name and size from `pool()`.
 *
 * On real sites, register each class with the decorator, by host:
 *
 * ```ts
 * @sessionConfig({ include: 'books.example' })
 * class BookShopSessions extends SessionConfig { … }
 *
 * @sessionConfig({ include: ['garden.example', 'garden-shop.example'], exclude: 'garden.example/help' })
 * class GardenShopSessions extends SessionConfig { … }
 * ```
 *
 * The decorator fills the default `sessionConfigRegistry`, which `attachManagedSessions()` uses
 * unless told otherwise. Here the shops listen on ports picked at start, and a pattern without a
 * port matches default ports only, so the rules are registered once the ports are known, into a
 * registry of the example's own (passed as option `registry`). `sessionConfigRegistry.register(Cls,
 * rule)` would do the same for the default registry.
 *
 * Run it: `node --conditions=@managed-sessions/source --import tsx examples/site-configs/main.ts`
 */
import { pathToFileURL } from 'node:url';
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, Log, LogLevel, type Request } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';
import {
    attachManagedSessions,
    type InitRequest,
    type PoolConfig,
    type PoolSnapshot,
    SessionConfig,
    SessionConfigRegistry,
    type SessionResponse,
} from '@managed-sessions/crawlee';
import { type DemoSiteCounters, startDemoSite } from '@managed-sessions/demo-site';

/** The book shop: sessions start on the home page; the default check (no 401/403/429) suffices. */
export class BookShopSessions extends SessionConfig {
    override params(request: Request): InitRequest {
        return { url: new URL('/', request.url).href };
    }
}

/** The garden shop: a body check for the challenge and expired pages, and a pool of its own. */
export class GardenShopSessions extends SessionConfig {
    override params(request: Request): InitRequest {
        return { url: new URL('/', request.url).href };
    }

    override check(response: SessionResponse): boolean {
        const body = response.body;
        return (
            response.statusCode === 200 && !body.includes('<h1 id="challenge">') && !body.includes('<h1 id="expired">')
        );
    }

    override pool(): PoolConfig {
        return { id: 'garden', size: 2 };
    }
}

export interface SiteConfigsOptions {
    /** Product pages to scrape on each shop. @default 15 */
    products?: number | undefined;
    print?: ((line: string) => void) | undefined;
    /** Crawlee's log level (it logs each session rotation as a warning). @default LogLevel.ERROR */
    logLevel?: LogLevel | undefined;
}

export interface SiteConfigsResult {
    /** The config class that served each shop, by shop. */
    configs: { books: string; garden: string };
    /** Product names by URL, per shop. */
    books: Record<string, string>;
    garden: Record<string, string>;
    stats: Record<string, number>;
    pools: PoolSnapshot[];
    failed: number;
    site: { books: DemoSiteCounters; garden: DemoSiteCounters };
}

export async function run(options: SiteConfigsOptions = {}): Promise<SiteConfigsResult> {
    const print = options.print ?? console.log;
    const [books, garden] = await Promise.all([
        startDemoSite({ seed: 1 }),
        startDemoSite({ seed: 2, protection: 'challenge', sessionMaxUses: 5 }),
    ]);
    try {
        const registry = new SessionConfigRegistry();
        // A bare host matches every path of that host (with this port) and its subdomains.
        registry.register(BookShopSessions, { include: new URL(books.url).host });
        registry.register(GardenShopSessions, { include: new URL(garden.url).host });

        const scraped = { books: {} as Record<string, string>, garden: {} as Record<string, string> };
        const crawler = new CheerioCrawler(
            {
                log: new Log({ level: options.logLevel ?? LogLevel.ERROR, prefix: 'SiteConfigs' }),
                requestHandler({ request, $ }) {
                    const shop = request.url.startsWith(books.url) ? scraped.books : scraped.garden;
                    shop[request.url] = $('#product-name').text();
                },
            },
            // In-memory storage: the example writes nothing to ./storage, and every run starts empty.
            new Configuration({ storageClient: new MemoryStorage({ persistStorage: false }), persistStorage: false }),
        );
        const sessions = attachManagedSessions(crawler, { registry, poolSize: 3 });

        const count = options.products ?? 15;
        const urls = (base: string) => Array.from({ length: count }, (_, i) => `${base}/product/${i + 1}`);
        const { requestsFailed } = await crawler.run([...urls(books.url), ...urls(garden.url)]);

        const configs = {
            books: registry.configFor(`${books.url}/product/1`).name,
            garden: registry.configFor(`${garden.url}/product/1`).name,
        };
        print(`Book shop (${configs.books}): ${Object.keys(scraped.books).length} products.`);
        print(`Garden shop (${configs.garden}): ${Object.keys(scraped.garden).length} products.`);
        for (const pool of sessions.pools()) {
            print(`  pool ${pool.id}: ${pool.ready}/${pool.size} sessions ready, ${pool.discarded} discarded`);
        }
        return {
            configs,
            ...scraped,
            stats: sessions.stats,
            pools: sessions.pools(),
            failed: requestsFailed,
            site: { books: books.counters, garden: garden.counters },
        };
    } finally {
        await Promise.all([books.close(), garden.close()]);
    }
}

// `node … examples/site-configs/main.ts` runs it; importing the module (as the tests do) does not.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
    run().catch((error: unknown) => {
        console.error(error);
        process.exitCode = 1;
    });
}
