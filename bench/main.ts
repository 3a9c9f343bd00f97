/**
 * `pnpm bench`: runs the five benchmarks, prints one table and writes bench/results.json.
 * `pnpm bench --smoke`: a tiny, fast run of every benchmark (checks that they work; its figures
 * mean nothing and nothing is written). `--only engine,overhead,bans,memory,redis` runs a subset.
 * Methodology: bench/README.md.
 */

import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { BAN_VARIANTS, type BanEfficiencyResult, type BanRow, banEfficiency } from './ban-efficiency.js';
import { type CrawlOverheadResult, crawlOverhead, type OverheadVariant } from './crawl-overhead.js';
import type { BanVariant } from './crawls.js';
import { type EngineCostResult, engineCost } from './engine-cost.js';
import { startWorker, type Worker } from './ipc.js';
import type { MemoryResult } from './memory.js';
import { type RedisScalingOptions, type RedisScalingResult, redisScaling } from './redis-scaling.js';
import { printTable } from './stats.js';

const SECTIONS = ['engine', 'overhead', 'bans', 'memory', 'redis'] as const;

interface Settings {
    engine: { rounds: number; ops: number; lookups: number; pools: number[] };
    overhead: { products: number; concurrency: number; rounds: number; warmup: number };
    bans: { products: number; concurrency: number; poolSize: number; rounds: number; variants: readonly BanVariant[] };
    memory: { sessions: number };
    redis: RedisScalingOptions;
}
type Section = (typeof SECTIONS)[number];

const FULL: Settings = {
    engine: { rounds: 7, ops: 50_000, lookups: 200_000, pools: [1, 100, 10_000] },
    overhead: { products: 1_000, concurrency: 16, rounds: 9, warmup: 2 },
    bans: { products: 1_200, concurrency: 16, poolSize: 8, rounds: 3, variants: BAN_VARIANTS },
    memory: { sessions: 10_000 },
    redis: { products: 1_200, concurrency: 8, poolSize: 8, rounds: 3, processes: [1, 2, 4], warmup: 200 },
};
const SMOKE: Settings = {
    engine: { rounds: 1, ops: 2_000, lookups: 5_000, pools: [1, 100] },
    overhead: { products: 40, concurrency: 4, rounds: 1, warmup: 0 },
    bans: { products: 60, concurrency: 4, poolSize: 4, rounds: 1, variants: ['builtin', 'plugin'] },
    memory: { sessions: 800 },
    redis: { products: 48, concurrency: 4, poolSize: 4, rounds: 1, processes: [1, 2, 4], warmup: 0 },
};

interface Goal {
    name: string;
    value: number;
    goal: string;
    met: boolean;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        args: process.argv.slice(2).filter((arg) => arg !== '--'),
        options: {
            smoke: { type: 'boolean', default: false },
            only: { type: 'string' },
            out: { type: 'string' },
        },
    });
    const smoke = values.smoke;
    const settings = smoke ? SMOKE : FULL;
    const only = new Set((values.only?.split(',') ?? SECTIONS) as Section[]);
    for (const section of only) if (!SECTIONS.includes(section)) throw new Error(`--only: unknown ${section}`);
    const started = performance.now();
    const say = (line: string) =>
        console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}`);

    let engine: EngineCostResult | undefined;
    let overhead: CrawlOverheadResult | undefined;
    let bans: BanEfficiencyResult | undefined;
    let memory: MemoryResult | undefined;
    let redis: RedisScalingResult | undefined;

    // Heap figures do not mind a busy CPU: the memory benchmark runs while the engine workers fill
    // their pools (the 10,000-pool fill takes most of a minute), and ends before anything is timed.
    const memoryRun = only.has('memory') ? measureMemoryInWorker(settings.memory.sessions) : undefined;
    // Awaited below; this keeps an early failure from being an unhandled rejection meanwhile.
    memoryRun?.catch(() => undefined);
    if (only.has('engine')) {
        say('1. engine cost (workers fill 1/100/10,000 pools while 4. memory runs)…');
        engine = await engineCost({
            ...settings.engine,
            beforeMeasure: async () => {
                memory = await memoryRun;
                say('1. engine cost: measuring…');
            },
        });
    }
    if (memoryRun) {
        say('4. memory…');
        memory = await memoryRun;
    }
    if (only.has('overhead') || only.has('bans')) {
        const site = startWorker('./site-worker.ts');
        const crawlers = {
            plain: startWorker('./crawl-worker.ts'),
            'no-pool': startWorker('./crawl-worker.ts'),
            plugin: startWorker('./crawl-worker.ts'),
        } satisfies Record<OverheadVariant, Worker>;
        try {
            if (only.has('overhead')) {
                say('2. crawl overhead on the friendly shop…');
                overhead = await crawlOverhead({ site, crawlers, ...settings.overhead });
            }
            if (only.has('bans')) {
                say('3. efficiency under bans…');
                bans = await banEfficiency({
                    site,
                    builtinWorker: crawlers.plain,
                    pluginWorker: crawlers.plugin,
                    ...settings.bans,
                });
            }
        } finally {
            await Promise.all([site, ...Object.values(crawlers)].map((worker) => worker.close()));
        }
    }
    if (only.has('redis')) {
        say('5. shared pools on Redis: 1 vs 2 vs 4 processes…');
        redis = await redisScaling(settings.redis);
    }
    const seconds = (performance.now() - started) / 1000;
    say('done.');

    const goals = evaluate(engine, overhead, bans, memory, redis);
    printTable(
        `managed-sessions benchmark${smoke ? ' (SMOKE RUN: sizes too small for the figures to mean anything)' : ''}` +
            ` — ${cpus().length} CPUs, Node ${process.version}, ${seconds.toFixed(0)} s`,
        rows(engine, overhead, bans, memory, redis, goals),
    );
    const missed = goals.filter((goal) => !goal.met);
    console.log(
        `\nGoals: ${goals.length - missed.length}/${goals.length} met` +
            (missed.length ? `; missed: ${missed.map((goal) => goal.name).join(', ')}` : ''),
    );

    const out = values.out ?? (smoke ? undefined : new URL('./results.json', import.meta.url));
    if (out !== undefined) {
        const record = {
            date: new Date().toISOString(),
            node: process.version,
            cpus: cpus().length,
            cpuModel: cpus()[0]?.model,
            smoke,
            seconds,
            settings,
            engine,
            overhead,
            bans,
            memory,
            redis,
            goals,
        };
        writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
        console.log(`Written: ${out instanceof URL ? 'bench/results.json' : out}`);
    }
}

async function measureMemoryInWorker(sessions: number): Promise<MemoryResult> {
    const worker = startWorker('./memory-worker.ts', ['--expose-gc']);
    try {
        return await worker.call<MemoryResult>('measure', { sessions });
    } finally {
        await worker.close();
    }
}

function evaluate(
    engine: EngineCostResult | undefined,
    overhead: CrawlOverheadResult | undefined,
    bans: BanEfficiencyResult | undefined,
    memory: MemoryResult | undefined,
    redis: RedisScalingResult | undefined,
): Goal[] {
    const goals: Goal[] = [];
    if (engine) {
        goals.push({
            name: '1 pools 10k÷1',
            value: engine.poolCostRatio,
            goal: '≤ 1.5',
            met: engine.poolCostRatio <= 1.5,
        });
        goals.push({ name: '1 rules 10k÷1', value: engine.ruleCostRatio, goal: '≤ 2', met: engine.ruleCostRatio <= 2 });
    }
    if (overhead) {
        goals.push({
            name: '2 pages/s plugin÷plain',
            value: overhead.throughputRatio,
            goal: '≥ 0.95',
            met: overhead.throughputRatio >= 0.95,
        });
        // Issue 16: the stricter baseline, a crawler with Crawlee's session pool off.
        goals.push({
            name: '2 pages/s plugin÷no-pool',
            value: overhead.throughputRatioNoPool,
            goal: '≥ 0.95',
            met: overhead.throughputRatioNoPool >= 0.95,
        });
    }
    if (bans?.randomBans) {
        // Issue 15: under random bans the lifetime learner must not cost requests.
        goals.push({
            name: '3b random bans on÷off',
            value: bans.randomBans.requestsPerPageRatio,
            goal: '≤ 1.01',
            met: bans.randomBans.requestsPerPageRatio <= 1.01,
        });
    }
    const builtin = bans?.variants.builtin;
    for (const variant of ['plugin', 'plugin-maxUsageCount-19'] as const) {
        const row = bans?.variants[variant];
        if (!row) continue;
        goals.push({
            name: `3 ${variant} success %`,
            value: row.successPct,
            goal: '≥ 99.5',
            met: row.successPct >= 99.5,
        });
        goals.push({
            name: `3 ${variant} requests/page`,
            value: row.requestsPerPage,
            goal: '≤ 1.10',
            met: row.requestsPerPage <= 1.1,
        });
        if (builtin) {
            goals.push({
                name: `3 ${variant} beats built-in`,
                value: row.requestsPerPage / builtin.requestsPerPage,
                goal: 'req/page < built-in, success ≥ built-in',
                met: row.requestsPerPage < builtin.requestsPerPage && row.successPct >= builtin.successPct,
            });
        }
    }
    if (memory) {
        goals.push({
            name: '4 bytes/session',
            value: memory.bytesPerSession,
            goal: '≤ 4096',
            met: memory.bytesPerSession <= 4096,
        });
    }
    if (redis && 'variants' in redis) {
        const rows = Object.values(redis.variants);
        const inits = rows.map((row) => row.initsPer1000Pages);
        goals.push({
            name: '5 inits/1k flat',
            value: Math.max(...inits) - Math.min(...inits),
            goal: 'max − min ≤ 1',
            met: Math.max(...inits) - Math.min(...inits) <= 1,
        });
        const ratios = rows.map((row) => row.pagesPerSecRatio);
        goals.push({
            name: '5 pages/s grows',
            value: Math.max(...ratios.slice(1)),
            goal: 'N÷1 > 1 for every N > 1',
            met: ratios.slice(1).every((ratio) => ratio > 1),
        });
    }
    return goals;
}

type Row = (string | number)[];

function rows(
    engine: EngineCostResult | undefined,
    overhead: CrawlOverheadResult | undefined,
    bans: BanEfficiencyResult | undefined,
    memory: MemoryResult | undefined,
    redis: RedisScalingResult | undefined,
    goals: Goal[],
): Row[] {
    const verdict = (name: string): [string, string] => {
        const goal = goals.find((g) => g.name === name);
        return goal ? [goal.goal, goal.met ? 'met' : 'MISSED'] : ['', ''];
    };
    const out: Row[] = [['benchmark', 'variant', 'measure', 'value', 'goal', '']];
    if (engine) {
        for (const [pools, ops] of Object.entries(engine.opsPerSec)) {
            const name = `${Number(pools).toLocaleString('en')} pool${pools === '1' ? '' : 's'} × 8`;
            out.push(['1 engine', name, 'assign+check+release ops/s', Math.round(ops), '', '']);
        }
        if (engine.opsPerSec['100'] !== undefined && Object.keys(engine.opsPerSec).at(-1) !== '100') {
            out.push([
                '1 engine',
                '100 vs 1 pool',
                'cost ratio (ops/s 1 ÷ ops/s 100)',
                engine.pool100CostRatio,
                '',
                '',
            ]);
        }
        const largest = Object.keys(engine.opsPerSec).at(-1)!;
        out.push([
            '1 engine',
            `${largest} vs 1 pool`,
            `cost ratio (ops/s 1 ÷ ops/s ${largest})`,
            engine.poolCostRatio,
            ...verdict('1 pools 10k÷1'),
        ]);
        for (const [rules, lookups] of Object.entries(engine.lookupsPerSec)) {
            out.push(['1 engine', rules, 'registry lookups/s', Math.round(lookups), '', '']);
        }
        out.push([
            '1 engine',
            '10k vs 1 rule',
            'cost ratio (lookups/s 1 ÷ 10k)',
            engine.ruleCostRatio,
            ...verdict('1 rules 10k÷1'),
        ]);
        out.push([
            '1 engine',
            '10k rules, URLs on 1 domain',
            'cost ratio (diagnostic: locality)',
            engine.ruleCostRatioOneDomain,
            '',
            '',
        ]);
    }
    if (overhead) {
        const label = `${overhead.products} pages, concurrency ${overhead.concurrency}`;
        for (const [variant, row] of Object.entries(overhead.variants)) {
            out.push(['2 overhead', variant, `pages/s (${label})`, row.pagesPerSec, '', '']);
            out.push(['2 overhead', variant, 'CPU ms per page (crawler process)', row.cpuMsPerPage, '', '']);
        }
        out.push([
            '2 overhead',
            'plugin ÷ plain',
            'pages/s ratio',
            overhead.throughputRatio,
            ...verdict('2 pages/s plugin÷plain'),
        ]);
        out.push(['2 overhead', 'plugin ÷ plain', 'CPU per page ratio', overhead.cpuPerPageRatio, '', '']);
        out.push([
            '2 overhead',
            'plugin ÷ no-pool',
            'pages/s ratio (stricter baseline)',
            overhead.throughputRatioNoPool,
            ...verdict('2 pages/s plugin÷no-pool'),
        ]);
        out.push(['2 overhead', 'plugin ÷ no-pool', 'CPU per page ratio', overhead.cpuPerPageRatioNoPool, '', '']);
    }
    if (bans) {
        for (const [variant, row] of Object.entries(bans.variants) as [BanVariant, BanRow][]) {
            const plugin = variant.startsWith('plugin');
            const success = plugin ? verdict(`3 ${variant} success %`) : ['', ''];
            const perPage = plugin ? verdict(`3 ${variant} requests/page`) : ['', ''];
            const beats = plugin ? verdict(`3 ${variant} beats built-in`) : ['', ''];
            out.push(['3 bans', variant, `pages succeeded % (${bans.products} pages)`, row.successPct, ...success]);
            out.push(['3 bans', variant, 'HTTP requests per successful page', row.requestsPerPage, ...perPage]);
            if (plugin && beats[0])
                out.push([
                    '3 bans',
                    variant,
                    'req/page ÷ built-in req/page',
                    row.requestsPerPage / bans.variants.builtin!.requestsPerPage,
                    ...beats,
                ]);
            out.push([
                '3 bans',
                variant,
                'init requests / sessions / expired pages / 520+521',
                `${fmt(row.initRequests)} / ${fmt(row.sessionsStarted)} / ${fmt(row.expiredPages)} / ${fmt(row.originErrors)}`,
                '',
                '',
            ]);
            out.push(['3 bans', variant, 'wall time ÷ built-in (same round)', row.wallRatioVsBuiltin, '', '']);
        }
    }
    if (bans?.randomBans) {
        const random = bans.randomBans;
        const label = `${random.products} pages, ${random.banRate * 100} % random bans`;
        out.push([
            '3b random bans',
            'adaptive on',
            `HTTP requests per page (${label})`,
            random.on.requestsPerPage,
            '',
            '',
        ]);
        out.push(['3b random bans', 'adaptive off', 'HTTP requests per page', random.off.requestsPerPage, '', '']);
        out.push([
            '3b random bans',
            'on ÷ off',
            'requests/page ratio',
            random.requestsPerPageRatio,
            ...verdict('3b random bans on÷off'),
        ]);
    }
    if (memory) {
        out.push([
            '4 memory',
            `${memory.sessions} sessions`,
            'heap bytes per session (no cookies)',
            Math.round(memory.bytesPerSession),
            ...verdict('4 bytes/session'),
        ]);
        out.push([
            '4 memory',
            'bare Crawlee Session',
            'heap bytes per session',
            Math.round(memory.bytesPerBareCrawleeSession),
            '',
            '',
        ]);
        out.push([
            '4 memory',
            'engine beyond Session',
            'heap bytes per session',
            Math.round(memory.bytesAddedByEngine),
            '',
            '',
        ]);
        out.push(['4 memory', 'one sid cookie', 'heap bytes per cookie', Math.round(memory.bytesPerCookie), '', '']);
    }
    if (redis && !('variants' in redis)) {
        out.push(['5 redis', 'SKIPPED', redis.skipped, '', '', '']);
    } else if (redis) {
        const label = `${redis.products} pages, concurrency ${redis.concurrency} per process`;
        const name = (n: number) => `${n} process${n === 1 ? '' : 'es'}, 1 pool of ${redis.poolSize}`;
        const rows = Object.values(redis.variants);
        for (const row of rows) {
            out.push(['5 redis', name(row.processes), `pages/s (${label})`, row.pagesPerSec, '', '']);
            out.push(['5 redis', name(row.processes), 'inits per 1,000 pages', row.initsPer1000Pages, '', '']);
        }
        const base = rows[0]!.processes;
        for (const row of rows.slice(1)) {
            out.push([
                '5 redis',
                `${row.processes} ÷ ${base} process${base === 1 ? '' : 'es'}`,
                'pages/s ratio (same round)',
                row.pagesPerSecRatio,
                '',
                '',
            ]);
        }
        const flat = verdict('5 inits/1k flat');
        const inits = rows.map((row) => row.initsPer1000Pages);
        out.push([
            '5 redis',
            'max − min over N',
            'inits per 1,000 pages (inits/1k flat)',
            Math.max(...inits) - Math.min(...inits),
            ...flat,
        ]);
        out.push([
            '5 redis',
            'every N > 1',
            'pages/s ratio N÷1, the largest (pages/s grows)',
            goals.find((g) => g.name === '5 pages/s grows')?.value ?? Number.NaN,
            ...verdict('5 pages/s grows'),
        ]);
    }
    return out;
}

function fmt(value: number): string {
    return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
