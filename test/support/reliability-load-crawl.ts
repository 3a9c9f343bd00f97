/**
 * The load crawl of reliability-load.test.ts, in its own process (run it with `--expose-gc`):
 * `reliability-load-crawl.ts <server url> <requests> <concurrency> <warm-up requests> [hosts]`.
 * With `hosts`, the requests go to that many pools (`userData.sessionPool` `host-0`, `host-1`, …, one
 * session each), host after host: pools that served their share go idle, and are evicted.
 * Enqueues every request first (so the queue's memory is there before the warm-up), crawls them with a
 * fixed concurrency through one pool of 2 sessions, and prints one JSON line of figures. Heap figures
 * are `heapUsed` after a full GC: once `warmUp` requests were handled (the crawl in full swing) and once
 * `run()` resolved.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, Log, LogLevel } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';
import { attachManagedSessions } from '@managed-sessions/crawlee';

const [base, total, concurrency, warmUp, hosts] = [
    process.argv[2]!,
    Number(process.argv[3]),
    Number(process.argv[4]),
    Number(process.argv[5]),
    Number(process.argv[6] ?? 0),
];
const gc = (globalThis as { gc?: () => void }).gc;
if (!base || !total || !concurrency || !warmUp || !gc) {
    throw new Error(
        'usage: node --expose-gc … reliability-load-crawl.ts <server url> <requests> <concurrency> <warm-up>',
    );
}
const heapMb = () => {
    gc();
    return Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10;
};

const WAIT_TIMEOUT_SECS = 10;
let handled = 0;
let heapWarmMb: number | undefined;
let warmAtMs: number | undefined;
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
        requestHandler: ({ $ }) => {
            if ($('#sid').text() === '') throw new Error('page without a session');
            handled++;
            if (handled === warmUp) {
                heapWarmMb = heapMb();
                warmAtMs = performance.now();
            }
        },
        failedRequestHandler: (_context, error) => void failures.push(error.message),
    },
    config,
);
// A request that waited longer than waitTimeoutSecs for a session fails with NoSessionAvailableError.
const sessions = attachManagedSessions(crawler, {
    poolSize: hosts > 0 ? 1 : 2,
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
    for (const pool of sessions.pools()) maxWaiting = Math.max(maxWaiting, pool.waiting);
}, 20);
await crawler.run();
clearInterval(sampler);
const crawlEnd = performance.now();
const heapEndMb = heapMb();
const info = await (await crawler.getRequestQueue()).getInfo();
process.stdout.write(
    `${JSON.stringify({
        enqueueMs: Math.round(crawlStart - enqueueStart),
        crawlMs: Math.round(crawlEnd - crawlStart),
        afterWarmUpMs: warmAtMs === undefined ? undefined : Math.round(crawlEnd - warmAtMs),
        heapWarmMb,
        heapEndMb,
        maxWaiting,
        failures: failures.slice(0, 5),
        stats: sessions.stats,
        pools: hosts > 0 ? sessions.pools().length : sessions.pools(),
        ledger: {
            added: info?.totalRequestCount,
            handled,
            failed: failures.length,
            pending: info?.pendingRequestCount,
        },
    })}\n`,
);
