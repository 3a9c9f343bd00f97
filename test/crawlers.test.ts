import { BasicCrawler } from '@crawlee/basic';
import { HttpCrawler } from '@crawlee/http';
import { JSDOMCrawler } from '@crawlee/jsdom';
import { attachManagedSessions, getRequestSessionId, type ManagedSessionsOptions } from '@managed-sessions/crawlee';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLog, testConfig } from './support/crawlee.js';
import {
    cookieValue,
    dropConnection,
    html,
    type SeenRequest,
    sidSite,
    sidsSeen,
    startServer,
    type TestServer,
} from './support/server.js';

let server: TestServer | undefined;
afterEach(async () => {
    await server?.close();
    server = undefined;
});

const sidOf = (body: string) => /<p id="sid">([^<]*)<\/p>/.exec(body)?.[1] ?? '';

interface Handled {
    sid: string;
    sessionId: string | undefined;
}

interface Common {
    log: ReturnType<typeof captureLog>['log'];
    maxConcurrency: number;
    maxRequestRetries: number;
    maxSessionRotations: number;
}

/** The crawlers under test, each recording the `#sid` of every page it handles. */
const crawlers: { name: string; create(common: Common, handled: Handled[]): BasicCrawler<any> }[] = [
    {
        name: 'HttpCrawler',
        create: (common, handled) =>
            new HttpCrawler(
                {
                    ...common,
                    requestHandler: ({ request, body }) =>
                        void handled.push({ sid: sidOf(String(body)), sessionId: getRequestSessionId(request) }),
                },
                testConfig(),
            ),
    },
    {
        name: 'JSDOMCrawler',
        create: (common, handled) =>
            new JSDOMCrawler(
                {
                    ...common,
                    requestHandler: ({ request, window }) =>
                        void handled.push({
                            sid: window.document.querySelector('#sid')?.textContent ?? '',
                            sessionId: getRequestSessionId(request),
                        }),
                },
                testConfig(),
            ),
    },
    {
        name: 'BasicCrawler (sendRequest)',
        create: (common, handled) =>
            new BasicCrawler(
                {
                    ...common,
                    requestHandler: async ({ request, sendRequest }) => {
                        const response = await sendRequest();
                        handled.push({ sid: sidOf(String(response.body)), sessionId: getRequestSessionId(request) });
                    },
                },
                testConfig(),
            ),
    },
];

const isPage = (request: SeenRequest) => cookieValue(request.cookie, 'sid') !== undefined;

describe.each(crawlers)('$name with managed sessions', ({ create }) => {
    async function crawl(urls: string[], options: ManagedSessionsOptions, retries = { requests: 0, rotations: 2 }) {
        const handled: Handled[] = [];
        const { log } = captureLog();
        const crawler = create(
            { log, maxConcurrency: 1, maxRequestRetries: retries.requests, maxSessionRotations: retries.rotations },
            handled,
        );
        const sessions = attachManagedSessions(crawler, { statusIntervalSecs: 0, ...options });
        await crawler.run(urls);
        return { handled, sessions, crawler };
    }

    it('assigns sessions in rotation and sends their cookies', async () => {
        server = await startServer(sidSite());
        const { handled, sessions } = await crawl(
            [1, 2, 3, 4].map((i) => `${server!.url}/${i}`),
            { poolSize: 2 },
        );

        expect(handled.map((h) => h.sid)).toEqual(['s1', 's2', 's1', 's2']);
        expect(new Set(handled.map((h) => h.sessionId)).size).toBe(2);
        expect(sidsSeen(server)).toEqual(['-', 's1', '-', 's2', 's1', 's2']);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-passed': 4 });
        expect(sessions.pools()).toEqual([
            { id: server.host, size: 2, ready: 2, initializing: 0, waiting: 0, discarded: 0 },
        ]);
    });

    it('a blocked status fails the check: the session is replaced and the retry uses the new one', async () => {
        server = await startServer(
            sidSite((_request, response, sid) => {
                if (sid !== 's1') return false;
                html(response, 'banned', 403);
                return true;
            }),
        );
        const { handled, sessions } = await crawl([`${server.url}/a`, `${server.url}/b`], { poolSize: 1 });

        expect(sidsSeen(server)).toEqual(['-', 's1', '-', 's2', 's2']);
        expect(handled.map((h) => h.sid)).toEqual(['s2', 's2']);
        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-failed': 1,
            'sessions/use/check-passed': 2,
        });
        expect(sessions.pools()[0]).toMatchObject({ ready: 1, discarded: 1 });
    });

    it('the check sees the response body', async () => {
        server = await startServer(
            sidSite((_request, response, sid) => {
                if (sid !== 's1') return false;
                html(response, '<p id="captcha">are you human?</p>');
                return true;
            }),
        );
        const bodies: string[] = [];
        const { handled, sessions } = await crawl([`${server.url}/a`], {
            poolSize: 1,
            checker: (response) => {
                bodies.push(response.body);
                return !response.body.includes('id="captcha"');
            },
        });

        expect(handled.map((h) => h.sid)).toEqual(['s2']);
        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-failed': 1,
            'sessions/use/check-passed': 1,
        });
        // Init s1, use s1 (captcha), init s2, use s2.
        expect(bodies.map((body) => /id="(\w+)">([^<]*)/.exec(body)?.slice(1).join(' '))).toEqual([
            'new s1',
            'captcha are you human?',
            'new s2',
            'sid s2',
        ]);
    });

    it('520 and network errors count use/failed and rotate', async () => {
        let pages = 0;
        server = await startServer(
            sidSite((_request, response) => {
                pages++;
                if (pages === 1) html(response, 'origin down', 520);
                else if (pages === 2) dropConnection(response);
                else return false;
                return true;
            }),
        );
        const { handled, sessions } = await crawl([`${server.url}/a`], { poolSize: 1 });

        expect(sidsSeen(server)).toEqual(['-', 's1', '-', 's2', '-', 's3']);
        expect(handled.map((h) => h.sid)).toEqual(['s3']);
        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 3,
            'sessions/use/failed': 2,
            'sessions/use/check-passed': 1,
        });
        expect(server.seen.filter(isPage)).toHaveLength(3);
    });
});
