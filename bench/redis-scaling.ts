/**
 * Benchmark 5, shared pools on Redis: 1, 2 and 4 crawler processes (redis-worker.ts) split the
 * same product pages of one demo shop (site-worker.ts) and share one pool of `poolSize` sessions
 * through a `RedisSessionStore` on a local `redis-server` (random port, no persistence, killed at
 * the end). Sessions are required (403 without one) but never expire, so the shop's init count is
 * the pool fill alone: it should not grow with the number of processes, while pages/s should.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { DemoSiteCounters, DemoSiteOptions } from '@managed-sessions/demo-site';
import { startWorker, type Worker } from './ipc.js';
import type { RedisCrawlArgs, RedisCrawlResult } from './redis-worker.js';
import { alternate, median } from './stats.js';

/** Standard protection (403 without a session), no 520/521, no session lifetime. */
export const REDIS_SITE: DemoSiteOptions = { protection: 'forbidden', errorRate: 0, seed: 1 };

export interface RedisScalingOptions {
    products: number;
    /** Fixed concurrency of each process. */
    concurrency: number;
    poolSize: number;
    rounds: number;
    /** Process counts, the first one the baseline of the ratios. */
    processes: number[];
    /** Pages per process of each variant's unmeasured warm-up crawl (0: none). */
    warmup: number;
}

export interface RedisRow {
    processes: number;
    /** Median over rounds. */
    pagesPerSec: number;
    /** Median over rounds of pages/s ÷ the baseline's in the same round. */
    pagesPerSecRatio: number;
    /** Median over rounds of the shop's inits (sessions created) per 1,000 pages handled. */
    initsPer1000Pages: number;
    samples: {
        pages: number;
        failed: number;
        seconds: number;
        perProcessSeconds: number[];
        inits: number;
        initRequests: number;
    }[];
}

export type RedisScalingResult =
    | { skipped: string }
    | (Omit<RedisScalingOptions, 'processes'> & { skipped?: undefined; variants: Record<string, RedisRow> });

export async function redisScaling(options: RedisScalingOptions): Promise<RedisScalingResult> {
    const redisServerPath = findRedisServer();
    if (!redisServerPath) return { skipped: 'redis-server is not installed (Debian: apt-get install -y redis-server)' };
    const { products, concurrency, poolSize, rounds, processes, warmup } = options;
    const redis = await startRedis(redisServerPath);
    const site = startWorker('./site-worker.ts');
    const workers: Worker[] = Array.from({ length: Math.max(...processes) }, () => startWorker('./redis-worker.ts'));
    let crawlNo = 0;
    // One crawl: a fresh shop, N processes with a fresh prefix, queued first, then started together.
    const crawl = async (n: number, pages: number) => {
        const { url } = await site.call<{ url: string }>('start', { ...REDIS_SITE, products: pages });
        const prefix = `bench-${process.pid}-${crawlNo++}-n${n}`;
        const slices = Array.from({ length: n }, (_, w) =>
            Array.from({ length: pages }, (_, i) => i + 1).filter((i) => i % n === w),
        );
        await Promise.all(
            slices.map((slice, w) =>
                workers[w]!.call('prepare', {
                    redisUrl: redis.url,
                    prefix,
                    siteUrl: url,
                    products: slice,
                    concurrency,
                    poolSize,
                } satisfies RedisCrawlArgs),
            ),
        );
        const started = performance.now();
        const results = await Promise.all(slices.map((_, w) => workers[w]!.call<RedisCrawlResult>('run')));
        const seconds = (performance.now() - started) / 1000;
        const counters = await site.call<DemoSiteCounters>('counters');
        return {
            pages: results.reduce((sum, r) => sum + r.pages, 0),
            failed: results.reduce((sum, r) => sum + r.failed, 0),
            seconds,
            perProcessSeconds: results.map((r) => r.seconds),
            inits: counters.inits,
            initRequests: counters.byPath['/'] ?? 0,
        };
    };
    try {
        // Warm-up: one unmeasured crawl of every variant (the JIT of every process settles).
        if (warmup > 0) for (const n of processes) await crawl(n, warmup * n);
        const samples = Object.fromEntries(processes.map((n) => [n, [] as RedisRow['samples']]));
        await alternate(
            rounds,
            Object.fromEntries(
                processes.map((n) => [
                    String(n),
                    async () => {
                        const sample = await crawl(n, products);
                        samples[n]!.push(sample);
                        return sample.seconds;
                    },
                ]),
            ),
        );
        const baseline = samples[processes[0]!]!;
        const rate = (s: RedisRow['samples'][number]) => s.pages / s.seconds;
        const variants: Record<string, RedisRow> = {};
        for (const n of processes) {
            const runs = samples[n]!;
            variants[n] = {
                processes: n,
                pagesPerSec: median(runs.map(rate)),
                pagesPerSecRatio: median(runs.map((s, i) => rate(s) / rate(baseline[i]!))),
                initsPer1000Pages: median(runs.map((s) => (1000 * s.inits) / Math.max(1, s.pages))),
                samples: runs,
            };
        }
        return { products, concurrency, poolSize, rounds, warmup, variants };
    } finally {
        await Promise.all([site, ...workers].map((worker) => worker.close()));
        await redis.stop();
    }
}

function findRedisServer(): string | undefined {
    try {
        return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
    } catch {
        return undefined;
    }
}

async function freePort(): Promise<number> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    server.close();
    await once(server, 'close');
    return port;
}

/** `redis-server` on 127.0.0.1 on a free port, without persistence (as test/support/redis.ts). */
async function startRedis(path: string): Promise<{ url: string; stop(): Promise<void> }> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
        const port = await freePort();
        const child = spawn(
            path,
            ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
            { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        try {
            await waitReady(child);
        } catch (error) {
            lastError = error;
            child.kill('SIGKILL');
            continue;
        }
        return {
            url: `redis://127.0.0.1:${port}`,
            stop: async () => {
                if (child.exitCode === null && child.signalCode === null) {
                    child.kill('SIGKILL');
                    await once(child, 'exit');
                }
            },
        };
    }
    throw new Error(`redis-server did not start: ${String(lastError)}`);
}

function waitReady(child: ChildProcess): Promise<void> {
    return new Promise((resolve, reject) => {
        let output = '';
        const timer = setTimeout(() => reject(new Error(`no "Ready" line within 10 s:\n${output}`)), 10_000);
        const onData = (chunk: Buffer) => {
            output += chunk.toString();
            if (output.includes('Ready to accept connections')) {
                clearTimeout(timer);
                child.stdout?.off('data', onData);
                child.stdout?.resume(); // keep draining, so redis-server never blocks on a full pipe
                resolve();
            }
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', (chunk: Buffer) => {
            output += chunk.toString();
        });
        child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`redis-server exited with ${code}:\n${output}`));
        });
    });
}
