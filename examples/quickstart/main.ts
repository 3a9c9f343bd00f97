/**
 * Quickstart: a CheerioCrawler with managed sessions and default options (plus where sessions start).
 *
 * The demo shop answers catalogue and product pages with 403 unless the request carries a session
 * cookie, and only its home page hands out sessions. One line, `attachManagedSessions()`, is
 * enough: every request attempt gets a session from the shop's pool (8 sessions by default), each
 * session is initialised by a visit to the home page before its first use, and every response is
 * checked (a 401, 403 or 429 discards the session and the request is retried with another one).
 *
 * It is the README's quickstart (the same handler, options and start URL) wrapped in `run()` for the
 * tests, with Crawlee's own packages instead of the `crawlee` meta-package and in-memory storage;
 * test/readme.test.ts runs the README's copy against the demo shop too.
 *
 * Run it: `node --conditions=@managed-sessions/source --import tsx examples/quickstart/main.ts`
 */
import { pathToFileURL } from 'node:url';
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, Log, LogLevel } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';
import { attachManagedSessions, type PoolSnapshot } from '@managed-sessions/crawlee';
import { type DemoSite, type DemoSiteCounters, startDemoSite } from '@managed-sessions/demo-site';

export interface QuickstartOptions {
    /** Base URL of a running demo shop (`pnpm --filter @managed-sessions/demo-site start`); default: start one. */
    siteUrl?: string | undefined;
    /** Where the short result goes. @default console.log */
    print?: ((line: string) => void) | undefined;
    /** Crawlee's log level (it logs each session rotation as a warning). @default LogLevel.ERROR */
    logLevel?: LogLevel | undefined;
}

export interface QuickstartResult {
    /** Product name by URL, for every page scraped. */
    products: Record<string, string>;
    /** `sessions.stats` at the end. */
    stats: Record<string, number>;
    pools: PoolSnapshot[];
    /** Requests that failed for good. */
    failed: number;
    /** What the demo shop counted, when the example started it. */
    site: DemoSiteCounters | undefined;
}

export async function run(options: QuickstartOptions = {}): Promise<QuickstartResult> {
    const print = options.print ?? console.log;
    const site: DemoSite | undefined = options.siteUrl === undefined ? await startDemoSite() : undefined;
    const baseUrl = options.siteUrl ?? site!.url;
    try {
        const products: Record<string, string> = {};
        const crawler = new CheerioCrawler(
            {
                log: new Log({ level: options.logLevel ?? LogLevel.ERROR, prefix: 'Quickstart' }),
                async requestHandler({ request, $, enqueueLinks }) {
                    if (request.label === 'product') {
                        products[request.url] = $('#product-name').text();
                        return;
                    }
                    // The first catalogue page links to 50 products.
                    await enqueueLinks({ selector: 'a.product', label: 'product' });
                },
            },
            // In-memory storage: the example writes nothing to ./storage, and every run starts empty.
            new Configuration({ storageClient: new MemoryStorage({ persistStorage: false }), persistStorage: false }),
        );
        // Sessions on this shop start on its home page; by default an init visits the URL of the
        // request that needs the session, which this shop would answer with a 403.
        const sessions = attachManagedSessions(crawler, { params: { url: `${baseUrl}/` } });

        const { requestsFailed } = await crawler.run([`${baseUrl}/catalogue`]);

        const scraped = Object.keys(products).length;
        print(`Scraped ${scraped} products with ${sessions.stats['sessions/init/check-passed'] ?? 0} sessions.`);
        for (const pool of sessions.pools()) print(`  pool ${pool.id}: ${pool.ready}/${pool.size} sessions ready`);
        return {
            products,
            stats: sessions.stats,
            pools: sessions.pools(),
            failed: requestsFailed,
            site: site?.counters,
        };
    } finally {
        await site?.close();
    }
}

// `node … examples/quickstart/main.ts` runs it; importing the module (as the tests do) does not.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
    run().catch((error: unknown) => {
        console.error(error);
        process.exitCode = 1;
    });
}
