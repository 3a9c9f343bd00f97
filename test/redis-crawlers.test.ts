import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allKeys, type RedisServer, redisAvailable, startRedis } from './support/redis.js';
import { uniquePrefix, until } from './support/redis-harness.js';
import { type SessionSite, startSessionSite } from './support/redis-site.js';

const script = fileURLToPath(new URL('./support/redis-crawl.ts', import.meta.url));

interface CrawlResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    /** The JSON line printed when `run()` resolved. */
    output: {
        closeReason: string | undefined;
        stats: Record<string, number>;
        handled: string[];
        queue: { added: number; handled: number; failed: number; pending: number };
    };
    /** ms between that line and the process's exit. */
    exitLagMs: number;
}

interface CrawlProcess {
    child: ChildProcess;
    started: Promise<void>;
    done: Promise<CrawlResult>;
}

const children: ChildProcess[] = [];

/** One crawler process (see support/redis-crawl.ts). */
function crawl(args: Record<string, unknown>): CrawlProcess {
    const child = spawn(
        process.execPath,
        ['--conditions=@managed-sessions/source', '--import', 'tsx', script, JSON.stringify(args)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stdout = '';
    let stderr = '';
    let printedAt: number | undefined;
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => {
        markStarted = resolve;
    });
    child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.startsWith('started\n')) markStarted();
        if (printedAt === undefined && stdout.split('\n').length > 2) printedAt = Date.now();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
    });
    const done = (async () => {
        const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
        const line = stdout.split('\n')[1] ?? '';
        return {
            code,
            signal,
            stderr,
            output: line ? JSON.parse(line) : undefined,
            exitLagMs: Date.now() - (printedAt ?? Date.now()),
        } as CrawlResult;
    })();
    return { child, started, done };
}

function paths(group: string, count: number): string[] {
    return Array.from({ length: count }, (_, i) => `/${group}/${i}`);
}

describe.skipIf(!redisAvailable())('three crawler processes share one pool through Redis', () => {
    let redis: RedisServer;
    let site: SessionSite | undefined;

    beforeAll(async () => {
        redis = await startRedis();
    });
    afterAll(async () => {
        await redis?.stop();
    });
    afterEach(async () => {
        for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
        await site?.close();
        site = undefined;
    });

    it('a pool of 4 for 3 processes: the site sees exactly 4 inits and never more than 4 sessions at once', async () => {
        site = await startSessionSite({ pageMs: 25 });
        const prefix = uniquePrefix('crawl');
        const common = { redisUrl: redis.url, prefix, siteUrl: site.url, poolSize: 4 };
        const runs = ['a', 'b', 'c'].map((group) => crawl({ ...common, paths: paths(group, 15) }));
        const results = await Promise.all(runs.map((run) => run.done));

        for (const result of results) {
            expect({ code: result.code, signal: result.signal, stderr: result.stderr }).toEqual({
                code: 0,
                signal: null,
                stderr: '',
            });
            expect(result.output.closeReason).toBeUndefined();
            expect(result.output.queue).toEqual({ added: 15, handled: 15, failed: 0, pending: 0 });
            expect(result.output.stats['sessions/use/check-passed']).toBe(15);
            // No connection, socket or timer keeps a process alive after run().
            expect(result.exitLagMs).toBeLessThan(2_000);
        }
        const { record } = site;
        expect(record.inits).toBe(4);
        // Each process counts its own inits only; together they are the site's 4.
        const inits = results.map((result) => result.output.stats['sessions/init/check-passed'] ?? 0);
        expect(inits.reduce((sum, n) => sum + n, 0)).toBe(4);
        expect([...record.sids.keys()].sort()).toEqual(['s1', 's2', 's3', 's4']);
        expect(record.maxConcurrentSessions).toBeLessThanOrEqual(4);
        expect([...record.pages.values()].every((count) => count === 1)).toBe(true);
        expect(record.pages.size).toBe(45);
        // Every process used sessions that another one initialised (one pool, not three).
        for (const result of results) {
            const used = new Set(result.output.handled.map((line) => line.split(' ')[1]));
            expect(used.size).toBeGreaterThan(0);
        }
        const keys = await allKeys(redis);
        const ours = keys.filter((key) => key.includes(prefix));
        expect(ours.length).toBeGreaterThan(0);
        expect(ours.every((key) => key.startsWith(`${prefix}:`))).toBe(true);

        console.info(
            `3 processes, pool of 4: ${record.inits} inits seen by the site, ` +
                `at most ${record.maxConcurrentSessions} sessions at once, inits by process ${JSON.stringify(inits)}`,
        );
    }, 45_000);

    it('exclusive: a session banned in one process is replaced once and never used by another afterwards', async () => {
        site = await startSessionSite({ pageMs: 15, banPaths: ['/b/3'] });
        const prefix = uniquePrefix('ban');
        const common = { redisUrl: redis.url, prefix, siteUrl: site.url, poolSize: 4, exclusive: true };
        const runs = ['a', 'b', 'c'].map((group) => crawl({ ...common, paths: paths(group, 12) }));
        const results = await Promise.all(runs.map((run) => run.done));

        for (const result of results) {
            expect(result.code).toBe(0);
            expect(result.output.queue).toEqual({ added: 12, handled: 12, failed: 0, pending: 0 });
        }
        const { record } = site;
        expect(record.banned.size).toBe(1);
        expect(record.usedAfterBan).toEqual([]);
        // 4 sessions, plus exactly one replacement for the banned one.
        expect(record.inits).toBe(5);
        expect(record.maxInFlightPerSession).toBe(1);
        expect(record.maxConcurrentSessions).toBeLessThanOrEqual(4);
        const failedChecks = results.map((result) => result.output.stats['sessions/use/check-failed'] ?? 0);
        expect(failedChecks).toEqual([0, 1, 0]);

        console.info(
            `exclusive with a ban: ${record.inits} inits, banned ${[...record.banned.keys()]}, ` +
                `used after the ban ${record.usedAfterBan.length} times, at most ${record.maxConcurrentSessions} sessions at once`,
        );
    }, 45_000);

    it("exclusive: a SIGKILLed process's leases expire after leaseSecs and the others reuse its sessions", async () => {
        site = await startSessionSite({ pageMs: 15, hangPrefix: '/k/' });
        const prefix = uniquePrefix('kill');
        const common = {
            redisUrl: redis.url,
            prefix,
            siteUrl: site.url,
            poolSize: 2,
            exclusive: true,
            leaseSecs: 2,
            concurrency: 2,
        };
        // The victim inits both sessions and holds them: its pages never answer.
        const victim = crawl({ ...common, paths: paths('k', 4) });
        const liveSite = site;
        await until(() => liveSite.hanging().length === 2, 20_000, 'the victim holding both sessions');
        expect(site.record.inits).toBe(2);

        const others = ['b', 'c'].map((group) => crawl({ ...common, paths: paths(group, 6) }));
        await Promise.all(others.map((run) => run.started));
        // Give them time to ask for sessions: they wait, the victim's leases are live.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect(site.record.firstPageAt.has('b') || site.record.firstPageAt.has('c')).toBe(false);

        victim.child.kill('SIGKILL');
        const killedAt = Date.now();
        const results = await Promise.all(others.map((run) => run.done));
        const victimResult = await victim.done;
        expect(victimResult.signal).toBe('SIGKILL');

        for (const result of results) {
            expect(result.code).toBe(0);
            expect(result.output.queue).toEqual({ added: 6, handled: 6, failed: 0, pending: 0 });
            expect(result.output.stats['sessions/init/check-passed']).toBeUndefined();
        }
        const { record } = site;
        // No new init: the victim's two sessions came back once their leases expired.
        expect(record.inits).toBe(2);
        expect([...record.sids.keys()].sort()).toEqual(['s1', 's2']);
        expect(record.maxInFlightPerSession).toBe(1);
        const firstUse = Math.min(record.firstPageAt.get('b')!, record.firstPageAt.get('c')!);
        // The victim renewed its leases every third of leaseSecs, so they lasted up to 2 s after the kill:
        // nobody used its sessions before. Then they expired, long before waitTimeoutSecs (60 s). The
        // first page request also pays the others' got-scraping start-up, hence the slack on a busy machine.
        expect(firstUse - killedAt).toBeGreaterThan(1_000);
        expect(firstUse - killedAt).toBeLessThan(2_000 + 3_000);

        console.info(
            `SIGKILL: the others' first use came ${firstUse - killedAt} ms after the kill (leaseSecs 2); ` +
                `inits ${record.inits}`,
        );
    }, 45_000);
});
