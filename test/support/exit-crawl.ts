/**
 * A whole crawl in its own process, for the "exits promptly" test: `node --conditions=@managed-sessions/source
 * --import tsx test/support/exit-crawl.ts <url>`. It prints one JSON line when `run()` resolves and must
 * then exit by itself: no timer, socket or pending init may keep the process alive.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { attachManagedSessions } from '@managed-sessions/crawlee';
import { captureLog, queueCounts, testConfig } from './crawlee.js';

const base = process.argv[2];
if (!base) throw new Error('usage: exit-crawl.ts <server url>');

const { log } = captureLog();
const crawler = new CheerioCrawler(
    { log, minConcurrency: 2, maxConcurrency: 2, maxRequestRetries: 0, requestHandler: () => undefined },
    testConfig(),
);
// Default statusIntervalSecs and waitTimeoutSecs: their timers must not outlive the crawl either.
const sessions = attachManagedSessions(crawler, { poolSize: 2, maxBadInits: 1 });
await crawler.run([`${base}/1`, `${base}/2`]);
process.stdout.write(
    `${JSON.stringify({ closeReason: sessions.closeReason, stats: sessions.stats, queue: await queueCounts(crawler) })}\n`,
);
