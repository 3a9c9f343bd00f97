/**
 * Benchmark 1, engine cost: assign + check + release per request with no network, for 1, 100
 * and 10,000 pools of 8 sessions; and registry lookups with 1 rule and with 10,000 rules over
 * 2,000 domains. Each pool variant lives in a worker process of its own (a 10,000-pool manager
 * holds 80,000 Crawlee sessions, whose GC work would slow a neighbour down); the main process
 * alternates their samples round by round. The two registries are small and share one worker.
 */
import { Log, LogLevel, Request } from '@crawlee/core';
import { SessionConfig, SessionConfigRegistry, type SessionResponse } from '@managed-sessions/core';
import { SessionManager } from '@managed-sessions/core/internal';
import { startWorker } from './ipc.js';
import { alternate, median } from './stats.js';

export const SESSIONS_PER_POOL = 8;
/** Every pool variant cycles over this many distinct requests, so only the number of pools differs. */
const REQUESTS = 10_000;
const OK: SessionResponse = { url: '', statusCode: 200, headers: {}, body: '<html>ok</html>' };
const quiet = new Log({ level: LogLevel.OFF });

/** Pool counts measured, and their display names. */
export const POOL_VARIANTS = [1, 100, 10_000] as const;

// ---- worker side ---------------------------------------------------------------------------------

/** A manager whose pools (one per host) are full, and the requests an op cycles over. */
export interface FilledManager {
    manager: SessionManager;
    requests: Request[];
}

/**
 * A manager with `pools` full pools, and {@link REQUESTS} distinct requests spread over them
 * (request `j` goes to pool `j % pools`), so every variant has the same request objects to
 * look up and only the number of pools differs.
 */
export async function filledManager(pools: number, requestCount = REQUESTS): Promise<FilledManager> {
    const manager = new SessionManager(
        { poolSize: SESSIONS_PER_POOL, registry: new SessionConfigRegistry(), statusIntervalSecs: 0 },
        { download: async ({ request }) => ({ ...OK, url: request.url }), log: quiet },
    );
    const requests = Array.from(
        { length: Math.max(pools, requestCount) },
        (_, j) => new Request({ url: `http://h${j % pools}.example/p${j}` }),
    );
    for (let pool = 0; pool < pools; pool++) {
        const request = requests[pool]!;
        const leases = await Promise.all(Array.from({ length: SESSIONS_PER_POOL }, () => manager.acquire(request)));
        for (const lease of leases) manager.release(lease!);
    }
    return { manager, requests };
}

/** Operations per second of acquire + check + release, cycling over the requests. */
export async function measureOps({ manager, requests }: FilledManager, ops: number): Promise<number> {
    const started = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) {
        const request = requests[i % requests.length]!;
        const lease = (await manager.acquire(request))!;
        await manager.check(lease, OK);
        manager.release(lease);
    }
    return ops / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** Rule and URL sets of the registry variants. */
export interface RegistryVariant {
    registry: SessionConfigRegistry;
    urls: string[];
}

/**
 * `rules` rules over `domains` registrable domains (`d{k}.example/section{i}`), and 4,000 lookup
 * URLs that all land on a domain with rules (its bare host or `www.`, which a pattern with a path
 * matches); half match a rule, half match none (and so try every rule of their domain). Both
 * variants thus do real matching; what differs is only how many rules share a domain (1 versus 5)
 * and how many domains the URLs spread over (1 versus 2,000). `urlDomains` < `domains` keeps the URLs
 * on the first few domains (same rules, better memory locality: a diagnostic, not a goal).
 */
export function registryVariant(rules: number, domains: number, urlDomains = domains): RegistryVariant {
    const registry = new SessionConfigRegistry();
    for (let i = 0; i < rules; i++) {
        class Site extends SessionConfig {}
        registry.register(Site, { include: `d${i % domains}.example/section${i}` });
    }
    const urls = Array.from({ length: 4_000 }, (_, j) => {
        const domain = j % urlDomains;
        // A rule of this domain: `section{domain + domains * n}` for n < rules / domains.
        const perDomain = Math.ceil(rules / domains);
        const section = domain + domains * (j % perDomain);
        const path = j % 2 === 0 ? `section${section}/item` : `other/item${j}`;
        return `https://${j % 4 < 2 ? '' : 'www.'}d${domain}.example/${path}`;
    });
    return { registry, urls };
}

/** Lookups per second of `configFor` over the variant's URLs. */
export function measureLookups({ registry, urls }: RegistryVariant, lookups: number): number {
    const started = process.hrtime.bigint();
    let matched = 0;
    for (let i = 0; i < lookups; i++) matched += registry.configFor(urls[i % urls.length]!) === SessionConfig ? 0 : 1;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // Half the URLs match a rule: a registry that matched nothing would be measuring nothing.
    if (matched === 0) throw new Error('no lookup matched a rule');
    return lookups / seconds;
}

// ---- main side ----------------------------------------------------------------------------------

export interface EngineCostResult {
    /** Median ops/s of acquire + check + release, by pool count. */
    opsPerSec: Record<string, number>;
    /** ops/s of 1 pool ÷ ops/s of 10,000 pools (cost of 10k relative to 1). Goal ≤ 1.5. */
    poolCostRatio: number;
    /** Cost ratio of 100 pools relative to 1. */
    pool100CostRatio: number;
    lookupsPerSec: Record<RuleVariant, number>;
    /** lookups/s of 1 rule ÷ lookups/s of 10,000 rules. Goal ≤ 2. */
    ruleCostRatio: number;
    /** lookups/s of 1 rule ÷ lookups/s of 10,000 rules with the URLs on one domain (diagnostic). */
    ruleCostRatioOneDomain: number;
    rounds: number;
}

/**
 * `1 rule`: one rule, URLs on its domain. `10000 rules`: 10,000 rules over 2,000 domains, URLs over
 * all of them (the goal). `10000 rules, 1 domain`: the same rules, URLs on one domain only, which
 * separates the cost of more rules per domain from the cost of touching 2,000 domains' rules.
 */
export const RULE_VARIANTS = {
    '1 rule': { rules: 1, domains: 1, urlDomains: 1 },
    '10000 rules': { rules: 10_000, domains: 2_000, urlDomains: 2_000 },
    '10000 rules, 1 domain': { rules: 10_000, domains: 2_000, urlDomains: 1 },
} as const;
export type RuleVariant = keyof typeof RULE_VARIANTS;

export interface EngineCostOptions {
    rounds: number;
    /** Operations per pool sample. */
    ops: number;
    /** Lookups per registry sample. */
    lookups: number;
    /** Pool counts (the smoke run skips 10,000). */
    pools?: readonly number[];
    /** Awaited after the workers are set up and before anything is measured (other work may overlap the setup). */
    beforeMeasure?: () => Promise<unknown>;
}

export async function engineCost(options: EngineCostOptions): Promise<EngineCostResult> {
    const pools = options.pools ?? POOL_VARIANTS;
    const largest = Math.max(...pools);
    const workers = Object.fromEntries(pools.map((count) => [String(count), startWorker('./engine-worker.ts')]));
    const rulesWorker = startWorker('./engine-worker.ts');
    try {
        // Fill the managers in parallel: setup time is not measured.
        await Promise.all([
            ...pools.map((count) => workers[String(count)]!.call('setupPools', { pools: count })),
            rulesWorker.call('setupRules', RULE_VARIANTS),
        ]);
        await options.beforeMeasure?.();
        // Warm-up: let the JIT settle on every variant before measuring.
        for (const count of pools) await workers[String(count)]!.call('measurePools', { ops: options.ops });
        const poolSamples = await alternate(
            options.rounds,
            Object.fromEntries(
                pools.map((count) => [
                    String(count),
                    () => workers[String(count)]!.call<number>('measurePools', { ops: options.ops }),
                ]),
            ),
        );
        const opsPerSec = Object.fromEntries(Object.entries(poolSamples).map(([key, values]) => [key, median(values)]));

        const ruleVariants = Object.keys(RULE_VARIANTS) as RuleVariant[];
        const lookup = (variant: RuleVariant) =>
            rulesWorker.call<number>('measureRules', { variant, lookups: options.lookups });
        for (const variant of ruleVariants) await lookup(variant);
        const lookupSamples = await alternate(
            options.rounds,
            Object.fromEntries(ruleVariants.map((variant) => [variant, () => lookup(variant)])) as Record<
                RuleVariant,
                () => Promise<number>
            >,
        );
        const lookupsPerSec = Object.fromEntries(
            ruleVariants.map((variant) => [variant, median(lookupSamples[variant])]),
        ) as Record<RuleVariant, number>;
        return {
            opsPerSec,
            poolCostRatio: opsPerSec['1']! / opsPerSec[String(largest)]!,
            pool100CostRatio: opsPerSec['1']! / (opsPerSec['100'] ?? opsPerSec['1']!),
            lookupsPerSec,
            ruleCostRatio: lookupsPerSec['1 rule'] / lookupsPerSec['10000 rules'],
            ruleCostRatioOneDomain: lookupsPerSec['1 rule'] / lookupsPerSec['10000 rules, 1 domain'],
            rounds: options.rounds,
        };
    } finally {
        await Promise.all([...Object.values(workers), rulesWorker].map((worker) => worker.close()));
    }
}
