/**
 * Benchmark 2, crawl overhead: CheerioCrawler against the demo shop in friendly mode (no bans, no
 * checks), the same product pages at the same fixed concurrency, with and without
 * `attachManagedSessions(crawler)`. The shop runs in a process of its own; each crawler variant runs
 * in a worker of its own, warmed up by one crawl, and the variants alternate round by round.
 */
import type { DemoSiteOptions } from '@managed-sessions/demo-site';
import type { CrawlResult, FriendlyCrawlArgs } from './crawls.js';
import type { Worker } from './ipc.js';
import { alternate, median } from './stats.js';

/**
 * `plain`: CheerioCrawler defaults (Crawlee's SessionPool on, up to 1,000 sessions);
 * `no-pool`: `useSessionPool: false`, the leanest crawler; `plugin`: plain + `attachManagedSessions()`.
 */
export type OverheadVariant = 'plain' | 'no-pool' | 'plugin';

export interface OverheadRow {
    pagesPerSec: number;
    cpuMsPerPage: number;
    /** Requests the shop received per page (the plugin adds its inits). */
    requestsPerPage: number;
    /** Every measured crawl, in round order: wall seconds and CPU seconds. */
    samples: { seconds: number; cpuSeconds: number }[];
}

export interface CrawlOverheadResult {
    products: number;
    concurrency: number;
    rounds: number;
    variants: Record<OverheadVariant, OverheadRow>;
    /** Median over rounds of pages/s plugin ÷ plain, each round's pair measured back to back. Goal ≥ 0.95. */
    throughputRatio: number;
    /** Median over rounds of CPU-seconds per page plugin ÷ plain (≤ 1 is no overhead). */
    cpuPerPageRatio: number;
    /** The same two ratios against the `no-pool` crawler. */
    throughputRatioNoPool: number;
    cpuPerPageRatioNoPool: number;
}

export interface CrawlOverheadOptions {
    site: Worker;
    /** One crawler worker per variant. */
    crawlers: Record<OverheadVariant, Worker>;
    products: number;
    concurrency: number;
    rounds: number;
    /**
     * Warm-up crawls (of `products` pages) each worker makes before the measured rounds: Crawlee's
     * throughput keeps rising over the first few thousand pages of a process while the JIT settles.
     */
    warmup: number;
}

const FRIENDLY: DemoSiteOptions = { friendly: true };

export async function crawlOverhead(options: CrawlOverheadOptions): Promise<CrawlOverheadResult> {
    const { site, crawlers, products, concurrency } = options;
    const crawl = async (variant: OverheadVariant, count: number) => {
        const { url } = await site.call<{ url: string }>('start', { ...FRIENDLY, products: count });
        const args: FriendlyCrawlArgs = { siteUrl: url, products: count, concurrency, variant };
        const result = await crawlers[variant].call<CrawlResult>('friendly', args);
        const counters = await site.call<{ requests: number }>('counters');
        if (result.pages !== count || result.failed > 0) {
            throw new Error(`${variant} crawl handled ${result.pages}/${count} pages, ${result.failed} failed`);
        }
        return { ...result, requests: counters.requests };
    };
    const variants: OverheadVariant[] = ['plain', 'no-pool', 'plugin'];
    for (let i = 0; i < options.warmup; i++) for (const variant of variants) await crawl(variant, products);

    const results: Record<OverheadVariant, Awaited<ReturnType<typeof crawl>>[]> = {
        plain: [],
        'no-pool': [],
        plugin: [],
    };
    await alternate(
        options.rounds,
        Object.fromEntries(
            variants.map((variant) => [
                variant,
                async () => {
                    results[variant].push(await crawl(variant, products));
                    return 0;
                },
            ]),
        ) as Record<OverheadVariant, () => Promise<number>>,
    );

    const row = (variant: OverheadVariant): OverheadRow => ({
        pagesPerSec: median(results[variant].map((r) => r.pages / r.seconds)),
        cpuMsPerPage: median(results[variant].map((r) => (1000 * r.cpuSeconds) / r.pages)),
        requestsPerPage: median(results[variant].map((r) => r.requests / r.pages)),
        samples: results[variant].map(({ seconds, cpuSeconds }) => ({ seconds, cpuSeconds })),
    });
    // Ratios per round, then the median: each round's crawls ran back to back under the same noise.
    const ratio = (base: OverheadVariant, metric: (r: CrawlResult) => number) =>
        median(results.plugin.map((r, i) => metric(r) / metric(results[base][i]!)));
    const pagesPerSec = (r: CrawlResult) => r.pages / r.seconds;
    const cpuPerPage = (r: CrawlResult) => r.cpuSeconds / r.pages;
    return {
        products,
        concurrency,
        rounds: options.rounds,
        variants: { plain: row('plain'), 'no-pool': row('no-pool'), plugin: row('plugin') },
        throughputRatio: ratio('plain', pagesPerSec),
        cpuPerPageRatio: ratio('plain', cpuPerPage),
        throughputRatioNoPool: ratio('no-pool', pagesPerSec),
        cpuPerPageRatioNoPool: ratio('no-pool', cpuPerPage),
    };
}
