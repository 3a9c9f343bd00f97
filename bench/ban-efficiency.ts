/**
 * Benchmark 3, efficiency under bans: the demo shop's standard ban model (a session expires after
 * 20 uses with a status-200 "expired" page, 2 % of responses are 520/521, 403 without a session),
 * crawled by Crawlee's built-in SessionPool and by the plugin with a site config. The shop's own
 * counters give every HTTP request, init requests included. A fresh shop (same seed) per crawl.
 *
 * Then, side by side in the same rounds, random bans: no fixed lifetime, but each page bans its
 * session with a 5 % chance (crawls.ts `startBanFront`), crawled by the plugin with
 * `adaptiveLifetime` on (the default) and off. Nothing about such lifetimes repeats, so the learner
 * must leave them alone: requests/page on ÷ off is the figure (goal ≤ 1.01).
 */
import type { DemoSiteCounters, DemoSiteOptions } from '@managed-sessions/demo-site';
import type { BanCrawlArgs, BanVariant, CrawlResult } from './crawls.js';
import type { Worker } from './ipc.js';
import { alternate, median, printTable } from './stats.js';

export const BAN_MODEL: DemoSiteOptions = { sessionMaxUses: 20, errorRate: 0.02, protection: 'forbidden', seed: 1 };
/** The random-ban scenario: the same shop without a session lifetime, behind a front that bans. */
export const RANDOM_BAN_MODEL: DemoSiteOptions = { errorRate: 0.02, protection: 'forbidden', seed: 1 };
export const RANDOM_BAN_RATE = 0.05;
/** Random bans are noisier than a fixed lifetime (a ban per 20 pages): crawl this many times more pages. */
const RANDOM_BAN_PAGES_FACTOR = 4;

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
    randomBans?: RandomBanResult;
}

/** The random-ban scenario: adaptive lifetime on vs off, same rounds, same seeded ban draws. */
export interface RandomBanResult {
    products: number;
    /** Chance that a page bans its session. */
    banRate: number;
    on: BanRow;
    off: BanRow;
    /** Requests/page with adaptiveLifetime ÷ without (goal ≤ 1.01). */
    requestsPerPageRatio: number;
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
    /** Also run the random-ban scenario (adaptiveLifetime on vs off). @default true */
    randomBans?: boolean;
}

interface Sample {
    result: CrawlResult;
    counters: DemoSiteCounters;
}

type RandomSide = 'on' | 'off';

export async function banEfficiency(options: BanEfficiencyOptions): Promise<BanEfficiencyResult> {
    const { site, products, concurrency, poolSize } = options;
    const variants = options.variants ?? BAN_VARIANTS;
    const randomProducts = products * RANDOM_BAN_PAGES_FACTOR;
    const samples = Object.fromEntries(variants.map((variant) => [variant, [] as Sample[]])) as Record<
        BanVariant,
        Sample[]
    >;
    const randomSamples: Record<RandomSide, Sample[]> = { on: [], off: [] };
    const crawl = async (variant: BanVariant) => {
        const { url } = await site.call<{ url: string }>('start', { ...BAN_MODEL, products });
        const worker = variant.startsWith('builtin') ? options.builtinWorker : options.pluginWorker;
        const args: BanCrawlArgs = { siteUrl: url, products, concurrency, poolSize, variant };
        const result = await worker.call<CrawlResult>('bans', args);
        samples[variant].push({ result, counters: await site.call<DemoSiteCounters>('counters') });
        return result.seconds;
    };
    // One seed per round, the same for both sides: they meet the same ban draws.
    const randomCrawl = async (side: RandomSide) => {
        const { url } = await site.call<{ url: string }>('start', { ...RANDOM_BAN_MODEL, products: randomProducts });
        const args: BanCrawlArgs = {
            siteUrl: url,
            products: randomProducts,
            concurrency,
            poolSize,
            variant: side === 'on' ? 'plugin' : 'plugin-no-adaptive',
            randomBans: { rate: RANDOM_BAN_RATE, seed: 1 + randomSamples[side].length },
        };
        const result = await options.pluginWorker.call<CrawlResult>('bans', args);
        randomSamples[side].push({ result, counters: await site.call<DemoSiteCounters>('counters') });
        return result.seconds;
    };
    const runs: Record<string, () => Promise<number>> = {};
    for (const variant of variants) runs[variant] = () => crawl(variant);
    if (options.randomBans !== false) {
        runs['random bans, adaptive on'] = () => randomCrawl('on');
        runs['random bans, adaptive off'] = () => randomCrawl('off');
    }
    await alternate(options.rounds, runs);

    const rows: Partial<Record<BanVariant, BanRow>> = {};
    for (const variant of variants) rows[variant] = toRow(samples[variant], products, samples.builtin);
    const result: BanEfficiencyResult = { products, concurrency, poolSize, rounds: options.rounds, variants: rows };
    if (options.randomBans !== false) {
        const on = toRow(randomSamples.on, randomProducts, undefined);
        const off = toRow(randomSamples.off, randomProducts, undefined);
        result.randomBans = {
            products: randomProducts,
            banRate: RANDOM_BAN_RATE,
            on,
            off,
            requestsPerPageRatio: on.requestsPerPage / off.requestsPerPage,
        };
        printRandomBans(result.randomBans, options.rounds);
    }
    return result;
}

function toRow(runs: Sample[], products: number, builtin: Sample[] | undefined): BanRow {
    const sum = (f: (s: Sample) => number) => runs.reduce((total, s) => total + f(s), 0);
    const mean = (f: (s: Sample) => number) => sum(f) / runs.length;
    const pages = sum((s) => s.result.pages);
    // Behind the ban front the shop never expires a session itself: the front's bans are the expired pages.
    const expired = (s: Sample) => s.result.bannedPages ?? s.counters.expired;
    return {
        successPct: (100 * pages) / (products * runs.length),
        requestsPerPage: sum((s) => s.counters.requests) / Math.max(1, pages),
        initRequests: mean((s) => s.counters.byPath['/'] ?? 0),
        sessionsStarted: mean((s) => s.counters.inits),
        expiredPages: mean(expired),
        forbidden: mean((s) => s.counters.bans),
        originErrors: mean((s) => s.counters.errors520 + s.counters.errors521),
        wallSeconds: median(runs.map((s) => s.result.seconds)),
        wallRatioVsBuiltin: builtin
            ? median(runs.map((s, i) => s.result.seconds / builtin[i]!.result.seconds))
            : Number.NaN,
        cpuMsPerPage: median(runs.map((s) => (1000 * s.result.cpuSeconds) / Math.max(1, s.result.pages))),
        ...(runs.at(-1)?.result.learned ? { learned: runs.at(-1)!.result.learned } : {}),
        ...(runs.at(-1)?.result.stats ? { stats: runs.at(-1)!.result.stats } : {}),
        samples: runs.map((s) => ({
            pages: s.result.pages,
            requests: s.counters.requests,
            initRequests: s.counters.byPath['/'] ?? 0,
            expired: expired(s),
            seconds: s.result.seconds,
        })),
    };
}

/** Its own small table: main.ts prints the fixed-lifetime rows. */
function printRandomBans(result: RandomBanResult, rounds: number): void {
    const pct = `${Math.round(result.banRate * 100)} %`;
    const rows: (string | number)[][] = [
        ['adaptiveLifetime', 'requests/page', 'success %', 'sessions', 'learned (last round)'],
    ];
    for (const [name, row] of [
        ['on', result.on],
        ['off', result.off],
    ] as const) {
        rows.push([
            name,
            row.requestsPerPage,
            row.successPct,
            row.sessionsStarted,
            JSON.stringify(row.learned?.filter((lifetime) => lifetime != null) ?? []),
        ]);
    }
    rows.push([
        'on ÷ off',
        result.requestsPerPageRatio,
        '',
        '',
        result.requestsPerPageRatio <= 1.01 ? 'goal ≤ 1.01: met' : 'goal ≤ 1.01: MISSED',
    ]);
    printTable(
        `3b random bans (${pct} of pages, no fixed lifetime), ${result.products} pages × ${rounds} rounds`,
        rows,
    );
}
