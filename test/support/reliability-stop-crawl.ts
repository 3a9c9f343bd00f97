/**
 * `crawler.stop()` with session inits in flight, in its own process (reliability-stop.test.ts):
 * `reliability-stop-crawl.ts <server url>`. The server answers the first init and holds every later one.
 * The handler of the first page calls `crawler.stop()` and prints `stopped` with the pools at that
 * moment; once `run()` resolves, one JSON line follows. Then the process must exit by itself.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { Log, LogLevel } from '@crawlee/core';
import { attachManagedSessions, type PoolSnapshot } from '@managed-sessions/crawlee';
import { testConfig } from './crawlee.js';

const base = process.argv[2];
if (!base) throw new Error('usage: reliability-stop-crawl.ts <server url>');

let handled = 0;
let failed = 0;
let stoppedAt: number | undefined;
let atStop: PoolSnapshot[] = [];
const crawler = new CheerioCrawler(
    {
        log: new Log({ level: LogLevel.OFF }),
        minConcurrency: 3,
        maxConcurrency: 3,
        maxRequestRetries: 0,
        requestHandler: () => {
            handled++;
            if (stoppedAt !== undefined) return;
            atStop = sessions.pools();
            stoppedAt = performance.now();
            crawler.stop();
            process.stdout.write(`stopped ${JSON.stringify(atStop)}\n`);
        },
        failedRequestHandler: () => {
            failed++;
        },
    },
    testConfig(),
);
// Default waitTimeoutSecs and navigationTimeoutSecs (60 s): only the stop may end the waits.
const sessions = attachManagedSessions(crawler, { poolSize: 3 });
await crawler.run([1, 2, 3, 4, 5, 6].map((i) => `${base}/${i}`));
const resolvedMs = stoppedAt === undefined ? undefined : Math.round(performance.now() - stoppedAt);
const info = await (await crawler.getRequestQueue()).getInfo();
process.stdout.write(
    `${JSON.stringify({
        stopToResolvedMs: resolvedMs,
        closeReason: sessions.closeReason ?? null,
        stats: sessions.stats,
        pools: sessions.pools(),
        ledger: { added: info?.totalRequestCount, handled, failed, pending: info?.pendingRequestCount },
    })}\n`,
);
