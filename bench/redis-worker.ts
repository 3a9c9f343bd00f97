/**
 * Worker of benchmark 5 (redis-scaling.ts): one crawler process sharing its session pools through
 * a `RedisSessionStore`. `prepare` builds the crawler and queues its slice of product pages (not
 * timed); `run` runs it. The main process sends `run` to all N workers of a variant at once.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, Log, LogLevel } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';
import { attachManagedSessions, SessionConfigRegistry } from '@managed-sessions/crawlee';
import { RedisSessionStore } from '@managed-sessions/redis';
import { ShopSessions } from './crawls.js';
import { serve } from './ipc.js';

export interface RedisCrawlArgs {
    redisUrl: string;
    /** Same for every process of one crawl, unique per crawl. */
    prefix: string;
    siteUrl: string;
    /** Product numbers this process crawls. */
    products: number[];
    concurrency: number;
    poolSize: number;
}

export interface RedisCrawlResult {
    pages: number;
    failed: number;
    seconds: number;
    stats: Record<string, number>;
}

let prepared: { crawler: CheerioCrawler; pages: () => number; stats: () => Record<string, number> } | undefined;

serve({
    async prepare(args: RedisCrawlArgs): Promise<void> {
        let pages = 0;
        const crawler = new CheerioCrawler(
            {
                log: new Log({ level: LogLevel.OFF }),
                minConcurrency: args.concurrency,
                maxConcurrency: args.concurrency,
                maxRequestRetries: 8,
                async requestHandler({ $ }) {
                    if ($('#product').length > 0) pages++;
                },
            },
            new Configuration({ storageClient: new MemoryStorage({ persistStorage: false }), persistStorage: false }),
        );
        const registry = new SessionConfigRegistry();
        registry.register(ShopSessions, { include: new URL(args.siteUrl).host });
        const sessions = attachManagedSessions(crawler, {
            registry,
            poolSize: args.poolSize,
            statusIntervalSecs: 0,
            persistState: { enabled: false },
            store: new RedisSessionStore({ url: args.redisUrl, prefix: args.prefix }),
        });
        await crawler.addRequests(
            args.products.map((i) => ({ url: `${args.siteUrl}/product/${i}` })),
            { waitForAllRequestsToBeAdded: true },
        );
        prepared = { crawler, pages: () => pages, stats: () => sessions.stats };
    },
    async run(): Promise<RedisCrawlResult> {
        if (!prepared) throw new Error('run before prepare');
        const { crawler, pages, stats } = prepared;
        prepared = undefined;
        const started = performance.now();
        const { requestsFailed } = await crawler.run();
        return {
            pages: pages(),
            failed: requestsFailed,
            seconds: (performance.now() - started) / 1000,
            stats: stats(),
        };
    },
});
