/**
 * Benchmark 3, efficiency under bans: the demo shop's standard ban model (a session expires after
 * 20 uses with a status-200 "expired" page, 2 % of responses are 520/521, 403 without a session),
 * crawled by Crawlee's built-in SessionPool and by the plugin with a site config. The shop's own
 * counters give every HTTP request, init requests included. A fresh shop (same seed) per crawl.
 */
import type { DemoSiteCounters, DemoSiteOptions } from '@managed-sessions/demo-site';
import type { BanCrawlArgs, BanVariant, CrawlResult } from './crawls.js';
import type { Worker } from './ipc.js';
import { alternate, median } from './stats.js';

export const BAN_MODEL: DemoSiteOptions = { sessionMaxUses: 20, errorRate: 0.02, protection: 'forbidden', seed: 1 };

export const BAN_VARIANTS: readonly BanVariant[] = [
    'builtin',
    'builtin-maxUsageCount-20',
    'plugin',
    'plugin-no-adaptive',
    'plugin-maxUsageCount-19',
];

export interface BanRow {
    /** Pages handled with their real content ÷ pages wanted, in %, over every round. */
    successPct: number;
    /** Every HTTP request the shop received ÷ successful pages, over every round. */
    requestsPerPage: number;
    /** `GET /` per crawl (the init requests, 520/521-answered ones included), mean over rounds. */
    initRequests: number;
    /** Sessions the shop created per crawl, mean. */
    sessionsStarted: number;
    /** Expired pages served per crawl, mean (each is a wasted request). */
    expiredPages: number;
    /** 403s per crawl, mean. */
    forbidden: number;
    /** 520/521 per crawl, mean. */
    originErrors: number;
    wallSeconds: number;
    /** Median over rounds of wall time ÷ the built-in's in the same round (< 1: faster). */
    wallRatioVsBuiltin: number;
    cpuMsPerPage: number;
    /** Lifetime the plugin learned per pool (adaptiveLifetime), last round. */
    learned?: unknown[];
    /** The plugin's stats (`sessions/…`), last round. */
    stats?: Record<string, number>;
    /** Every crawl, in round order. */
    samples: { pages: number; requests: number; initRequests: number; expired: number; seconds: number }[];
}

export interface BanEfficiencyResult {
    products: number;
    concurrency: number;
    poolSize: number;
    rounds: number;
    variants: Partial<Record<BanVariant, BanRow>>;
}

export interface BanEfficiencyOptions {
    site: Worker;
    /** Runs the built-in variants. */
    builtinWorker: Worker;
    /** Runs the plugin variants. */
    pluginWorker: Worker;
    products: number;
    concurrency: number;
    poolSize: number;
    rounds: number;
    variants?: readonly BanVariant[];
}

interface Sample {
    result: CrawlResult;
    counters: DemoSiteCounters;
}

export async function banEfficiency(options: BanEfficiencyOptions): Promise<BanEfficiencyResult> {
    const { site, products, concurrency, poolSize } = options;
    const variants = options.variants ?? BAN_VARIANTS;
    const samples = Object.fromEntries(variants.map((variant) => [variant, [] as Sample[]])) as Record<
        BanVariant,
        Sample[]
    >;
    const crawl = async (variant: BanVariant) => {
        const { url } = await site.call<{ url: string }>('start', { ...BAN_MODEL, products });
        const worker = variant.startsWith('builtin') ? options.builtinWorker : options.pluginWorker;
        const args: BanCrawlArgs = { siteUrl: url, products, concurrency, poolSize, variant };
        const result = await worker.call<CrawlResult>('bans', args);
        samples[variant].push({ result, counters: await site.call<DemoSiteCounters>('counters') });
        return result.seconds;
    };
    await alternate(options.rounds, Object.fromEntries(variants.map((variant) => [variant, () => crawl(variant)])));

    const rows: Partial<Record<BanVariant, BanRow>> = {};
    for (const variant of variants) {
        const runs = samples[variant];
        const sum = (f: (s: Sample) => number) => runs.reduce((total, s) => total + f(s), 0);
        const mean = (f: (s: Sample) => number) => sum(f) / runs.length;
        const pages = sum((s) => s.result.pages);
        const builtin = samples.builtin;
        rows[variant] = {
            successPct: (100 * pages) / (products * runs.length),
            requestsPerPage: sum((s) => s.counters.requests) / Math.max(1, pages),
            initRequests: mean((s) => s.counters.byPath['/'] ?? 0),
            sessionsStarted: mean((s) => s.counters.inits),
            expiredPages: mean((s) => s.counters.expired),
            forbidden: mean((s) => s.counters.bans),
            originErrors: mean((s) => s.counters.errors520 + s.counters.errors521),
            wallSeconds: median(runs.map((s) => s.result.seconds)),
            wallRatioVsBuiltin: builtin
                ? median(runs.map((s, i) => s.result.seconds / builtin[i]!.result.seconds))
                : Number.NaN,
            cpuMsPerPage: median(runs.map((s) => (1000 * s.result.cpuSeconds) / Math.max(1, s.result.pages))),
            ...(runs.at(-1)?.result.learned ? { learned: runs.at(-1)!.result.learned } : {}),
            ...(runs.at(-1)?.result.stats ? { stats: runs.at(-1)!.result.stats } : {}),
            samples: runs.map(({ result, counters }) => ({
                pages: result.pages,
                requests: counters.requests,
                initRequests: counters.byPath['/'] ?? 0,
                expired: counters.expired,
                seconds: result.seconds,
            })),
        };
    }
    return { products, concurrency, poolSize, rounds: options.rounds, variants: rows };
}
