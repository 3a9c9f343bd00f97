/**
 * The load crawl of reliability-load.test.ts, in its own process (run it with `--expose-gc`):
 * `reliability-load-crawl.ts <server url> <requests> <concurrency> <warm-up requests> [hosts]
 * [--control] [--heap-at=n,n,…] [--snapshot-at=n,n,… --snapshot-dir=dir]`.
 *
 * Enqueues every request first (so the queue's memory is there before the warm-up), crawls them with a
 * fixed concurrency and prints one JSON line of figures. Without `hosts`, every request goes through one
 * pool of 2 sessions. With `hosts`, the requests go to that many pools (`userData.sessionPool` `host-0`,
 * `host-1`, …, one session each), host after host: pools that served their share go idle, and are evicted.
 *
 * `--control` crawls the same requests with the same crawler and no managed sessions (Crawlee's own session
 * pool shrunk to one session, as the plugin does): its heap growth is what Crawlee itself (request queue,
 * storage, statistics) retains, so the plugin's own is the difference.
 *
 * Heap figures are `heapUsed` after a full GC, in MB: once `warm-up` requests were handled, at each
 * `--heap-at` count of handled requests (`heapAt`) and once `run()` resolved. `--snapshot-at` writes a V8
 * heap snapshot at those counts (to find out what grows). With the plugin, the figures also hold what the
 * crawl left in the key-value store: the persisted record (pools and sessions it holds, its size) and
 * the pools `sessions.pools()` lists.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, KeyValueStore, Log, LogLevel } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';
import { attachManagedSessions, type ManagedSessions } from '@managed-sessions/crawlee';

const { values: flags, positionals } = parseArgs({
    allowPositionals: true,
    options: {
        control: { type: 'boolean', default: false },
        'heap-at': { type: 'string', default: '' },
        'snapshot-at': { type: 'string', default: '' },
        'snapshot-dir': { type: 'string', default: '.' },
    },
});
const [base, total, concurrency, warmUp, hosts] = [
    positionals[0]!,
    Number(positionals[1]),
    Number(positionals[2]),
    Number(positionals[3]),
    Number(positionals[4] ?? 0),
];
const counts = (list: string) => new Set(list.split(',').filter(Boolean).map(Number));
const heapAt = counts(flags['heap-at']);
const snapshotAt = counts(flags['snapshot-at']);
const gc = (globalThis as { gc?: () => void }).gc;
if (!base || !total || !concurrency || !warmUp || !gc) {
    throw new Error(
        'usage: node --expose-gc … reliability-load-crawl.ts <server url> <requests> <concurrency> <warm-up> [hosts] [--control] [--heap-at=n,…]',
    );
}
const heapMb = () => {
    gc();
    return Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 100) / 100;
};

const WAIT_TIMEOUT_SECS = 10;
const STATE_KEY = 'MANAGED_SESSIONS_STATE';
let handled = 0;
let heapWarmMb: number | undefined;
let warmAtMs: number | undefined;
const heapAtMb: Record<number, number> = {};
const snapshots: string[] = [];
const failures: string[] = [];
const config = new Configuration({
    storageClient: new MemoryStorage({ persistStorage: false, writeMetadata: false }),
    persistStorage: false,
    purgeOnStart: true,
});
const crawler = new CheerioCrawler(
    {
        log: new Log({ level: LogLevel.OFF }),
        minConcurrency: concurrency,
        maxConcurrency: concurrency,
        maxRequestRetries: 0,
        // What the plugin makes of Crawlee's own pool (one placeholder session), so that the control crawl
        // differs from the plugin's by the plugin alone, not by Crawlee's 1,000 sessions and their cookies.
        ...(flags.control ? { sessionPoolOptions: { maxPoolSize: 1, persistenceOptions: { enable: false } } } : {}),
        requestHandler: ({ $ }) => {
            // Without sessions, the site never sees a cookie: every page is its welcome page.
            if (!flags.control && $('#sid').text() === '') throw new Error('page without a session');
            handled++;
            if (handled === warmUp) {
                heapWarmMb = heapMb();
                warmAtMs = performance.now();
            }
            if (heapAt.has(handled)) heapAtMb[handled] = heapMb();
            if (snapshotAt.has(handled)) {
                snapshots.push(
                    writeHeapSnapshot(
                        join(flags['snapshot-dir'], `${flags.control ? 'control' : 'plugin'}-${handled}.heapsnapshot`),
                    ),
                );
            }
        },
        failedRequestHandler: (_context, error) => void failures.push(error.message),
    },
    config,
);
// A request that waited longer than waitTimeoutSecs for a session fails with NoSessionAvailableError.
const sessions: ManagedSessions | undefined = flags.control
    ? undefined
    : attachManagedSessions(crawler, {
          poolSize: hosts > 0 ? 1 : 2,
          // Host after host: a pool unused for a second has served its share and is evicted.
          ...(hosts > 0 ? { poolIdleSecs: 1 } : {}),
          report: false,
          delay: 0,
          waitTimeoutSecs: WAIT_TIMEOUT_SECS,
          statusIntervalSecs: 0,
      });

const enqueueStart = performance.now();
const perHost = hosts > 0 ? Math.ceil(total / hosts) : total;
await crawler.addRequests(
    Array.from({ length: total }, (_, i) =>
        hosts > 0
            ? { url: `${base}/p/${i}`, userData: { sessionPool: `host-${Math.floor(i / perHost)}` } }
            : `${base}/p/${i}`,
    ),
    { waitForAllRequestsToBeAdded: true },
);
const crawlStart = performance.now();
let maxWaiting = 0;
const sampler = setInterval(() => {
    for (const pool of sessions?.pools() ?? []) maxWaiting = Math.max(maxWaiting, pool.waiting);
}, 20);
await crawler.run();
clearInterval(sampler);
const crawlEnd = performance.now();
const heapEndMb = heapMb();
const info = await (await crawler.getRequestQueue()).getInfo();
// The record the crawl saved at its teardown: the live pools' sessions and the parked ones of evicted pools.
const record = sessions
    ? ((await (await KeyValueStore.open(null, { config })).getValue(STATE_KEY)) as {
          pools: { id: string; sessions: unknown[] }[];
      } | null)
    : null;
process.stdout.write(
    `${JSON.stringify({
        enqueueMs: Math.round(crawlStart - enqueueStart),
        crawlMs: Math.round(crawlEnd - crawlStart),
        afterWarmUpMs: warmAtMs === undefined ? undefined : Math.round(crawlEnd - warmAtMs),
        heapWarmMb,
        heapAtMb,
        heapEndMb,
        snapshots,
        maxWaiting,
        failures: failures.slice(0, 5),
        stats: sessions?.stats,
        pools: hosts > 0 ? sessions?.pools().length : sessions?.pools(),
        record: record && {
            pools: record.pools.length,
            sessions: record.pools.reduce((sum, pool) => sum + pool.sessions.length, 0),
            bytes: Buffer.byteLength(JSON.stringify(record)),
        },
        ledger: {
            added: info?.totalRequestCount,
            handled,
            failed: failures.length,
            pending: info?.pendingRequestCount,
        },
    })}\n`,
);
