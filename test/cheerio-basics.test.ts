import { CheerioCrawler } from '@crawlee/cheerio';
import { attachManagedSessions, getRequestSessionId } from '@managed-sessions/crawlee';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLog, testConfig } from './support/crawlee.js';
import { cookieValue, html, startServer, type TestServer } from './support/server.js';

let server: TestServer;
afterEach(async () => server?.close());

describe('CheerioCrawler with managed sessions', () => {
    it('inits one session per pool slot, sends its cookie, and rotates', async () => {
        let next = 0;
        server = await startServer((request, response) => {
            const sid = cookieValue(request.cookie, 'sid');
            if (!sid) {
                next++;
                return html(response, 'welcome', 200, { 'set-cookie': `sid=s${next}; Path=/` });
            }
            return html(response, `<p id="sid">${sid}</p>`);
        });
        const seenBy: Record<string, string> = {};
        const sessionIds = new Set<string>();
        const { log } = captureLog();
        const crawler = new CheerioCrawler(
            {
                log,
                maxConcurrency: 1,
                requestHandler: ({ request, $ }) => {
                    seenBy[request.url] = $('#sid').text();
                    sessionIds.add(getRequestSessionId(request)!);
                },
            },
            testConfig(),
        );
        const sessions = attachManagedSessions(crawler, { poolSize: 2, statusIntervalSecs: 0 });
        const urls = [1, 2, 3, 4].map((i) => `${server.url}/p/${i}`);
        await crawler.run(urls);

        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-passed': 4,
        });
        expect(Object.values(seenBy).sort()).toEqual(['s1', 's1', 's2', 's2']);
        expect(sessionIds.size).toBe(2);
        // 2 init visits without cookie + 4 page visits with one.
        expect(server.seen.filter((r) => !r.cookie)).toHaveLength(2);
        expect(server.seen.filter((r) => r.cookie)).toHaveLength(4);
        expect(sessions.pools()).toEqual([
            { id: server.host, size: 2, ready: 2, initializing: 0, waiting: 0, discarded: 0 },
        ]);
    });

    it('retries a failed check with a different session and discards the failed one', async () => {
        let next = 0;
        server = await startServer((request, response) => {
            const sid = cookieValue(request.cookie, 'sid');
            if (!sid) {
                next++;
                return html(response, 'welcome', 200, { 'set-cookie': `sid=s${next}; Path=/` });
            }
            // Session s1 is banned.
            if (sid === 's1') return html(response, 'banned', 403);
            return html(response, `<p id="sid">${sid}</p>`);
        });
        const handled: string[] = [];
        const { log } = captureLog();
        const crawler = new CheerioCrawler(
            { log, maxConcurrency: 1, requestHandler: ({ $ }) => void handled.push($('#sid').text()) },
            testConfig(),
        );
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([`${server.url}/a`]);

        expect(handled).toEqual(['s2']);
        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-failed': 1,
            'sessions/use/check-passed': 1,
        });
        expect(sessions.pools()[0]).toMatchObject({ ready: 1, discarded: 1 });
    });
});
