/**
 * Issue #15, stable `host[N]` pool ids: N pairs with the same `userData.sessionParams` across restarts,
 * so a session initialised for one account never serves another account's requests.
 */
import { attachManagedSessions } from '@managed-sessions/crawlee';
import { describe, expect, it } from 'vitest';
import { captureLog } from './support/crawlee.js';
import { recordingCrawler, sharedStorage, useCleanup } from './support/reliability-harness.js';
import { cookieValue, html, startServer } from './support/server.js';

const cleanup = useCleanup();

describe('host[N] pool ids for sessionParams', () => {
    it('a restart over the same storage, with the accounts in the opposite order, serves each account its own sessions', async () => {
        let logins = 0;
        const server = cleanup(
            await startServer((request, response) => {
                const url = new URL(request.path, 'http://x');
                if (url.pathname === '/login') {
                    logins++;
                    const account = url.searchParams.get('account');
                    return html(response, 'welcome', 200, { 'set-cookie': `acct=${account}; Path=/` });
                }
                html(response, `<p id="acct">${cookieValue(request.cookie, 'acct') ?? 'none'}</p>`);
            }),
        );
        const open = sharedStorage();
        const served: { account: string; cookie: string }[] = [];
        const crawl = async (accounts: string[], tag: string) => {
            const { config, requestQueue } = await open();
            const { log } = captureLog();
            const { crawler, record } = recordingCrawler({
                log,
                config,
                requestQueue,
                onPage: ({ request, $ }) =>
                    void served.push({ account: request.userData.account as string, cookie: $('#acct').text() }),
            });
            const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0, report: false });
            await crawler.run(
                accounts.flatMap((account) =>
                    [0, 1].map((i) => ({
                        url: `${server.url}/p/${tag}/${account}/${i}`,
                        userData: { account, sessionParams: { url: `${server.url}/login?account=${account}` } },
                    })),
                ),
            );
            expect({ handled: record.handled.length, failed: record.failed }).toEqual({ handled: 4, failed: [] });
            return sessions;
        };

        const first = await crawl(['alice', 'bob'], 'a');
        expect(
            first
                .pools()
                .map((pool) => pool.id)
                .sort(),
        ).toEqual([`${server.host}[0]`, `${server.host}[1]`]);
        expect(logins).toBe(2);

        const second = await crawl(['bob', 'alice'], 'b');
        // The restored sessions served both accounts again, each in its own pool: no new login.
        expect(logins).toBe(2);
        expect(
            second
                .pools()
                .map((pool) => pool.id)
                .sort(),
        ).toEqual([`${server.host}[0]`, `${server.host}[1]`]);
        expect(served).toHaveLength(8);
        expect(served.filter((entry) => entry.account !== entry.cookie)).toEqual([]);
    });
});
