import { CheerioCrawler } from '@crawlee/cheerio';
import { ProxyConfiguration } from '@crawlee/core';
import { attachManagedSessions, getRequestSessionId } from '@managed-sessions/crawlee';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLog, testConfig } from './support/crawlee.js';
import { startProxy, type TestProxy } from './support/proxy.js';
import { cookieValue, html, type SeenRequest, sidSite, startServer, type TestServer } from './support/server.js';

const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
    await Promise.all(closing.splice(0).map((item) => item.close()));
});

async function serve(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
    const server = await startServer(handler);
    closing.push(server);
    return server;
}

async function proxy(name: string, auth?: { username: string; password: string }): Promise<TestProxy> {
    const started = await startProxy(name, auth);
    closing.push(started);
    return started;
}

/** The session each request belongs to: its `sid` cookie, or for an init the `sid` its response issued. */
function sessionsOf(seen: SeenRequest[], issuedPrefix = 's'): string[] {
    let issued = 0;
    return seen.map((request) => cookieValue(request.cookie, 'sid') ?? `${issuedPrefix}${++issued}`);
}

describe('sticky proxies', () => {
    it('each session always leaves through the same proxy, its init included', async () => {
        const server = await serve(sidSite());
        const p1 = await proxy('p1');
        const p2 = await proxy('p2');
        const { log } = captureLog();
        const crawler = new CheerioCrawler(
            {
                log,
                maxConcurrency: 1,
                maxRequestRetries: 0,
                proxyConfiguration: new ProxyConfiguration({ proxyUrls: [p1.url, p2.url] }),
                requestHandler: () => undefined,
            },
            testConfig(),
        );
        const sessions = attachManagedSessions(crawler, { poolSize: 2, statusIntervalSecs: 0 });
        await crawler.run([1, 2, 3, 4, 5, 6].map((i) => `${server.url}/${i}`));

        const exits = server.seen.map((request, i) => `${sessionsOf(server.seen)[i]} ${request.headers['x-proxy']}`);
        expect(exits).toEqual(['s1 p1', 's1 p1', 's2 p2', 's2 p2', 's1 p1', 's2 p2', 's1 p1', 's2 p2']);
        expect(p1.forwarded).toHaveLength(4);
        expect(p2.forwarded).toHaveLength(4);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-passed': 6 });
    });

    it('getRequestSessionId(request) is the id that proxyConfiguration.newProxyInfo received', async () => {
        const server = await serve(sidSite());
        const p1 = await proxy('p1');
        const proxyIds: string[] = [];
        const seen: { requestSessionId: string | undefined; sessionId: string | undefined; proxyInfoId: unknown }[] =
            [];
        const { log } = captureLog();
        const crawler = new CheerioCrawler(
            {
                log,
                maxConcurrency: 1,
                maxRequestRetries: 0,
                proxyConfiguration: new ProxyConfiguration({
                    newUrlFunction: (sessionId) => {
                        proxyIds.push(String(sessionId));
                        return p1.url;
                    },
                }),
                requestHandler: ({ request, session, proxyInfo }) => {
                    seen.push({
                        requestSessionId: getRequestSessionId(request),
                        sessionId: session?.id,
                        proxyInfoId: proxyInfo?.sessionId,
                    });
                },
            },
            testConfig(),
        );
        attachManagedSessions(crawler, { poolSize: 2, statusIntervalSecs: 0 });
        await crawler.run([1, 2, 3].map((i) => `${server.url}/${i}`));

        expect(seen).toHaveLength(3);
        for (const entry of seen) {
            expect(entry.requestSessionId).toBeDefined();
            expect(entry.sessionId).toBe(entry.requestSessionId);
            expect(entry.proxyInfoId).toBe(entry.requestSessionId);
        }
        // Only managed sessions ever asked for a proxy: never Crawlee's placeholder session.
        expect(new Set(proxyIds)).toEqual(new Set(seen.map((entry) => entry.requestSessionId)));
        expect(new Set(proxyIds).size).toBe(2);
        expect(p1.forwarded).toHaveLength(5);
    });
});

describe('secrets stay out of logs', () => {
    it('no cookie value and no proxy password appears in any captured line', async () => {
        let issued = 0;
        let pages = 0;
        const server = await serve((request, response) => {
            const sid = cookieValue(request.cookie, 'sid');
            if (!sid) {
                issued++;
                return html(response, 'welcome', 200, { 'set-cookie': `sid=topsecretcookie${issued}; Path=/` });
            }
            pages++;
            if (pages === 1) return html(response, 'banned', 403);
            if (pages === 2) return html(response, 'origin down', 520);
            html(response, `<p id="sid">${sid}</p>`);
        });
        const auth = { username: 'user', password: 'secretpw' };
        const p1 = await proxy('p1', auth);
        // A proxy exit that refuses connections: every session given it fails its init.
        const dead = await proxy('dead', auth);
        await dead.close();
        const { log, lines } = captureLog();
        const crawler = new CheerioCrawler(
            {
                log,
                maxConcurrency: 1,
                maxRequestRetries: 0,
                maxSessionRotations: 5,
                proxyConfiguration: new ProxyConfiguration({ proxyUrls: [p1.url, dead.url] }),
                requestHandler: () => undefined,
            },
            testConfig(),
        );
        const sessions = attachManagedSessions(crawler, { poolSize: 1 });
        await crawler.run([`${server.url}/a`]);

        expect([p1.url, dead.url].every((url) => url.includes(':secretpw@'))).toBe(true);
        expect(p1.refused).toBe(0);
        // Round robin over the two exits: every other session got the dead one. Through p1: three
        // inits and three attempts (403, 520, 200).
        expect(p1.forwarded).toHaveLength(6);
        expect(server.seen).toHaveLength(6);
        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 3,
            'sessions/init/failed': 2,
            'sessions/use/check-failed': 1,
            'sessions/use/failed': 1,
            'sessions/use/check-passed': 1,
        });
        expect(lines.filter((line) => line.startsWith('Session init for pool'))).toHaveLength(2);
        expect(lines.some((line) => line.startsWith('Managed sessions summary'))).toBe(true);
        expect(lines.filter((line) => /secretpw|topsecretcookie/.test(line))).toEqual([]);
    });

    // A user's check error may quote JSON headers; `set-cookie` values come as an array there.
    it('a check error that quotes response headers is redacted', async () => {
        const server = await serve(sidSite());
        const { log, lines } = captureLog();
        const crawler = new CheerioCrawler(
            { log, maxConcurrency: 1, maxRequestRetries: 0, requestHandler: () => undefined },
            testConfig(),
        );
        const sessions = attachManagedSessions(crawler, {
            poolSize: 1,
            statusIntervalSecs: 0,
            checker: (response) => {
                if (String(response.headers['set-cookie']).includes('sid=s1;')) {
                    throw new Error(`unexpected response headers ${JSON.stringify(response.headers)}`);
                }
                return true;
            },
        });
        await crawler.run([`${server.url}/a`]);

        expect(sessions.stats).toEqual({
            'sessions/init/check-error': 1,
            'sessions/init/check-passed': 1,
            'sessions/use/check-passed': 1,
        });
        expect(lines.filter((line) => line.includes('unexpected response headers'))).toHaveLength(1);
        expect(lines.filter((line) => line.includes('sid=s1'))).toEqual([]);
    });
});
