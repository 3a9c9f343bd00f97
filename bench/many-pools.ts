/**
 * Issue #15's figures: a crawl over many hosts. One CheerioCrawler crawls the demo shop (in a process of
 * its own, `site-worker.ts`) with one pool per "host" (`userData.sessionPool` `host-0`, `host-1`, …,
 * one session each, host after host), then prints: the heap after a full GC before and after the crawl,
 * the persisted record (`MANAGED_SESSIONS_STATE`, as Crawlee stores it: pretty-printed JSON) in bytes,
 * the pools and sessions it holds, the session report's HTML in bytes, the lines of the end-of-crawl
 * summary, and what `sessions.pools()` lists.
 *
 * ```bash
 * node --import tsx bench/many-pools.ts                     # 20,000 hosts (≈ 2 min on 2 cores)
 * node --import tsx bench/many-pools.ts --hosts 3000 --concurrency 20
 * ```
 *
 * It re-runs itself with `--expose-gc` and the workspace sources (`--conditions=@managed-sessions/source`)
 * when started without them. Not part of `pnpm bench`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SOURCE_CONDITION = '--conditions=@managed-sessions/source';
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !process.execArgv.includes(SOURCE_CONDITION)) {
    const file = fileURLToPath(import.meta.url);
    const child = spawnSync(
        process.execPath,
        ['--expose-gc', SOURCE_CONDITION, '--import', 'tsx', file, ...process.argv.slice(2)],
        { stdio: 'inherit' },
    );
    process.exit(child.status ?? 1);
}

const { values } = parseArgs({
    options: {
        hosts: { type: 'string', default: '20000' },
        concurrency: { type: 'string', default: '50' },
        // The option poolIdleSecs; the default leaves it at its own default (300).
        'pool-idle-secs': { type: 'string', default: '' },
    },
});
const HOSTS = Number(values.hosts);
const CONCURRENCY = Number(values.concurrency);
const POOL_IDLE_SECS = values['pool-idle-secs'] ? Number(values['pool-idle-secs']) : undefined;
const STATE_KEY = 'MANAGED_SESSIONS_STATE';

const { CheerioCrawler } = await import('@crawlee/cheerio');
const { Configuration, KeyValueStore, Log, LogLevel } = await import('@crawlee/core');
const { MemoryStorage } = await import('@crawlee/memory-storage');
const { SessionConfigRegistry } = await import('@managed-sessions/core');
const { attachManagedSessions } = await import('@managed-sessions/crawlee');
const { ShopSessions } = await import('./crawls.js');
const { startWorker } = await import('./ipc.js');

const heapMb = () => {
    for (let i = 0; i < 4; i++) gc!();
    return Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10;
};

const siteWorker = startWorker('./site-worker.ts');
try {
    const { url: siteUrl } = await siteWorker.call<{ url: string }>('start', {});
    // The summary goes to the crawler's log at teardown: keep its lines, print nothing.
    const lines: string[] = [];
    const logger = {
        log: (_level: number, message: string) => void lines.push(message),
        setOptions: () => undefined,
        getOptions: () => ({}),
    };
    const config = new Configuration({
        storageClient: new MemoryStorage({ persistStorage: false, writeMetadata: false }),
        persistStorage: false,
        purgeOnStart: true,
    });
    let failed = 0;
    const crawler = new CheerioCrawler(
        {
            log: new Log({ level: LogLevel.INFO, logger: logger as never }),
            minConcurrency: CONCURRENCY,
            maxConcurrency: CONCURRENCY,
            maxRequestRetries: 0,
            requestHandler: () => undefined,
            failedRequestHandler: () => void failed++,
        },
        config,
    );
    const registry = new SessionConfigRegistry();
    registry.register(ShopSessions, { include: '' });
    const sessions = attachManagedSessions(crawler, {
        poolSize: 1,
        registry,
        report: false,
        statusIntervalSecs: 0,
        ...(POOL_IDLE_SECS === undefined ? {} : { poolIdleSecs: POOL_IDLE_SECS }),
    });
    await crawler.addRequests(
        Array.from({ length: HOSTS }, (_, i) => ({
            url: `${siteUrl}/product/${(i % 1000) + 1}?host=${i}`,
            userData: { sessionPool: `host-${i}` },
        })),
        { waitForAllRequestsToBeAdded: true },
    );
    const heapBeforeMb = heapMb();
    const started = performance.now();
    await crawler.run();
    const crawlSecs = Math.round((performance.now() - started) / 100) / 10;
    const heapAfterMb = heapMb();
    const store = await KeyValueStore.open(null, { config });
    const record = (await store.getValue(STATE_KEY)) as { pools: { sessions: unknown[] }[] };
    const html = await sessions.report();
    const summary = lines.find((line) => line.startsWith('Managed sessions summary')) ?? '';
    const figures = {
        hosts: HOSTS,
        concurrency: CONCURRENCY,
        crawlSecs,
        failedRequests: failed,
        stats: sessions.stats,
        heapBeforeCrawlMb: heapBeforeMb,
        heapAfterCrawlMb: heapAfterMb,
        // As Crawlee's KeyValueStore.setValue() stores an object: JSON with 2-space indentation.
        persistedRecordBytes: Buffer.byteLength(JSON.stringify(record, null, 2)),
        persistedPools: record.pools.length,
        persistedSessions: record.pools.reduce((sum, pool) => sum + pool.sessions.length, 0),
        reportHtmlBytes: Buffer.byteLength(html),
        summaryLines: summary.split('\n').length,
        poolsListed: sessions.pools().length,
    };
    console.log(JSON.stringify(figures, null, 2));
} finally {
    await siteWorker.call('close');
    await siteWorker.close();
}
