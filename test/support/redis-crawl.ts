/**
 * One crawler process of the multi-process tests:
 * `node --conditions=@managed-sessions/source --import tsx test/support/redis-crawl.ts <json>`
 * with `{ redisUrl, prefix, siteUrl, paths, poolSize, exclusive?, leaseSecs?, concurrency? }`.
 * It prints `started` before `run()`, then one JSON line with its stats when `run()` resolves, and
 * must then exit by itself (the store's connections closed at teardown).
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { attachManagedSessions } from '@managed-sessions/crawlee';
import { RedisSessionStore } from '@managed-sessions/redis';
import { captureLog, queueCounts, testConfig } from './crawlee.js';

interface Args {
    redisUrl: string;
    prefix: string;
    siteUrl: string;
    paths: string[];
    poolSize: number;
    exclusive?: boolean;
    leaseSecs?: number;
    concurrency?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const { log } = captureLog();
const handled: string[] = [];
const crawler = new CheerioCrawler(
    {
        log,
        minConcurrency: args.concurrency ?? 4,
        maxConcurrency: args.concurrency ?? 4,
        maxRequestRetries: 3,
        requestHandler: ({ request, $ }) => void handled.push(`${new URL(request.url).pathname} ${$('#sid').text()}`),
    },
    testConfig(),
);
const sessions = attachManagedSessions(crawler, {
    poolSize: args.poolSize,
    exclusive: args.exclusive ?? false,
    statusIntervalSecs: 0,
    persistState: { enabled: false },
    store: new RedisSessionStore({
        url: args.redisUrl,
        prefix: args.prefix,
        ...(args.leaseSecs !== undefined ? { leaseSecs: args.leaseSecs } : {}),
    }),
});
process.stdout.write('started\n');
await crawler.run(args.paths.map((path) => `${args.siteUrl}${path}`));
process.stdout.write(
    `${JSON.stringify({
        closeReason: sessions.closeReason,
        stats: sessions.stats,
        handled,
        queue: await queueCounts(crawler),
    })}\n`,
);
