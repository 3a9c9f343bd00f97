import type { ServerResponse } from 'node:http';
import { BasicCrawler } from '@crawlee/basic';
import { CheerioCrawler } from '@crawlee/cheerio';
import type { Request } from '@crawlee/core';
import {
    attachManagedSessions,
    type InitRequest,
    type RequestOverrides,
    SessionConfig,
    SessionConfigRegistry,
} from '@managed-sessions/crawlee';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLog, testConfig } from './support/crawlee.js';
import { html, redirect, type SeenRequest, sidSite, startServer, type TestServer } from './support/server.js';

let server: TestServer | undefined;
afterEach(async () => {
    await server?.close();
    server = undefined;
});

/**
 * `sidSite` plus `/api` (sets `api=1`), `/hop` (redirects to /api, sets `hop=1`), `/away` (redirects
 * to /api on localhost: another host for cookies) and `/forbidden` (403 for session s1).
 */
function apiSite(otherHostUrl: () => string) {
    return sidSite((request, response, sid) => {
        if (request.path === '/api')
            html(response, `<p id="cookie">${request.cookie}</p>`, 200, { 'set-cookie': 'api=1; Path=/' });
        else if (request.path === '/hop') redirect(response, '/api', { 'set-cookie': 'hop=1; Path=/' });
        else if (request.path === '/away') redirect(response, `${otherHostUrl()}/api`);
        else if (request.path === '/forbidden' && sid === 's1') html(response, 'no', 403);
        else return false;
        return true;
    });
}

describe('ctx.sendRequest() as the session (crawlee#3117 worked around)', () => {
    it('in CheerioCrawler: sends the session cookies, stores Set-Cookie (hops included), never sends them to another host', async () => {
        server = await startServer(apiSite(() => server!.otherHostUrl));
        const { log } = captureLog();
        const statuses: number[] = [];
        const crawler = new CheerioCrawler(
            {
                log,
                maxConcurrency: 1,
                maxRequestRetries: 0,
                requestHandler: async ({ request, sendRequest }) => {
                    if (!request.url.endsWith('/page')) return;
                    for (const path of ['/api', '/hop'])
                        statuses.push((await sendRequest({ url: `${server!.url}${path}` })).statusCode);
                    statuses.push((await sendRequest({ url: `${server!.otherHostUrl}/api` })).statusCode);
                    statuses.push((await sendRequest({ url: `${server!.url}/away` })).statusCode);
                    // Not checked: in a crawler that navigates, sendRequest is the user's side channel.
                    statuses.push((await sendRequest({ url: `${server!.url}/forbidden` })).statusCode);
                },
            },
            testConfig(),
        );
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([`${server.url}/page`, `${server.url}/later`]);

        expect(statuses).toEqual([200, 200, 200, 200, 403]);
        expect(server.seen.map((r) => `${r.headers.host?.split(':')[0]} ${r.path} ${r.cookie ?? '-'}`)).toEqual([
            '127.0.0.1 /page -',
            '127.0.0.1 /page sid=s1',
            '127.0.0.1 /api sid=s1',
            '127.0.0.1 /hop sid=s1; api=1',
            '127.0.0.1 /api sid=s1; api=1; hop=1',
            // localhost gets none of 127.0.0.1's cookies, only the one it set itself.
            'localhost /api -',
            '127.0.0.1 /away sid=s1; api=1; hop=1',
            'localhost /api sid=s2',
            '127.0.0.1 /forbidden sid=s1; api=1; hop=1',
            '127.0.0.1 /later sid=s1; api=1; hop=1',
        ]);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 2 });
    });

    it('in BasicCrawler: is the download, so its responses are checked and its cookies persist', async () => {
        server = await startServer(apiSite(() => server!.otherHostUrl));
        const { log } = captureLog();
        const bodies: string[] = [];
        const crawler = new BasicCrawler(
            {
                log,
                maxConcurrency: 1,
                maxRequestRetries: 0,
                maxSessionRotations: 1,
                requestHandler: async ({ sendRequest }) => {
                    bodies.push(String((await sendRequest()).body));
                },
            },
            testConfig(),
        );
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([`${server.url}/hop`, `${server.url}/page`, `${server.url}/forbidden`]);

        expect(server.seen.map((r) => `${r.path} ${r.cookie ?? '-'}`)).toEqual([
            '/hop -',
            '/hop sid=s1',
            '/api sid=s1; hop=1',
            '/page sid=s1; hop=1; api=1',
            '/forbidden sid=s1; hop=1; api=1',
            // The 403 discarded s1; its replacement's init, then the retry.
            '/forbidden -',
            '/forbidden sid=s2',
        ]);
        expect(bodies.map((body) => /id="(\w+)">([^<]*)/.exec(body)?.slice(1).join(' '))).toEqual([
            'cookie sid=s1; hop=1',
            'sid s1',
            'sid s2',
        ]);
        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-passed': 3,
            'sessions/use/check-failed': 1,
        });
    });

    it('keeps Crawlee’s sendRequest options: responseType json parses, and the check still sees the text', async () => {
        server = await startServer(
            sidSite((_request, response, sid) => {
                response.writeHead(200, { 'content-type': 'application/json' });
                response.end(JSON.stringify({ sid }));
                return true;
            }),
        );
        const { log } = captureLog();
        const bodies: unknown[] = [];
        const checked: string[] = [];
        const crawler = new BasicCrawler(
            {
                log,
                maxConcurrency: 1,
                maxRequestRetries: 0,
                requestHandler: async ({ sendRequest }) => {
                    bodies.push((await sendRequest({ responseType: 'json' })).body);
                },
            },
            testConfig(),
        );
        const sessions = attachManagedSessions(crawler, {
            poolSize: 1,
            statusIntervalSecs: 0,
            checker: (response) => {
                checked.push(response.body);
                return true;
            },
        });
        await crawler.run([`${server.url}/api.json`]);

        expect(bodies).toEqual([{ sid: 's1' }]);
        expect(checked).toEqual(['<html><body><p id="new">s1</p></body></html>', '{"sid":"s1"}']);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 1 });
    });
});

/**
 * Sessions start at `/`: `sid=s1` for the whole site and `area=a` for `/a` only (Path=/a). Every other
 * page shows the Cookie and x-token headers it got; `/a/jump` redirects to `/b`, `/a/away` to
 * localhost (another host for cookies), `/a/back` to `/a/hop` on localhost and back.
 */
function scopedSite(otherHostUrl: () => string) {
    return (request: SeenRequest, response: ServerResponse) => {
        if (request.path === '/') {
            return html(response, 'welcome', 200, { 'set-cookie': ['sid=s1; Path=/', 'area=a; Path=/a'] });
        }
        if (request.path === '/a/jump') return redirect(response, '/b');
        if (request.path === '/a/away') return redirect(response, `${otherHostUrl()}/b`);
        html(response, `<p id="seen">${request.cookie ?? '-'} ${request.headers['x-token'] ?? '-'}</p>`);
    };
}

/** A config whose sessions start at `/` and whose processRequest() adds x-token (and, with `to`, a URL). */
function tokenConfig(server: () => TestServer, to?: (request: Request) => string | undefined) {
    return class Token extends SessionConfig {
        override params(): InitRequest {
            return { url: `${server().url}/` };
        }
        override processRequest(request: Request): RequestOverrides {
            const url = to?.(request);
            return { headers: { 'x-token': 'secret' }, ...(url ? { url } : {}) };
        }
    };
}

const seenLine = (r: SeenRequest) =>
    `${r.headers.host?.split(':')[0]} ${r.path} ${r.cookie ?? '-'} ${r.headers['x-token'] ?? '-'}`;

describe('headers and cookies are rebuilt for every URL an attempt requests', () => {
    it('ctx.sendRequest(): cookies for the exact URL (path-scoped ones only under their path), processRequest headers only on its host', async () => {
        server = await startServer(scopedSite(() => server!.otherHostUrl));
        const registry = new SessionConfigRegistry();
        registry.register(
            tokenConfig(() => server!),
            { include: server.host },
        );
        const { log } = captureLog();
        const crawler = new CheerioCrawler(
            {
                log,
                maxRequestRetries: 0,
                requestHandler: async ({ request, sendRequest }) => {
                    if (!request.url.endsWith('/a/page')) return;
                    await sendRequest({ url: `${server!.url}/b` });
                    await sendRequest({ url: `${server!.url}/a/other` });
                    await sendRequest({ url: `${server!.otherHostUrl}/b` });
                    await sendRequest({ url: `${server!.url}/a/jump` });
                    await sendRequest({ url: `${server!.url}/a/away` });
                },
            },
            testConfig(),
        );
        attachManagedSessions(crawler, { poolSize: 1, registry, statusIntervalSecs: 0 });
        await crawler.run([`${server.url}/a/page`]);

        expect(server.seen.map(seenLine)).toEqual([
            '127.0.0.1 / - -',
            '127.0.0.1 /a/page area=a; sid=s1 secret',
            // Same host, another path: the /a cookie stays behind; the token is for this host.
            '127.0.0.1 /b sid=s1 secret',
            '127.0.0.1 /a/other area=a; sid=s1 secret',
            // Another host: neither this host's cookies nor its processRequest headers.
            'localhost /b - -',
            // A redirect hop out of /a: its Cookie header is rebuilt for /b.
            '127.0.0.1 /a/jump area=a; sid=s1 secret',
            '127.0.0.1 /b sid=s1 secret',
            '127.0.0.1 /a/away area=a; sid=s1 secret',
            'localhost /b - -',
        ]);
    });

    it('navigation: a processRequest() URL on the same host gets that URL’s cookies; redirect hops too, and hops to another host lose the headers', async () => {
        server = await startServer(scopedSite(() => server!.otherHostUrl));
        const registry = new SessionConfigRegistry();
        registry.register(
            tokenConfig(
                () => server!,
                (request) => (request.url.endsWith('/a/moved') ? `${server!.url}/b` : undefined),
            ),
            { include: server.host },
        );
        const { log } = captureLog();
        const crawler = new CheerioCrawler(
            { log, maxRequestRetries: 0, maxConcurrency: 1, requestHandler: () => undefined },
            testConfig(),
        );
        const sessions = attachManagedSessions(crawler, { poolSize: 1, registry, statusIntervalSecs: 0 });
        await crawler.run([
            `${server.url}/a/page`,
            `${server.url}/a/moved`,
            `${server.url}/a/jump`,
            `${server.url}/a/away`,
        ]);

        expect(server.seen.map(seenLine)).toEqual([
            '127.0.0.1 / - -',
            '127.0.0.1 /a/page area=a; sid=s1 secret',
            // request.url is /a/moved, the attempt fetches /b: cookies for /b.
            '127.0.0.1 /b sid=s1 secret',
            '127.0.0.1 /a/jump area=a; sid=s1 secret',
            '127.0.0.1 /b sid=s1 secret',
            '127.0.0.1 /a/away area=a; sid=s1 secret',
            'localhost /b - -',
        ]);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 4 });
    });

    it('navigation: a redirect hop to a path none of the session’s cookies apply to carries no Cookie header', async () => {
        // Crawlee's redirect handler sets the hop's Cookie header only when the session has cookies for it.
        server = await startServer((request, response) => {
            if (request.path === '/') return html(response, 'welcome', 200, { 'set-cookie': 'area=a; Path=/a' });
            if (request.path === '/a/jump') return redirect(response, '/b');
            html(response, 'page');
        });
        const registry = new SessionConfigRegistry();
        registry.register(
            tokenConfig(() => server!),
            { include: server.host },
        );
        const { log } = captureLog();
        const crawler = new CheerioCrawler(
            { log, maxRequestRetries: 0, requestHandler: () => undefined },
            testConfig(),
        );
        attachManagedSessions(crawler, { poolSize: 1, registry, statusIntervalSecs: 0 });
        await crawler.run([`${server.url}/a/jump`]);

        expect(server.seen.map(seenLine)).toEqual([
            '127.0.0.1 / - -',
            '127.0.0.1 /a/jump area=a secret',
            '127.0.0.1 /b - secret',
        ]);
    });
});
