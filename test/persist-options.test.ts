import { CheerioCrawler } from '@crawlee/cheerio';
import { KeyValueStore } from '@crawlee/core';
import { attachManagedSessions, type ManagedSessionsOptions } from '@managed-sessions/crawlee';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLog, testConfig } from './support/crawlee.js';
import { cookieValue, html, startServer, type TestServer } from './support/server.js';

let server: TestServer;
afterEach(async () => server?.close());

/** Crawls two pages with a cookie session and returns what the key-value store holds afterwards. */
async function crawlAndRead(options: ManagedSessionsOptions, key = 'MANAGED_SESSIONS_STATE') {
    server = await startServer((request, response) => {
        if (!cookieValue(request.cookie, 'sid')) {
            return html(response, 'hi', 200, { 'set-cookie': 'sid=verysecretcookie; Path=/' });
        }
        html(response, 'ok');
    });
    const config = testConfig();
    const { log } = captureLog();
    const crawler = new CheerioCrawler({ log, requestHandler: () => undefined }, config);
    attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0, ...options });
    await crawler.run([`${server.url}/a`, `${server.url}/b`]);
    const store = await KeyValueStore.open(null, { config });
    return store.getValue<Record<string, unknown>>(key);
}

describe('persistState option', () => {
    it('saves the pool state with cookies under MANAGED_SESSIONS_STATE by default', async () => {
        const record = await crawlAndRead({});
        expect(record).toMatchObject({
            format: 'managed-sessions/state',
            version: 1,
            stats: { 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 2 },
        });
        expect(JSON.stringify(record)).toContain('verysecretcookie');
    });

    it('leaves cookie values out with cookies: false, and uses the given key', async () => {
        const record = await crawlAndRead({ persistState: { cookies: false, key: 'MY_SESSIONS' } }, 'MY_SESSIONS');
        expect(record).toMatchObject({ format: 'managed-sessions/state' });
        expect(JSON.stringify(record)).not.toContain('verysecretcookie');
    });

    it('writes nothing with enabled: false', async () => {
        expect(await crawlAndRead({ persistState: { enabled: false } })).toBeNull();
    });
});
