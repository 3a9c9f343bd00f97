/**
 * Issue #15: the end-of-crawl summary shows each pool's learned lifetime and stays bounded with many pools.
 */
import { attachManagedSessions } from '@managed-sessions/crawlee';
import { describe, expect, it } from 'vitest';
import { captureLog } from './support/crawlee.js';
import { recordingCrawler, useCleanup } from './support/reliability-harness.js';
import { cookieValue, html, startServer } from './support/server.js';

const cleanup = useCleanup();

const summaryOf = (lines: string[]) => lines.find((line) => line.startsWith('Managed sessions summary'))!;

describe('the end-of-crawl summary', () => {
    it('shows the lifetime a pool learned from expiries', async () => {
        let next = 0;
        const uses = new Map<string, number>();
        // The site honours a session for 3 uses, then answers 403 (an expiry on the site).
        const server = cleanup(
            await startServer((request, response) => {
                const sid = cookieValue(request.cookie, 'sid');
                if (!sid) return html(response, 'welcome', 200, { 'set-cookie': `sid=s${++next}; Path=/` });
                const used = (uses.get(sid) ?? 0) + 1;
                uses.set(sid, used);
                html(response, used > 3 ? 'expired' : 'ok', used > 3 ? 403 : 200);
            }),
        );
        const { log, lines } = captureLog();
        const { crawler, record } = recordingCrawler({ log, maxSessionRotations: 10 });
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0, report: false });
        await crawler.run(Array.from({ length: 40 }, (_, i) => `${server.url}/p/${i}`));
        expect(record.handled).toHaveLength(40);
        expect(sessions.pools()[0]!.lifetime).toMatchObject({ uses: 3 });
        const table = summaryOf(lines).split('\n').slice(-2);
        expect(table[0]).toMatch(/^ {2}pool +size +ready +initializing +waiting +discarded +lifetime$/);
        expect(table[1]).toMatch(new RegExp(`^  ${server.host.replace(/\./g, '\\.')} +1 +1 +0 +0 +\\d+ +3 uses$`));
    });

    it('lists at most 20 pools, the most active first, then how many more', async () => {
        const server = cleanup(await startServer((_request, response) => html(response, 'ok')));
        const { log, lines } = captureLog();
        const { crawler } = recordingCrawler({ log });
        attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0, report: false });
        await crawler.run(
            Array.from({ length: 25 }, (_, i) => ({
                url: `${server.url}/p/${i}`,
                userData: { sessionPool: `pool-${i}` },
            })),
        );
        const summary = summaryOf(lines).split('\n');
        const rows = summary.filter((line) => /^ {2}pool-\d+ /.test(line));
        expect(rows).toHaveLength(20);
        expect(summary.at(-1)).toBe('  … and 5 more pools');
    });
});
