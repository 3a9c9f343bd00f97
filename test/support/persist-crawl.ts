// A crawl over on-disk storage, for the restart test: `persist-crawl.ts <storageDir> <siteUrl> <handledFile> <count>`.
// Each handled URL is appended to handledFile as it happens; the final stats are printed as JSON.
import { appendFileSync } from 'node:fs';
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, Log, LogLevel, RequestQueueV1 } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';
import { attachManagedSessions } from '@managed-sessions/crawlee';

const [storageDir, siteUrl, handledFile, count] = process.argv.slice(2) as [string, string, string, string];
const config = new Configuration({
    storageClient: new MemoryStorage({ localDataDirectory: storageDir, persistStorage: true, writeMetadata: false }),
    persistStorage: true,
    purgeOnStart: false,
    persistStateIntervalMillis: 100,
});
// Crawlee's default queue locks fetched requests for at least 60 s, and the locks survive a SIGKILL on
// disk, so a restart would wait a minute for the requests in flight at the kill. V1 keeps them in memory.
const requestQueue = await RequestQueueV1.open(null, { config });
const crawler = new CheerioCrawler(
    {
        log: new Log({ level: LogLevel.OFF }),
        requestQueue,
        maxConcurrency: 2,
        requestHandler: ({ request }) => appendFileSync(handledFile, `${request.url}\n`),
    },
    config,
);
const sessions = attachManagedSessions(crawler, { poolSize: 2, statusIntervalSecs: 0 });
await crawler.run(Array.from({ length: Number(count) }, (_, i) => `${siteUrl}/p/${i}`));
process.stdout.write(`${JSON.stringify({ stats: sessions.stats, pools: sessions.pools() })}\n`);
