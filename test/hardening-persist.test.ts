/**
 * Issue #15: a persisted record with one corrupt session entry (a bad cookie jar, a bad proxy URL)
 * costs that session only; `persistState.cookies: false` keeps no secret.
 */
import { KeyValueStore, ProxyConfiguration } from '@crawlee/core';
import { attachManagedSessions } from '@managed-sessions/crawlee';
import { describe, expect, it } from 'vitest';
import { captureLog } from './support/crawlee.js';
import { startProxy } from './support/proxy.js';
import { recordingCrawler, sharedStorage, useCleanup } from './support/reliability-harness.js';
import { cookieValue, html, startServer } from './support/server.js';

const cleanup = useCleanup();
const KEY = 'MANAGED_SESSIONS_STATE';

async function siteWithLogins() {
    let inits = 0;
    const server = cleanup(
        await startServer((request, response) => {
            if (!cookieValue(request.cookie, 'sid')) {
                inits++;
                return html(response, 'welcome', 200, { 'set-cookie': `sid=secretcookie${inits}; Path=/` });
            }
            html(response, 'ok');
        }),
    );
    return { server, inits: () => inits };
}

describe('a corrupt session entry in the saved record', () => {
    for (const [name, corrupt] of [
        ['a cookie jar that is not one', { cookieJar: { version: 'x', cookies: 'secretjar' } }],
        ['a proxy URL that is not a URL', { proxyUrl: 'http://user:secretpass@[bad' }],
    ] as const) {
        it(`${name}: that entry is dropped with one warning, a new session replaces it, the others serve`, async () => {
            const { server, inits } = await siteWithLogins();
            const open = sharedStorage();
            const crawl = async (urls: string[]) => {
                const { config, requestQueue } = await open();
                const { log, lines } = captureLog();
                const { crawler, record } = recordingCrawler({ log, config, requestQueue });
                const sessions = attachManagedSessions(crawler, { poolSize: 2, statusIntervalSecs: 0, report: false });
                return { crawler, record, sessions, lines, config, run: () => crawler.run(urls) };
            };
            const first = await crawl([`${server.url}/a`, `${server.url}/b`]);
            await first.run();
            expect(inits()).toBe(2);
            const store = await KeyValueStore.open(null, { config: first.config });
            const saved = (await store.getValue<{ pools: { sessions: Record<string, unknown>[] }[] }>(KEY))!;
            expect(saved.pools[0]!.sessions).toHaveLength(2);
            Object.assign(saved.pools[0]!.sessions[0]!, corrupt);
            await store.setValue(KEY, saved);

            const second = await crawl([`${server.url}/c`, `${server.url}/d`, `${server.url}/e`]);
            await second.run();
            expect({ handled: second.record.handled.length, failed: second.record.failed }).toEqual({
                handled: 3,
                failed: [],
            });
            // One replacement init for the dropped entry; the intact one served without an init.
            expect(inits()).toBe(3);
            const warnings = second.lines.filter((line) => line.includes('saved session'));
            expect(warnings).toEqual([
                `Dropped 1 saved session(s) of the record under ${KEY} that could not be read (pool ${server.host}: ` +
                    `${name.startsWith('a cookie') ? 'cookie jar' : 'proxy URL'} unreadable); new sessions replace them.`,
            ]);
            expect(second.lines.join('\n')).not.toMatch(/secretjar|secretpass/);
        });
    }
});

describe('persistState.cookies: false', () => {
    it('keeps no cookie, no proxy password and no session userData; a session whose proxy lost its password is not restored', async () => {
        const { server, inits } = await siteWithLogins();
        const proxy = cleanup(await startProxy('exit', { username: 'bob', password: 'secretpass' }));
        const open = sharedStorage();
        const crawl = async (urls: string[]) => {
            const { config, requestQueue } = await open();
            const { log } = captureLog();
            const { crawler, record } = recordingCrawler({
                log,
                config,
                requestQueue,
                onPage: ({ session }) => {
                    session!.userData.token = 'secretuserdata';
                },
                proxyConfiguration: new ProxyConfiguration({ proxyUrls: [proxy.url] }),
            });
            attachManagedSessions(crawler, {
                poolSize: 1,
                statusIntervalSecs: 0,
                report: false,
                persistState: { cookies: false },
            });
            await crawler.run(urls);
            return { config, record };
        };
        const first = await crawl([`${server.url}/a`]);
        const store = await KeyValueStore.open(null, { config: first.config });
        const saved = await store.getValue<{ pools: { sessions: Record<string, unknown>[] }[] }>(KEY);
        const text = JSON.stringify(saved);
        expect(text).not.toMatch(/secretcookie|secretpass|secretuserdata/);
        expect(saved!.pools[0]!.sessions[0]).toMatchObject({
            proxyUrl: proxy.url.replace('bob:secretpass@', ''),
            proxyCredentials: 'omitted',
            userData: {},
        });
        const second = await crawl([`${server.url}/b`]);
        expect(second.record.handled).toEqual([`${server.url}/b`]);
        // The saved session could not reach its proxy without the password: a new one was made.
        expect(inits()).toBe(2);
    });
});
