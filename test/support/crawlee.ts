import type { BasicCrawler } from '@crawlee/basic';
import { Configuration, Log, LogLevel } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';

/** A Crawlee configuration with fresh in-memory storage, so tests never share or write state. */
export function testConfig(): Configuration {
    return new Configuration({
        storageClient: new MemoryStorage({ persistStorage: false, writeMetadata: false }),
        persistStorage: false,
        purgeOnStart: true,
    });
}

/** A logger whose every line is captured (and not printed). */
export function captureLog(level = LogLevel.DEBUG): { log: Log; lines: string[] } {
    const lines: string[] = [];
    const logger = {
        log: (_level: number, message: string, data?: unknown, exception?: unknown) => {
            lines.push(
                [
                    message,
                    data ? JSON.stringify(data) : '',
                    exception ? String((exception as Error).stack ?? exception) : '',
                ]
                    .filter(Boolean)
                    .join(' '),
            );
        },
        setOptions: () => undefined,
        getOptions: () => ({}),
    };
    const log = new Log({ level, logger: logger as never });
    return { log, lines };
}

/** Where the requests of a finished (or stopped) crawl are: handled, failed, still pending. */
export async function queueCounts(
    crawler: BasicCrawler<any>,
): Promise<{ added: number; handled: number; failed: number; pending: number }> {
    const queue = await crawler.getRequestQueue();
    const info = await queue.getInfo();
    const failed = crawler.stats.state.requestsFailed;
    return {
        added: info?.totalRequestCount ?? 0,
        // Failed requests are marked handled in the queue too.
        handled: (info?.handledRequestCount ?? 0) - failed,
        failed,
        pending: info?.pendingRequestCount ?? 0,
    };
}
