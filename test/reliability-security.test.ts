/**
 * Issue #6, secrets: a session's cookies go only where its cookie jar says (its pool, its host, its
 * paths), and cookie values, Authorization headers and proxy passwords never show in anything a crawl
 * prints or in the errors it hands to the user. (Persisted state without cookies is persist-options.test.ts;
 * a redirect or `ctx.sendRequest()` to another host is cheerio-failures / send-request.test.ts.)
 */
import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import type { Request, Session } from '@crawlee/core';
import { ProxyConfiguration } from '@crawlee/core';
import {
    attachManagedSessions,
    getRequestSessionId,
    isSessionInitRequest,
    ManagedSessionsOptionsError,
    type RequestOverrides,
    SessionConfig,
    SessionConfigRegistry,
    type SessionResponse,
} from '@managed-sessions/crawlee';
import { Server } from 'proxy-chain';
import { describe, expect, it } from 'vitest';
import { captureLog } from './support/crawlee.js';
import { startProxy } from './support/proxy.js';
import { captureEverything, ledger, recordingCrawler, startRelay, useCleanup } from './support/reliability-harness.js';
import { cookieValue, dropConnection, html, type SeenRequest, startServer } from './support/server.js';

const cleanup = useCleanup();

/** The cookies of a Cookie header as [name, value] pairs. */
function cookiesOf(request: SeenRequest): [string, string][] {
    if (!request.cookie) return [];
    return request.cookie.split(';').map((part) => {
        const [name, ...value] = part.trim().split('=');
        return [name!, value.join('=')];
    });
}

const hostnameOf = (request: SeenRequest) => String(request.headers.host).split(':')[0]!;

describe('cookies stay with their session', () => {
    it('two hosts, two pools: no cookie of one host reaches the other; path-scoped and foreign-domain cookies obey the jar', async () => {
        // One server under two host names. Every cookie value starts with the issuing host name and the
        // number of the session it was issued to (`<host>-<n>`), so any crossing shows.
        const issued = new Map<string, number>();
        const server = cleanup(
            await startServer((request, response) => {
                const host = hostnameOf(request);
                const other = host === 'localhost' ? '127.0.0.1' : 'localhost';
                const sid = cookieValue(request.cookie, 'sid');
                if (!sid) {
                    const n = (issued.get(host) ?? 0) + 1;
                    issued.set(host, n);
                    return html(response, 'welcome', 200, {
                        'set-cookie': [
                            `sid=${host}-${n}; Path=/`,
                            `acct=${host}-${n}; Path=/account`,
                            // Claims the other host's domain: a cookie jar must refuse it.
                            `foreign=${host}-${n}; Domain=${other}; Path=/`,
                        ],
                    });
                }
                html(response, `<p id="sid">${sid}</p>`, 200, { 'set-cookie': `seen=${sid}; Path=/` });
            }),
        );
        const urls = [1, 2, 3, 4].flatMap((i) =>
            [server.url, server.otherHostUrl].flatMap((base) => [`${base}/shop/${i}`, `${base}/account/${i}`]),
        );
        const { log } = captureLog();
        const sessionOf = new Map<string, string | undefined>();
        const { crawler, record } = recordingCrawler({
            log,
            maxConcurrency: 4,
            onPage: ({ request }) => void sessionOf.set(request.url, getRequestSessionId(request)),
        });
        const sessions = attachManagedSessions(crawler, { poolSize: 2, statusIntervalSecs: 0 });
        await crawler.run(urls);

        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 4, 'sessions/use/check-passed': 16 });
        expect(await ledger(crawler, record)).toEqual({ added: 16, handled: 16, failed: 0, pending: 0 });
        const pages = server.seen.filter((request) => cookieValue(request.cookie, 'sid'));
        expect(pages).toHaveLength(16);
        for (const request of pages) {
            const host = hostnameOf(request);
            const sid = cookieValue(request.cookie, 'sid')!;
            const names = cookiesOf(request).map(([name]) => name);
            // Every cookie of the request was issued by its host to the session the request carries.
            expect({ path: request.path, cookies: cookiesOf(request).filter(([, value]) => value !== sid) }).toEqual({
                path: request.path,
                cookies: [],
            });
            expect(sid.startsWith(`${host}-`)).toBe(true);
            expect(names).not.toContain('foreign');
            expect(names.includes('acct')).toBe(request.path.startsWith('/account/'));
        }
        // Each pool had its own sessions.
        const idsFor = (base: string) =>
            new Set(urls.filter((url) => url.startsWith(base)).map((url) => sessionOf.get(url)));
        const [ids127, idsLocal] = [idsFor(server.url), idsFor(server.otherHostUrl)];
        expect([ids127.size, idsLocal.size]).toEqual([2, 2]);
        expect([...ids127].filter((id) => idsLocal.has(id))).toEqual([]);
    });

    it('pools that share a host (sessionPool, sessionParams, the host pool) never send each other’s cookies', async () => {
        // The first path segment names the pool a request belongs to; inits of the sessionParams pool go
        // to /p-init. Cookie values start with the pool letter of the session they were issued to.
        const issued = new Map<string, number>();
        const server = cleanup(
            await startServer((request, response) => {
                const pool = request.path.split('/')[1]!.replace('-init', '');
                const sid = cookieValue(request.cookie, 'sid');
                if (!sid) {
                    const n = (issued.get(pool) ?? 0) + 1;
                    issued.set(pool, n);
                    return html(response, 'welcome', 200, { 'set-cookie': `sid=${pool}-${n}; Path=/` });
                }
                html(response, `<p id="sid">${sid}</p>`, 200, { 'set-cookie': `last=${sid}; Path=/` });
            }),
        );
        const requests = [1, 2, 3, 4, 5].flatMap((i) => [
            { url: `${server.url}/x/${i}`, userData: { sessionPool: 'x' } },
            { url: `${server.url}/y/${i}`, userData: { sessionPool: 'y' } },
            { url: `${server.url}/p/${i}`, userData: { sessionParams: { url: `${server.url}/p-init` } } },
            { url: `${server.url}/d/${i}` },
        ]);
        const { log } = captureLog();
        const { crawler, record } = recordingCrawler({ log, maxConcurrency: 4 });
        const sessions = attachManagedSessions(crawler, { poolSize: 2, statusIntervalSecs: 0 });
        await crawler.run(requests);

        expect(
            sessions
                .pools()
                .map((pool) => pool.id)
                .sort(),
        ).toEqual(['x', 'y', `${server.host}[0]`, server.host].sort());
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 8, 'sessions/use/check-passed': 20 });
        expect(await ledger(crawler, record)).toEqual({ added: 20, handled: 20, failed: 0, pending: 0 });
        const pages = server.seen.filter((request) => cookieValue(request.cookie, 'sid'));
        expect(pages).toHaveLength(20);
        for (const request of pages) {
            const pool = request.path.split('/')[1]!;
            const sid = cookieValue(request.cookie, 'sid')!;
            expect({ path: request.path, pool: sid.split('-')[0] }).toEqual({ path: request.path, pool });
            // `last` is the previous page of the same session, or absent on its first page.
            expect(cookiesOf(request).filter(([name, value]) => name !== 'sid' && value !== sid)).toEqual([]);
        }
    });

    // processRequest() may override the URL of an attempt; Crawlee's HttpCrawler builds the Cookie
    // header for request.url after the pre-navigation hooks, so the adapter rebuilds it for the URL
    // actually requested when the override leaves the host.
    it('a processRequest() URL override to another host sends none of the session’s cookies there', async () => {
        const server = cleanup(
            await startServer((request, response) => {
                const host = hostnameOf(request);
                if (host === '127.0.0.1' && !cookieValue(request.cookie, 'sid')) {
                    return html(response, 'welcome', 200, { 'set-cookie': 'sid=secret-of-127; Path=/' });
                }
                html(response, `<p id="host">${host}</p>`);
            }),
        );
        class Mirror extends SessionConfig {
            override processRequest(request: Request): RequestOverrides | undefined {
                return request.url.includes('/mirror/')
                    ? { url: request.url.replace('127.0.0.1', 'localhost') }
                    : undefined;
            }
        }
        const registry = new SessionConfigRegistry();
        registry.register(Mirror, { include: server.host });
        const { log } = captureLog();
        const hosts: string[] = [];
        const { crawler, record } = recordingCrawler({ log, onPage: ({ $ }) => void hosts.push($('#host').text()) });
        attachManagedSessions(crawler, { registry, poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([`${server.url}/a`, `${server.url}/mirror/b`]);

        // The override took effect: the attempt went to localhost.
        expect(hosts).toEqual(['127.0.0.1', 'localhost']);
        expect(await ledger(crawler, record)).toEqual({ added: 2, handled: 2, failed: 0, pending: 0 });
        expect(server.seen.map((r) => `${hostnameOf(r)} ${r.path} ${r.cookie ?? '-'}`)).toEqual([
            '127.0.0.1 /a -',
            '127.0.0.1 /a sid=secret-of-127',
            'localhost /mirror/b -',
        ]);
    });

    // tough-cookie counts 127.0.0.1 and localhost as secure origins, so the site is a host that is
    // neither: a forward proxy on 127.0.0.1 answers for `shop.test` itself (no DNS, no server behind).
    it('a Secure cookie from a plain-http site is never sent back over http; its other cookies are', async () => {
        const seen: { path: string; cookie: string }[] = [];
        const site = new Server({
            port: 0,
            host: '127.0.0.1',
            prepareRequestFunction: ({ request }) => {
                const url = new URL(request.url ?? '');
                const cookie = request.headers.cookie ?? '';
                seen.push({ path: url.pathname, cookie });
                const headers: Record<string, string> = { 'content-type': 'text/html' };
                if (url.pathname === '/login') headers['set-cookie'] = 'token=s3cret; Secure; Path=/';
                else if (!cookie.includes('plain=')) headers['set-cookie'] = 'plain=p1; Path=/';
                return {
                    customResponseFunction: () => ({
                        statusCode: 200,
                        headers,
                        body: `<html><body><p id="path">${url.pathname}</p></body></html>`,
                    }),
                };
            },
        });
        await site.listen();
        cleanup({ close: () => site.close(true) });
        class Login extends SessionConfig {
            override params() {
                return { url: 'http://shop.test/login' };
            }
        }
        const registry = new SessionConfigRegistry();
        registry.register(Login, { include: 'shop.test' });
        const { log } = captureLog();
        const { crawler, record } = recordingCrawler({
            log,
            proxyConfiguration: new ProxyConfiguration({ proxyUrls: [`http://127.0.0.1:${site.port}`] }),
        });
        const sessions = attachManagedSessions(crawler, { registry, poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([1, 2, 3].map((i) => `http://shop.test/p/${i}`));

        expect(await ledger(crawler, record)).toEqual({ added: 3, handled: 3, failed: 0, pending: 0 });
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 3 });
        // The init got the Secure cookie; no request carried it. The first page's plain cookie did go
        // back with the next pages, so this host's cookies are stored and sent: only Secure is held back.
        expect(seen.map(({ path, cookie }) => `${path} ${cookie || '-'}`)).toEqual([
            '/login -',
            '/p/1 -',
            '/p/2 plain=p1',
            '/p/3 plain=p1',
        ]);
    });
});

describe('secrets never show in logs or errors', () => {
    const PROXY_AUTH = { username: 'proxyuser', password: 'secretproxypw' };
    const PARAMS_URL_AUTH = 'paramsuser:secretparamspw';
    const secrets = [
        'topsecretcookie',
        'secretproxypw',
        'secretinit',
        'secretrequest',
        'secretattempt',
        'secretparamspw',
        'secretparamsheader',
        // Basic credentials travel base64-encoded (Proxy-Authorization, Authorization from URL userinfo).
        Buffer.from(`${PROXY_AUTH.username}:${PROXY_AUTH.password}`).toString('base64'),
        Buffer.from(PARAMS_URL_AUTH).toString('base64'),
    ];
    const leaks = (texts: string[]) => texts.filter((text) => secrets.some((secret) => text.includes(secret)));

    /**
     * An authorised proxy behind a relay that cuts the use attempts (they carry the session cookie) of
     * URLs containing `/drop/`: a network error between crawler and proxy, whose URL has the password.
     */
    async function proxyThatDrops() {
        const proxy = cleanup(await startProxy('p1', PROXY_AUTH));
        const relay = cleanup(
            await startRelay(
                Number(new URL(proxy.url).port),
                (data) => data.includes('/drop/') && /^cookie:/im.test(data),
            ),
        );
        const url = `http://${PROXY_AUTH.username}:${PROXY_AUTH.password}@127.0.0.1:${relay.port}`;
        return { proxy, relay, url };
    }

    it('a crawl with authorised proxies, cookies and Authorization headers, hitting every kind of fault', async () => {
        let issued = 0;
        const failOnce = new Set<string>();
        const server = cleanup(
            await startServer((request: SeenRequest, response: ServerResponse) => {
                const sid = cookieValue(request.cookie, 'sid');
                if (!sid) {
                    issued++;
                    return html(response, 'welcome', 200, { 'set-cookie': `sid=topsecretcookie${issued}; Path=/` });
                }
                const [, kind] = request.path.split('/');
                if (kind === 'blocked') return html(response, 'banned', 403);
                if (kind === 'origin') return html(response, 'origin down', 520);
                // (`/drop/` attempts never arrive: the relay in front of the proxy cuts them.)
                // Through the proxy, a connection the site drops comes back as proxy-chain's 595 response.
                if (kind === 'reset') return dropConnection(response);
                // Fails the first attempt only: the retry (another session) succeeds.
                if (kind === 'flaky' && !failOnce.has(request.path)) {
                    failOnce.add(request.path);
                    return html(response, 'origin down', 520);
                }
                html(response, `<p id="sid">${sid}</p>`);
            }),
        );
        const { proxy, relay, url: proxyUrl } = await proxyThatDrops();
        // An exit that refuses connections: the sessions given it fail their inits.
        const dead = await startProxy('dead', PROXY_AUTH);
        await dead.close();

        class Careless extends SessionConfig {
            override processRequest(request: Request, session: Session): RequestOverrides | undefined {
                if (!request.url.includes('/api/')) return undefined;
                return { headers: { authorization: `Bearer secretattempt-${session.id}` } };
            }
            override check(response: SessionResponse, request: Request, session: Session) {
                // A user's check that throws quoting everything it saw (on use responses: on init
                // responses too, every init of that pool would fail, and maxBadInits stop the crawl).
                if (request.url.includes('/quoting/') && !isSessionInitRequest(request)) {
                    throw new Error(
                        `cannot judge ${JSON.stringify(response.headers)} for ${JSON.stringify(request.headers)}, ` +
                            `cookie: ${session.getCookieString(request.url)}`,
                    );
                }
                return super.check(response, request, session);
            }
        }
        const registry = new SessionConfigRegistry();
        registry.register(Careless, { include: server.host });

        const capture = captureEverything();
        try {
            const { crawler, record } = recordingCrawler({
                log: capture.log,
                maxSessionRotations: 2,
                proxyConfiguration: new ProxyConfiguration({ proxyUrls: [proxyUrl, dead.url] }),
            });
            const sessions = attachManagedSessions(crawler, {
                registry,
                poolSize: 2,
                statusIntervalSecs: 1,
                params: { headers: { authorization: 'Bearer secretinit' } },
            });
            const auth = { authorization: 'Bearer secretrequest' };
            const kinds = ['ok', 'api', 'blocked', 'origin', 'drop', 'reset', 'flaky', 'quoting'];
            await crawler.run([
                ...kinds.map((kind) => ({ url: `${server.url}/${kind}/1`, headers: auth })),
                // Two pools of their own (host[0], host[1]), logged with their init URL. got sends URL
                // credentials as Basic authorization, which replaces an explicit header: one secret each.
                {
                    url: `${server.url}/ok/params-url`,
                    headers: auth,
                    userData: { sessionParams: { url: `http://${PARAMS_URL_AUTH}@${server.host}/p-init` } },
                },
                {
                    url: `${server.url}/ok/params-header`,
                    headers: auth,
                    userData: {
                        sessionParams: {
                            url: `${server.url}/q-init`,
                            headers: { authorization: 'Bearer secretparamsheader' },
                        },
                    },
                },
            ]);
            capture.restore();

            // The secrets were really in play.
            expect(proxy.refused).toBe(0);
            expect(proxy.forwarded.length).toBeGreaterThan(0);
            expect(sessions.stats['sessions/init/failed']).toBeGreaterThan(0);
            const seen = server.seen.map((request) => `${request.headers.authorization} ${request.cookie ?? ''}`);
            expect(seen.filter((line) => line.startsWith('Bearer secretinit '))).not.toHaveLength(0);
            expect(seen.filter((line) => line.startsWith('Bearer secretrequest sid=topsecretcookie'))).not.toHaveLength(
                0,
            );
            expect(seen.filter((line) => line.startsWith('Bearer secretattempt-'))).not.toHaveLength(0);
            expect(seen.filter((line) => line.startsWith('Bearer secretparamsheader '))).toHaveLength(1);
            expect(
                seen.filter((line) => line.startsWith(`Basic ${Buffer.from(PARAMS_URL_AUTH).toString('base64')} `)),
            ).toHaveLength(1);

            // Every kind of fault happened and ended as it should.
            expect(record.handled.map((url) => url.slice(server.url.length)).sort()).toEqual(
                ['/api/1', '/flaky/1', '/ok/1', '/ok/params-url', '/ok/params-header'].sort(),
            );
            expect(record.failed.map((failure) => failure.url.slice(server.url.length)).sort()).toEqual(
                ['/blocked/1', '/drop/1', '/origin/1', '/quoting/1', '/reset/1'].sort(),
            );
            expect(await ledger(crawler, record)).toEqual({ added: 10, handled: 5, failed: 5, pending: 0 });
            expect(sessions.closeReason).toBeUndefined();
            // The network error on the way to the proxy was one, for each of the three attempts.
            expect(relay.cuts).toBe(3);
            const drop = record.failed.find((failure) => failure.url.endsWith('/drop/1'))!;
            // The last rotation's error: no promise of another session, the option that ran out named.
            expect(drop.error.message).toMatch(/^Download error for .*maxSessionRotations \(2\)/s);
            expect(capture.lines.some((line) => line.startsWith('Managed sessions summary'))).toBe(true);
            expect(capture.lines.some((line) => line.includes('cannot judge'))).toBe(true);

            // Nothing printed, and no error handed to the user, shows a secret.
            expect(leaks(capture.lines)).toEqual([]);
            expect(leaks(record.retried.map((retry) => retry.message))).toEqual([]);
            for (const { error, errorMessages } of record.failed) {
                expect(leaks([error.message, String(error.stack), ...errorMessages])).toEqual([]);
            }
        } finally {
            capture.restore();
        }
    });

    // The SessionDownloadError of a network error keeps only a redacted stand-in of the HTTP client's error as `cause`:
    // (attach.ts #classify → SessionManager.downloadError(…, cause)), and got's RequestError carries its
    // request `options`: the Cookie and Authorization headers, `proxyUrl` with its password, and the
    // session (`sessionToken`) with its whole cookie jar. Its message and stack are clean, and Crawlee's
    // text logger prints only those; but a user who logs the error whole (`console.error(error)`,
    // `util.inspect`, a JSON logger serialising own properties) prints every secret of the attempt.
    it('a network error handed to failedRequestHandler shows no secret when inspected whole', async () => {
        const server = cleanup(
            await startServer((request, response) => {
                if (!cookieValue(request.cookie, 'sid')) {
                    return html(response, 'welcome', 200, { 'set-cookie': 'sid=topsecretcookie1; Path=/' });
                }
                html(response, 'never reached');
            }),
        );
        const { proxy, relay, url: proxyUrl } = await proxyThatDrops();
        const { log } = captureLog();
        const { crawler, record } = recordingCrawler({
            log,
            maxSessionRotations: 0,
            proxyConfiguration: new ProxyConfiguration({ proxyUrls: [proxyUrl] }),
        });
        attachManagedSessions(crawler, {
            poolSize: 1,
            statusIntervalSecs: 0,
            params: { headers: { authorization: 'Bearer secretinit' } },
        });
        await crawler.run([{ url: `${server.url}/drop/1`, headers: { authorization: 'Bearer secretrequest' } }]);

        expect(proxy.forwarded).toHaveLength(1);
        expect(relay.cuts).toBe(1);
        expect(await ledger(crawler, record)).toEqual({ added: 1, handled: 0, failed: 1, pending: 0 });
        const { error } = record.failed[0]!;
        expect(error.message).toContain(`Download error for ${server.url}/drop/1`);
        expect(leaks([error.message, String(error.stack)])).toEqual([]);
        expect(leaks([inspect(error, { depth: 6 })])).toEqual([]);
    });

    // redact() finds secrets by the header name in front of them; a check error that quotes
    // the session's cookie string bare (`sid=…`, as `session.getCookieString()` gives it) is logged as is
    // (SessionManager.check → log.error(describeError(error)), and initializer.ts for init checks),
    // although the engine knows that session's cookie values and could mask them wherever they occur.
    it('a check error quoting the session’s cookie string bare is logged without the cookie value', async () => {
        let issued = 0;
        const server = cleanup(
            await startServer((request, response) => {
                if (cookieValue(request.cookie, 'sid')) return html(response, 'page');
                issued++;
                html(response, 'welcome', 200, { 'set-cookie': `sid=topsecretcookie${issued}; Path=/` });
            }),
        );
        const { log, lines } = captureLog();
        const { crawler, record } = recordingCrawler({ log, maxSessionRotations: 0 });
        const sessions = attachManagedSessions(crawler, {
            poolSize: 1,
            statusIntervalSecs: 0,
            checker: (response, request, session) => {
                if (isSessionInitRequest(request)) return true;
                throw new Error(`unexpected page for session ${session.getCookieString(response.url)}`);
            },
        });
        await crawler.run([`${server.url}/a`]);

        expect(sessions.stats).toMatchObject({ 'sessions/use/check-error': 1 });
        expect(await ledger(crawler, record)).toEqual({ added: 1, handled: 0, failed: 1, pending: 0 });
        expect(lines.filter((line) => line.includes('unexpected page for session'))).toHaveLength(1);
        expect(leaks(lines)).toEqual([]);
    });

    // An invalid option's error must not quote secrets it got (a header value given as an array, a URL
    // with credentials): such errors end up in logs and crash reports.
    it('an invalid option quotes no Authorization value and no URL credentials', () => {
        const crawler = recordingCrawler({ log: captureLog().log }).crawler;
        const messages: string[] = [];
        for (const params of [
            { headers: { authorization: ['Bearer secretinit'] } },
            { url: `ftp://${PARAMS_URL_AUTH}@127.0.0.1/init` },
        ]) {
            try {
                attachManagedSessions(crawler, { params } as never);
            } catch (error) {
                expect(error).toBeInstanceOf(ManagedSessionsOptionsError);
                messages.push((error as Error).message, JSON.stringify((error as ManagedSessionsOptionsError).issues));
            }
        }
        expect(messages).toHaveLength(4);
        expect(messages[0]).toContain('params.headers.authorization');
        expect(messages[2]).toContain('params.url');
        expect(leaks(messages)).toEqual([]);
    });
});
