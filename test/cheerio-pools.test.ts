import { CheerioCrawler } from '@crawlee/cheerio';
import type { Request, Session } from '@crawlee/core';
import {
    attachManagedSessions,
    type Download,
    getRequestSessionId,
    type InitRequest,
    isSessionInitRequest,
    type Location,
    LocationSessionConfig,
    SessionConfig,
    SessionConfigRegistry,
    type SessionResponse,
} from '@managed-sessions/crawlee';
import { describe, expect, it } from 'vitest';
import { captureLog, queueCounts, testConfig } from './support/crawlee.js';
import { cookieValue, html, redirect, type SeenRequest, serverPerTest, sidSite, sidsSeen } from './support/server.js';

const serve = serverPerTest();

/** A CheerioCrawler on fresh storage that records `#sid` and the session of every handled page. */
function cheerio(extra: Partial<ConstructorParameters<typeof CheerioCrawler>[0]> = {}) {
    const handled: { url: string; sid: string; sessionId: string | undefined }[] = [];
    const { log, lines } = captureLog();
    const crawler = new CheerioCrawler(
        {
            log,
            maxConcurrency: 1,
            maxRequestRetries: 2,
            requestHandler: ({ request, $ }) => {
                handled.push({ url: request.url, sid: $('#sid').text(), sessionId: getRequestSessionId(request) });
            },
            ...extra,
        },
        testConfig(),
    );
    return { crawler, handled, lines };
}

const isInit = (request: SeenRequest) => !cookieValue(request.cookie, 'sid');

describe('pools (CheerioCrawler)', () => {
    it('keeps one pool per host: two servers, two pools, cookies never cross', async () => {
        const a = await serve(sidSite());
        const b = await serve(sidSite());
        const { crawler, handled } = cheerio();
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([`${a.url}/1`, `${b.url}/1`, `${a.url}/2`, `${b.url}/2`]);

        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-passed': 4 });
        expect(sidsSeen(a)).toEqual(['-', 's1', 's1']);
        expect(sidsSeen(b)).toEqual(['-', 's1', 's1']);
        expect(new Set(handled.map((h) => h.sessionId)).size).toBe(2);
        expect(sessions.pools().sort((x, y) => x.id.localeCompare(y.id))).toEqual(
            [a.host, b.host].sort().map((id) => ({ id, size: 1, ready: 1, initializing: 0, waiting: 0, discarded: 0 })),
        );
    });

    it('sessionEnabled: false sends no session cookie and counts use/disabled', async () => {
        // Every response sets a cookie: a request that carried one would show it.
        const server = await serve((request, response) =>
            html(response, `<p id="sid">${request.cookie ?? 'none'}</p>`, 200, { 'set-cookie': 'tracker=t1; Path=/' }),
        );
        const { crawler, handled } = cheerio();
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([1, 2, 3].map((i) => ({ url: `${server.url}/${i}`, userData: { sessionEnabled: false } })));

        expect(sessions.stats).toEqual({ 'sessions/use/disabled': 3 });
        expect(server.seen.map((r) => r.cookie)).toEqual([undefined, undefined, undefined]);
        expect(handled.map((h) => h.sessionId)).toEqual([undefined, undefined, undefined]);
        expect(sessions.pools()).toEqual([]);
    });

    it('option enabled: false is overridden per request by sessionEnabled: true', async () => {
        const server = await serve(sidSite());
        const { crawler, handled } = cheerio();
        const sessions = attachManagedSessions(crawler, { enabled: false, poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([
            { url: `${server.url}/on`, userData: { sessionEnabled: true } },
            { url: `${server.url}/off` },
        ]);

        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 1,
            'sessions/use/check-passed': 1,
            'sessions/use/disabled': 1,
        });
        expect(server.seen.map((r) => `${r.path} ${cookieValue(r.cookie, 'sid') ?? '-'}`)).toEqual([
            '/on -',
            '/on s1',
            '/off -',
        ]);
        expect(handled.map((h) => h.sid)).toEqual(['s1', '']);
    });

    it('a bad userData control fails that request only, with an error naming the key', async () => {
        const server = await serve(sidSite());
        const failed: string[] = [];
        const { crawler, handled } = cheerio({
            failedRequestHandler: (_context, error) => void failed.push(error.message),
        });
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([
            { url: `${server.url}/1`, userData: { sessionPool: '' } },
            { url: `${server.url}/2`, userData: { sessionLocation: { postalCode: 10001 } } },
            { url: `${server.url}/3` },
        ]);

        expect(failed).toEqual([
            `Invalid request.userData.sessionPool for ${server.url}/1: expected a non-empty pool id string, got "". ` +
                'Remove it to use the default pool.',
            `Invalid request.userData.sessionLocation for ${server.url}/2: expected a plain object of strings ` +
                'such as { addressCountry: "US", postalCode: "10001" }.',
        ]);
        expect(handled.map((h) => h.sid)).toEqual(['s1']);
        expect(sidsSeen(server)).toEqual(['-', 's1']);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 1 });
        expect(await queueCounts(crawler)).toEqual({ added: 3, handled: 1, failed: 2, pending: 0 });
    });

    it('statsPerPool also counts per pool', async () => {
        const a = await serve(sidSite());
        const b = await serve(
            sidSite((_request, response) => {
                html(response, 'banned', 403);
                return true;
            }),
        );
        const { crawler } = cheerio({ maxRequestRetries: 0, maxSessionRotations: 0 });
        // maxCheckFailures 2 keeps the banned session: no replacement init races the end of the crawl.
        const sessions = attachManagedSessions(crawler, {
            poolSize: 1,
            maxCheckFailures: 2,
            statsPerPool: true,
            statusIntervalSecs: 0,
        });
        await crawler.run([`${a.url}/1`, `${b.url}/1`]);

        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-passed': 1,
            'sessions/use/check-failed': 1,
            [`sessions/pools/${a.host}/init/check-passed`]: 1,
            [`sessions/pools/${a.host}/use/check-passed`]: 1,
            [`sessions/pools/${b.host}/init/check-passed`]: 1,
            [`sessions/pools/${b.host}/use/check-failed`]: 1,
        });
    });

    it('sessionPool names the pool', async () => {
        const server = await serve(sidSite());
        const { crawler, handled } = cheerio();
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([
            { url: `${server.url}/1`, userData: { sessionPool: 'vip' } },
            { url: `${server.url}/2` },
            { url: `${server.url}/3`, userData: { sessionPool: 'vip' } },
        ]);

        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-passed': 3 });
        expect(handled.map((h) => h.sid)).toEqual(['s1', 's2', 's1']);
        expect(sessions.pools().map((p) => p.id)).toEqual(['vip', server.host]);
    });

    it('sessionParams makes host[N] pools whose inits use those params; the pairing is logged once', async () => {
        const server = await serve(sidSite());
        const { crawler, handled, lines } = cheerio();
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        const x: InitRequest = { url: `${server.url}/init-x` };
        const y: InitRequest = { url: `${server.url}/init-y`, headers: { 'x-init': 'y' } };
        await crawler.run([
            { url: `${server.url}/1`, userData: { sessionParams: x } },
            { url: `${server.url}/2`, userData: { sessionParams: y } },
            { url: `${server.url}/3`, userData: { sessionParams: x } },
        ]);

        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-passed': 3 });
        expect(server.seen.filter(isInit).map((r) => `${r.path} ${r.headers['x-init'] ?? ''}`)).toEqual([
            '/init-x ',
            '/init-y y',
        ]);
        expect(handled.map((h) => h.sid)).toEqual(['s1', 's2', 's1']);
        expect(sessions.pools().map((p) => p.id)).toEqual([`${server.host}[0]`, `${server.host}[1]`]);
        expect(lines.filter((line) => line.includes('serves requests with userData.sessionParams'))).toEqual([
            `Pool ${server.host}[0] serves requests with userData.sessionParams GET ${server.url}/init-x.`,
            `Pool ${server.host}[1] serves requests with userData.sessionParams GET ${server.url}/init-y.`,
        ]);
    });

    it('init cookies land in the session and go with every later request of it', async () => {
        const server = await serve((request, response) => {
            if (request.path === '/init') {
                return html(response, 'hello', 200, { 'set-cookie': ['a=1; Path=/', 'b=2; Path=/shop'] });
            }
            html(response, `<p id="sid">${request.cookie ?? ''}</p>`);
        });
        const cookies: string[] = [];
        const { crawler, handled } = cheerio({
            requestHandler: ({ request, session, $ }) => {
                handled.push({ url: request.url, sid: $('#sid').text(), sessionId: session?.id });
                cookies.push(session!.getCookieString(request.url));
            },
        });
        const sessions = attachManagedSessions(crawler, {
            poolSize: 1,
            params: { url: `${server.url}/init` },
            statusIntervalSecs: 0,
        });
        await crawler.run([`${server.url}/shop/1`, `${server.url}/other`]);

        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 2 });
        // Longer cookie paths first (RFC 6265 5.4).
        expect(server.seen.map((r) => `${r.path} ${r.cookie ?? ''}`)).toEqual([
            '/init ',
            '/shop/1 b=2; a=1',
            '/other a=1',
        ]);
        expect(cookies).toEqual(['b=2; a=1', 'a=1']);
    });

    it('init redirects keep the session: hop cookies land in it and go with the next hop', async () => {
        const server = await serve((request, response) => {
            if (request.path === '/init') return redirect(response, '/init/2', { 'set-cookie': 'hop1=1; Path=/' });
            if (request.path === '/init/2') return html(response, 'ok', 200, { 'set-cookie': 'hop2=2; Path=/' });
            html(response, `<p id="sid">${request.cookie ?? ''}</p>`);
        });
        const { crawler, handled } = cheerio();
        const sessions = attachManagedSessions(crawler, {
            poolSize: 1,
            params: { url: `${server.url}/init` },
            statusIntervalSecs: 0,
        });
        await crawler.run([`${server.url}/page`]);

        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 1 });
        expect(server.seen.map((r) => `${r.path} ${r.cookie ?? ''}`)).toEqual([
            '/init ',
            '/init/2 hop1=1',
            '/page hop1=1; hop2=2',
        ]);
        expect(handled.map((h) => h.sid)).toEqual(['hop1=1; hop2=2']);
    });

    it('runs a multi-step initSession: GET the login form with its token, POST the credentials, follow the 302 as GET', async () => {
        let logins = 0;
        const server = await serve((request, response) => {
            const pre = cookieValue(request.cookie, 'pre');
            const auth = cookieValue(request.cookie, 'auth');
            if (request.path === '/login' && request.method === 'GET') {
                logins++;
                return html(response, `<form><input name="token" value="tok${logins}"></form>`, 200, {
                    'set-cookie': `pre=p${logins}; Path=/`,
                });
            }
            if (request.path === '/login' && request.method === 'POST') {
                const form = new URLSearchParams(request.body);
                const valid =
                    pre !== undefined &&
                    form.get('token') === `tok${pre.slice(1)}` &&
                    form.get('user') === 'alice' &&
                    form.get('password') === 'pw';
                if (!valid) return html(response, 'bad login', 403);
                // Post/redirect/get: the init must follow the 302 with a GET, as browsers do.
                response.writeHead(302, { location: '/welcome', 'set-cookie': `auth=a${pre.slice(1)}; Path=/` });
                response.end();
                return;
            }
            if (request.path === '/welcome') {
                if (request.method !== 'GET') return html(response, 'method not allowed', 405);
                return html(response, auth ? '<p id="user">alice</p>' : 'who are you?');
            }
            if (!auth) return html(response, 'login required', 403);
            html(response, `<p id="sid">${auth}</p>`);
        });
        class Login extends SessionConfig {
            override async initSession(session: Session, request: Request, download: Download): Promise<boolean> {
                const form = await download({ url: `${server.url}/login` });
                const token = /name="token" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
                const done = await download({
                    url: `${server.url}/login`,
                    method: 'POST',
                    form: { user: 'alice', password: 'pw', token },
                });
                return (await this.check(done, request, session)) && done.body.includes('id="user"');
            }
        }
        const registry = new SessionConfigRegistry();
        registry.register(Login, { include: server.host });
        const { crawler, handled } = cheerio();
        const sessions = attachManagedSessions(crawler, { poolSize: 1, registry, statusIntervalSecs: 0 });
        await crawler.run([`${server.url}/account`, `${server.url}/orders`]);

        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 2 });
        expect(server.seen.map((r) => `${r.method} ${r.path} ${r.cookie ?? ''} ${r.body}`)).toEqual([
            'GET /login  ',
            'POST /login pre=p1 user=alice&password=pw&token=tok1',
            'GET /welcome pre=p1; auth=a1 ',
            'GET /account pre=p1; auth=a1 ',
            'GET /orders pre=p1; auth=a1 ',
        ]);
        expect(server.seen[1]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
        expect(handled.map((h) => h.sid)).toEqual(['a1', 'a1']);
    });

    it('sessionLocation makes host@… pools that a LocationSessionConfig initialises with a POST', async () => {
        let drifted = false;
        const server = await serve((request, response) => {
            if (request.path === '/location' && request.method === 'POST') {
                const zip = new URLSearchParams(request.body).get('postalCode') ?? '';
                return html(response, `<span id="zip">${zip}</span>`, 200, { 'set-cookie': `zip=${zip}; Path=/` });
            }
            const zip = cookieValue(request.cookie, 'zip');
            // The site forgets the location of the first session that visits /drift.
            const forget = request.path === '/drift' && !drifted;
            if (forget) drifted = true;
            const shown = forget ? '' : (zip ?? '');
            html(response, `<span id="zip">${shown}</span><p id="sid">${zip}</p>`);
        });
        const checks: string[] = [];
        class ShopLocation extends LocationSessionConfig {
            override locationParams(_request: Request, location: Location): InitRequest {
                return {
                    url: `${server.url}/location`,
                    method: 'POST',
                    form: { postalCode: location.postalCode ?? '' },
                };
            }
            override locationCheck(response: SessionResponse, request: Request, _session: Session, location: Location) {
                checks.push(`${isSessionInitRequest(request) ? 'init' : 'use'} ${location.postalCode}`);
                return response.body.includes(`<span id="zip">${location.postalCode}</span>`);
            }
            override check(): boolean {
                throw new Error('check() must not run for located requests');
            }
        }
        const registry = new SessionConfigRegistry();
        registry.register(ShopLocation, { include: '' });
        const { crawler, handled } = cheerio({ maxRequestRetries: 0, maxSessionRotations: 1 });
        const sessions = attachManagedSessions(crawler, { poolSize: 1, registry, statusIntervalSecs: 0 });
        const ny = { addressCountry: 'US', postalCode: '10001' };
        const sf = { postalCode: '94105', addressCountry: 'US' };
        await crawler.run([
            { url: `${server.url}/1`, userData: { sessionLocation: ny } },
            { url: `${server.url}/2`, userData: { sessionLocation: sf } },
            { url: `${server.url}/3`, userData: { sessionLocation: ny } },
            { url: `${server.url}/drift`, userData: { sessionLocation: sf } },
        ]);

        expect(sessions.pools().map((p) => p.id)).toEqual([`${server.host}@US,10001`, `${server.host}@US,94105`]);
        expect(server.seen.filter((r) => r.method === 'POST').map((r) => r.body)).toEqual([
            'postalCode=10001',
            'postalCode=94105',
            // The replacement of the session that lost its location on /drift.
            'postalCode=94105',
        ]);
        expect(handled.map((h) => h.sid)).toEqual(['10001', '94105', '10001', '94105']);
        expect(checks).toEqual([
            'init 10001',
            'use 10001',
            'init 94105',
            'use 94105',
            'use 10001',
            'use 94105', // /drift: the location is gone, the session is discarded…
            'init 94105', // …and replaced; the retry waits for the replacement
            'use 94105',
        ]);
        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 3,
            'sessions/use/check-passed': 4,
            'sessions/use/check-failed': 1,
        });
        expect(sessions.pools()[1]).toMatchObject({ ready: 1, discarded: 1 });
        expect(await queueCounts(crawler)).toEqual({ added: 4, handled: 4, failed: 0, pending: 0 });
    });

    it('super.check() inside locationCheck() is the base check (401/403/429), not a loop back into locationCheck()', async () => {
        const server = await serve(
            sidSite((request, response, sid) => {
                if (request.path === '/banned' && sid === 's1') html(response, 'banned', 403);
                else html(response, `<p id="sid">${sid}</p><span id="zip">10001</span>`);
                return true;
            }),
        );
        const calls: string[] = [];
        class Located extends LocationSessionConfig {
            override locationParams(): InitRequest {
                return { url: `${server.url}/` };
            }
            override async locationCheck(
                response: SessionResponse,
                request: Request,
                session: Session,
                location: Location,
            ) {
                calls.push(`${isSessionInitRequest(request) ? 'init' : 'use'} ${response.statusCode}`);
                // Both the sync and the awaited form of super.check() must reach SessionConfig's check.
                const base = (await super.check(response, request, session)) && super.check(response, request, session);
                return base === true && (isSessionInitRequest(request) || response.body.includes(location.postalCode!));
            }
        }
        const registry = new SessionConfigRegistry();
        registry.register(Located, { include: '' });
        const { crawler, handled } = cheerio({ maxRequestRetries: 1 });
        const sessions = attachManagedSessions(crawler, {
            poolSize: 1,
            registry,
            location: { postalCode: '10001' },
            statusIntervalSecs: 0,
        });
        await crawler.run([`${server.url}/banned`]);

        expect(calls).toEqual(['init 200', 'use 403', 'init 200', 'use 200']);
        expect(handled.map((h) => h.sid)).toEqual(['s2']);
        expect(sessions.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-failed': 1,
            'sessions/use/check-passed': 1,
        });
    });

    it('stops with unsupported_set_location when a plain SessionConfig meets a location', async () => {
        const server = await serve(sidSite());
        const { crawler, handled, lines } = cheerio({ maxRequestRetries: 0 });
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([
            { url: `${server.url}/1`, userData: { sessionLocation: { postalCode: '10001' } } },
            `${server.url}/2`,
        ]);

        expect(sessions.closeReason).toBe('unsupported_set_location');
        expect(sessions.stats).toEqual({});
        expect(server.seen).toEqual([]);
        expect(handled).toEqual([]);
        expect(await queueCounts(crawler)).toEqual({ added: 2, handled: 0, failed: 0, pending: 2 });
        expect(lines).toContainEqual(
            `${server.url}/1 needs sessions with location {"postalCode":"10001"}, but SessionConfig cannot set a location. ` +
                'Use a LocationSessionConfig subclass that overrides locationParams(), or override params().',
        );
    });
});

describe('init-parameter precedence (CheerioCrawler)', () => {
    // Highest first: sessionParams, sessionLocation, option params, option location, config.location(), config.params().
    const cases: {
        name: string;
        userData: Record<string, unknown>;
        options: { params?: InitRequest; location?: Location };
        configLocation: Location;
        init: string;
        pool: (host: string) => string;
    }[] = [
        {
            name: 'userData.sessionParams',
            userData: { sessionParams: { url: '/up' }, sessionLocation: { postalCode: 'user' } },
            options: { params: { url: '/op' }, location: { postalCode: 'option' } },
            configLocation: { postalCode: 'config' },
            init: '/up',
            pool: (host) => `${host}[0]`,
        },
        {
            name: 'userData.sessionLocation',
            userData: { sessionLocation: { postalCode: 'user' } },
            options: { params: { url: '/op' }, location: { postalCode: 'option' } },
            configLocation: { postalCode: 'config' },
            init: '/loc?postalCode=user',
            pool: (host) => `${host}@user`,
        },
        {
            name: 'option params',
            userData: {},
            options: { params: { url: '/op' }, location: { postalCode: 'option' } },
            configLocation: { postalCode: 'config' },
            init: '/op',
            pool: (host) => host,
        },
        {
            name: 'option location',
            userData: {},
            options: { location: { postalCode: 'option' } },
            configLocation: { postalCode: 'config' },
            init: '/loc?postalCode=option',
            pool: (host) => host,
        },
        {
            name: 'config.location()',
            userData: {},
            options: {},
            configLocation: { postalCode: 'config' },
            init: '/loc?postalCode=config',
            pool: (host) => host,
        },
        {
            name: 'config.params()',
            userData: {},
            options: {},
            configLocation: {},
            init: '/cp',
            pool: (host) => host,
        },
    ];

    it.each(cases)('$name wins', async ({ userData, options, configLocation, init, pool }) => {
        const server = await serve(sidSite());
        const absolute = (path: string) => `${server.url}${path}`;
        class Precedence extends LocationSessionConfig {
            override location(): Location {
                return configLocation;
            }
            override params(): InitRequest {
                return { url: absolute('/cp') };
            }
            override locationParams(_request: Request, location: Location): InitRequest {
                return { url: absolute(`/loc?postalCode=${location.postalCode}`) };
            }
        }
        const registry = new SessionConfigRegistry();
        registry.register(Precedence, { include: '' });
        const { crawler } = cheerio();
        const withUrl = (value: unknown) =>
            value && typeof value === 'object' && 'url' in value
                ? { ...value, url: absolute(String(value.url)) }
                : value;
        const sessions = attachManagedSessions(crawler, {
            poolSize: 1,
            registry,
            statusIntervalSecs: 0,
            ...(options.params ? { params: withUrl(options.params) as InitRequest } : {}),
            ...(options.location ? { location: options.location } : {}),
        });
        await crawler.run([
            {
                url: absolute('/page'),
                userData: {
                    ...userData,
                    ...(userData.sessionParams ? { sessionParams: withUrl(userData.sessionParams) } : {}),
                },
            },
        ]);

        expect(server.seen.map((r) => r.path)).toEqual([init, '/page']);
        expect(sessions.pools().map((p) => p.id)).toEqual([pool(server.host)]);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 1 });
    });
});
