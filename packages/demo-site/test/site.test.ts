import { request } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type DemoSite, type DemoSiteOptions, productName, productPrice, startDemoSite } from '../src/index.js';
import { get, newSession, type Reply, sessionCookie, sidOf } from './helpers.js';

const EXPIRED = '<h1 id="expired">Session expired</h1>';
const CHALLENGE = '<h1 id="challenge">Please enable cookies</h1>';
const FORBIDDEN = '<h1 id="forbidden">Access denied</h1>';

let sites: DemoSite[] = [];

async function start(options?: DemoSiteOptions): Promise<DemoSite> {
    const site = await startDemoSite(options);
    sites.push(site);
    return site;
}

afterEach(async () => {
    await Promise.all(sites.map((site) => site.close()));
    sites = [];
});

function manualClock(at = 0): { now: () => number; set: (ms: number) => void } {
    let time = at;
    return {
        now: () => time,
        set: (ms) => {
            time = ms;
        },
    };
}

function csrfOf(reply: Reply): string {
    const match = /<meta name="csrf-token" content="([0-9a-f]{32})">/.exec(reply.body);
    if (match?.[1] === undefined) throw new Error('no CSRF token on the page');
    return match[1];
}

function formTokenOf(reply: Reply): string {
    const match = /<input type="hidden" name="form_token" value="([0-9a-f]{32})">/.exec(reply.body);
    if (match?.[1] === undefined) throw new Error('no form token on the page');
    return match[1];
}

function postForm(url: string, cookie: string, fields: Record<string, string>): Promise<Reply> {
    return get(url, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
    });
}

describe('startDemoSite', () => {
    it('listens on 127.0.0.1 at an ephemeral port', async () => {
        const site = await start();
        expect(site.url).toBe(`http://127.0.0.1:${site.port}`);
        expect(site.port).toBeGreaterThan(0);
        expect((await get(`${site.url}/`)).status).toBe(200);
    });

    it('close() ends keep-alive connections at once and can be called twice', async () => {
        const site = await start();
        await get(`${site.url}/`); // leaves an idle keep-alive connection in fetch's pool
        const began = performance.now();
        await site.close();
        await site.close();
        expect(performance.now() - began).toBeLessThan(1000);
        await expect(fetch(`${site.url}/`)).rejects.toThrow();
    });
});

describe('sessions', () => {
    it('GET / creates a session with an HttpOnly sid cookie and shows its CSRF token', async () => {
        const site = await start();
        const home = await get(`${site.url}/`);
        expect(home.status).toBe(200);
        const cookie = sessionCookie(home);
        expect(csrfOf(home)).toBe(site.getSession(sidOf(cookie))?.csrf);
        expect(site.counters.inits).toBe(1);

        const again = await get(`${site.url}/`, { headers: { cookie } });
        expect(again.headers['set-cookie']).toBeUndefined();
        expect(csrfOf(again)).toBe(csrfOf(home));
        expect(site.counters.inits).toBe(1);
        expect(site.sessionCount).toBe(1);
    });

    const protectedRoutes: [string, string][] = [
        ['GET', '/catalogue'],
        ['GET', '/product/1'],
        ['GET', '/api/products/1'],
        ['POST', '/location'],
        ['POST', '/login'],
        ['GET', '/account'],
    ];

    it.each(protectedRoutes)('%s %s without a session is a 403 under protection "forbidden"', async (method, path) => {
        const site = await start();
        const reply = await get(`${site.url}${path}`, { method, headers: { cookie: 'sid=0123456789abcdef' } });
        expect(reply.status).toBe(403);
        expect(reply.body).toContain(`${FORBIDDEN}<p id="reason">no-session</p>`);
        expect(site.counters).toMatchObject({ bans: 1, challenges: 0, pages: 0, inits: 0 });
    });

    it.each(protectedRoutes)(
        '%s %s without a session is a 200 challenge under protection "challenge"',
        async (method, path) => {
            const site = await start({ protection: 'challenge' });
            const reply = await get(`${site.url}${path}`, { method });
            expect(reply.status).toBe(200);
            expect(reply.body).toContain(CHALLENGE);
            expect(site.counters).toMatchObject({ bans: 0, challenges: 1, pages: 0 });
        },
    );

    it('expires after sessionMaxUses uses with a 200 page that only a body check notices', async () => {
        const site = await start({ sessionMaxUses: 3 });
        const cookie = await newSession(site.url);
        for (const id of [1, 2, 3]) {
            const page = await get(`${site.url}/product/${id}`, { headers: { cookie } });
            expect(page.status).toBe(200);
            expect(page.body).not.toContain(EXPIRED);
        }
        const expired = await get(`${site.url}/product/4`, { headers: { cookie } });
        expect(expired.status).toBe(200);
        expect(expired.body).toContain(EXPIRED);
        expect(site.getSession(sidOf(cookie))?.uses).toBe(3);
        expect(site.counters).toMatchObject({ pages: 3, expired: 1, inits: 1 });

        // The home page replaces an expired session.
        const fresh = await get(`${site.url}/`, { headers: { cookie } });
        expect(sessionCookie(fresh)).not.toBe(cookie);
        expect(site.counters.inits).toBe(2);
    });

    it('expires after sessionMaxAgeMs by the injected clock', async () => {
        const clock = manualClock(10_000);
        const site = await start({ sessionMaxAgeMs: 1000, clock: clock.now });
        const cookie = await newSession(site.url);
        clock.set(10_999);
        expect((await get(`${site.url}/product/1`, { headers: { cookie } })).body).not.toContain(EXPIRED);
        clock.set(11_000);
        const expired = await get(`${site.url}/product/1`, { headers: { cookie } });
        expect([expired.status, expired.body.includes(EXPIRED)]).toEqual([200, true]);
        expect(site.counters).toMatchObject({ pages: 1, expired: 1 });
    });

    it('answers 429 to a reuse sooner than minReuseIntervalMs, without counting it as a use', async () => {
        const clock = manualClock(0);
        const site = await start({ minReuseIntervalMs: 1500, clock: clock.now });
        const cookie = await newSession(site.url);
        const product = () => get(`${site.url}/product/1`, { headers: { cookie } });

        expect((await product()).status).toBe(200); // the first use after init is never limited
        clock.set(500);
        const limited = await product();
        expect(limited.status).toBe(429);
        expect(limited.headers['retry-after']).toBe('1');
        expect(limited.body).toContain('<h1 id="rate-limited">Too many requests</h1>');
        clock.set(1499);
        expect((await product()).status).toBe(429);
        clock.set(1500);
        expect((await product()).status).toBe(200);
        clock.set(1600);
        expect((await product()).status).toBe(429);

        expect(site.getSession(sidOf(cookie))).toMatchObject({ uses: 2, lastUseAt: 1500 });
        expect(site.counters).toMatchObject({ rateLimited: 3, pages: 2 });
    });

    it('checks expiry before the rate limit', async () => {
        const clock = manualClock(0);
        const site = await start({ sessionMaxUses: 1, minReuseIntervalMs: 1000, clock: clock.now });
        const cookie = await newSession(site.url);
        await get(`${site.url}/product/1`, { headers: { cookie } });
        const reply = await get(`${site.url}/product/1`, { headers: { cookie } });
        expect([reply.status, reply.body.includes(EXPIRED)]).toEqual([200, true]);
        expect(site.counters).toMatchObject({ expired: 1, rateLimited: 0 });
    });
});

describe('location and prices', () => {
    it('a postal code set with a form changes the price and the postal-code element of that session only', async () => {
        const site = await start({ seed: 5 });
        const located = await newSession(site.url);
        const plain = await newSession(site.url);

        const set = await postForm(`${site.url}/location`, located, { postalCode: '10001' });
        expect(set.status).toBe(200);
        expect(set.body).toContain(
            '<h1 id="location">Delivery location set</h1><p><span id="postal-code">10001</span>',
        );

        const withLocation = await get(`${site.url}/product/12`, { headers: { cookie: located } });
        const without = await get(`${site.url}/product/12`, { headers: { cookie: plain } });
        const localPrice = productPrice(5, 12, '10001');
        const basePrice = productPrice(5, 12);
        expect(localPrice).not.toBe(basePrice);
        expect(withLocation.body).toContain(`<span id="price">${localPrice.toFixed(2)}</span>`);
        expect(withLocation.body).toContain('<span id="postal-code">10001</span>');
        expect(without.body).toContain(`<span id="price">${basePrice.toFixed(2)}</span>`);
        expect(without.body).toContain('<span id="postal-code">none</span>');
        expect(withLocation.body).toContain(`<h1 id="product-name">${productName(5, 12)}</h1>`);
        expect(site.getSession(sidOf(located))?.postalCode).toBe('10001');
    });

    it('accepts a JSON body and answers JSON; rejects a bad postal code with 400', async () => {
        const site = await start();
        const cookie = await newSession(site.url);
        const post = (body: string) =>
            get(`${site.url}/location`, {
                method: 'POST',
                headers: { cookie, 'content-type': 'application/json' },
                body,
            });
        const ok = await post(JSON.stringify({ postalCode: 'SW1A 1AA' }));
        expect([ok.status, JSON.parse(ok.body)]).toEqual([200, { postalCode: 'SW1A 1AA' }]);
        const bad = await post(JSON.stringify({ postalCode: '<script>' }));
        expect(bad.status).toBe(400);
        expect((await post('not json')).status).toBe(400);
        expect(site.getSession(sidOf(cookie))?.postalCode).toBe('SW1A 1AA');
    });

    it('prices and names depend on the seed only', async () => {
        const [a, b, c] = await Promise.all([start({ seed: 9 }), start({ seed: 9 }), start({ seed: 10 })]);
        const page = async (site: DemoSite) =>
            (await get(`${site.url}/product/77`, { headers: { cookie: await newSession(site.url) } })).body;
        expect(await page(a!)).toBe(await page(b!));
        expect(await page(a!)).not.toBe(await page(c!));
    });
});

describe('catalogue', () => {
    it('lists 50 products per page with pagination links', async () => {
        const site = await start({ products: 120 });
        const cookie = await newSession(site.url);
        const first = await get(`${site.url}/catalogue`, { headers: { cookie } });
        const links = [...first.body.matchAll(/<a class="product" href="\/product\/(\d+)">/g)].map((m) => Number(m[1]));
        expect(links).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        expect(first.body).toContain('<a id="next" href="/catalogue?page=2">');
        expect(first.body).not.toContain('id="prev"');

        const last = await get(`${site.url}/catalogue?page=3`, { headers: { cookie } });
        expect(last.body.match(/class="product"/g)).toHaveLength(20);
        expect(last.body).toContain('<a id="prev" href="/catalogue?page=2">');
        expect(last.body).not.toContain('id="next"');
        expect(last.body).toContain('<span id="page">3</span> of <span id="pages">3</span>');

        for (const page of ['4', '0', 'x']) {
            expect((await get(`${site.url}/catalogue?page=${page}`, { headers: { cookie } })).status).toBe(404);
        }
        expect((await get(`${site.url}/product/121`, { headers: { cookie } })).status).toBe(404);
        expect(site.counters.pages).toBe(2);
    });
});

describe('CSRF-protected API', () => {
    it('requires x-csrf-token matching the session', async () => {
        const site = await start({ seed: 3 });
        const home = await get(`${site.url}/`);
        const cookie = sessionCookie(home);
        const api = (headers: Record<string, string>) =>
            get(`${site.url}/api/products/5`, { headers: { cookie, ...headers } });

        const missing = await api({});
        expect([missing.status, JSON.parse(missing.body)]).toEqual([403, { error: 'forbidden', reason: 'csrf' }]);
        expect((await api({ 'x-csrf-token': 'f'.repeat(32) })).status).toBe(403);
        const ok = await api({ 'x-csrf-token': csrfOf(home) });
        expect(ok.status).toBe(200);
        expect(JSON.parse(ok.body)).toEqual({
            id: 5,
            name: productName(3, 5),
            price: productPrice(3, 5),
            currency: 'USD',
            postalCode: null,
        });
        expect(site.counters).toMatchObject({ api: 1, bans: 2 });
    });
});

describe('login', () => {
    it('runs the form flow: GET /login, POST /login, 302 to /account showing the user', async () => {
        const site = await start();
        const form = await get(`${site.url}/login`);
        const cookie = sessionCookie(form);
        expect(site.counters.inits).toBe(1);

        const notYet = await get(`${site.url}/account`, { headers: { cookie } });
        expect([notYet.status, notYet.body.includes('<p id="reason">login-required</p>')]).toEqual([403, true]);

        const wrong = await postForm(`${site.url}/login`, cookie, {
            username: 'alice',
            password: 'nope',
            form_token: formTokenOf(form),
        });
        expect(wrong.status).toBe(401);
        expect(wrong.body).toContain('<p id="login-error">Invalid username or password</p>');

        // The first token was consumed: replaying it is refused.
        const replay = await postForm(`${site.url}/login`, cookie, {
            username: 'alice',
            password: 'wonderland',
            form_token: formTokenOf(form),
        });
        expect([replay.status, replay.body.includes('<p id="reason">form-token</p>')]).toEqual([403, true]);

        const retry = await get(`${site.url}/login`, { headers: { cookie } });
        expect(retry.headers['set-cookie']).toBeUndefined();
        const login = await postForm(`${site.url}/login`, cookie, {
            username: 'alice',
            password: 'wonderland',
            form_token: formTokenOf(retry),
        });
        expect(login.status).toBe(302);
        expect(login.headers.location).toBe('/account');
        expect(login.headers['set-cookie']).toBeUndefined();

        const account = await get(`${site.url}/account`, { headers: { cookie } });
        expect(account.status).toBe(200);
        expect(account.body).toContain('<p id="user">alice</p>');

        // A successful login consumes its token too.
        const again = await postForm(`${site.url}/login`, cookie, {
            username: 'alice',
            password: 'wonderland',
            form_token: formTokenOf(retry),
        });
        expect(again.status).toBe(403);
        expect(site.counters).toMatchObject({ logins: 1, bans: 3, inits: 1 });
    });

    it('requireLogin makes product pages and the API answer 403 until the session logs in', async () => {
        const site = await start({ requireLogin: true, users: { bob: 'builder' } });
        const form = await get(`${site.url}/login`);
        const cookie = sessionCookie(form);
        const before = await get(`${site.url}/product/1`, { headers: { cookie } });
        expect([before.status, before.body.includes('<p id="reason">login-required</p>')]).toEqual([403, true]);
        await postForm(`${site.url}/login`, cookie, {
            username: 'bob',
            password: 'builder',
            form_token: formTokenOf(form),
        });
        expect((await get(`${site.url}/product/1`, { headers: { cookie } })).status).toBe(200);
        expect(site.getSession(sidOf(cookie))?.user).toBe('bob');
    });
});

describe('redirects', () => {
    it('GET /start sets the session cookie on the 302 hop', async () => {
        const site = await start();
        const hop = await get(`${site.url}/start`);
        expect(hop.status).toBe(302);
        expect(hop.headers.location).toBe('/');
        const cookie = sessionCookie(hop);
        const home = await get(`${site.url}/`, { headers: { cookie } });
        expect(home.headers['set-cookie']).toBeUndefined();
        expect(csrfOf(home)).toBe(site.getSession(sidOf(cookie))?.csrf);
        expect(site.counters.inits).toBe(1);

        expect((await get(`${site.url}/start?next=/catalogue`)).headers.location).toBe('/catalogue');
        expect((await get(`${site.url}/start?next=//evil.example/`)).headers.location).toBe('/');
    });

    it('GET /go/:id redirects to the product page without touching the session', async () => {
        const site = await start();
        const cookie = await newSession(site.url);
        const hop = await get(`${site.url}/go/7`, { headers: { cookie } });
        expect([hop.status, hop.headers.location, hop.headers['set-cookie']]).toEqual([302, '/product/7', undefined]);
        expect(site.getSession(sidOf(cookie))?.uses).toBe(0);
        // fetch keeps no cookie jar across hops, so this only shows the target needs the session.
        expect((await get(`${site.url}/go/7`, { redirect: 'follow' })).status).toBe(403);
    });
});

describe('520/521 errors', () => {
    async function statuses(site: DemoSite, n: number): Promise<number[]> {
        const result: number[] = [];
        for (let i = 0; i < n; i++) result.push((await get(`${site.url}/go/1`)).status);
        return result;
    }

    it('draws the same sequence for the same seed and a different one for another seed', async () => {
        const [a, b, c] = await Promise.all([
            start({ seed: 42, errorRate: 0.5 }),
            start({ seed: 42, errorRate: 0.5 }),
            start({ seed: 43, errorRate: 0.5 }),
        ]);
        const sequence = await statuses(a!, 40);
        expect(await statuses(b!, 40)).toEqual(sequence);
        expect(await statuses(c!, 40)).not.toEqual(sequence);
        expect(new Set(sequence)).toEqual(new Set([302, 520, 521]));
        expect(a!.counters).toMatchObject({
            errors520: sequence.filter((s) => s === 520).length,
            errors521: sequence.filter((s) => s === 521).length,
        });
    });

    it('errorRate 1 fails every request, including session inits', async () => {
        const site = await start({ errorRate: 1 });
        const reply = await get(`${site.url}/`);
        expect([520, 521]).toContain(reply.status);
        expect(reply.headers['set-cookie']).toBeUndefined();
        expect(reply.body).toContain('<h1 id="origin-error">');
        expect(site.counters.inits).toBe(0);
    });
});

describe('friendly mode', () => {
    it('serves every page with 200: no protection, errors, CSRF or expiry', async () => {
        const site = await start({ friendly: true, errorRate: 1, sessionMaxUses: 1, minReuseIntervalMs: 10_000 });
        for (const path of ['/catalogue', '/product/1', '/api/products/1', '/account']) {
            expect((await get(`${site.url}${path}`)).status).toBe(200);
        }
        const cookie = await newSession(site.url);
        for (let i = 0; i < 3; i++) {
            const page = await get(`${site.url}/product/2`, { headers: { cookie } });
            expect([page.status, page.body.includes(EXPIRED)]).toEqual([200, false]);
        }
        expect(site.counters).toMatchObject({
            bans: 0,
            challenges: 0,
            expired: 0,
            rateLimited: 0,
            errors520: 0,
            errors521: 0,
        });
        expect(site.counters.pages).toBe(5);
    });
});

describe('counters', () => {
    it('are exact, snapshots, and resettable', async () => {
        const site = await start({ sessionMaxUses: 2 });
        const a = await newSession(site.url);
        const b = await newSession(site.url);
        await get(`${site.url}/product/1`, { headers: { cookie: a } });
        await get(`${site.url}/product/1`, { headers: { cookie: a } });
        await get(`${site.url}/product/2`, { headers: { cookie: a } }); // expired
        await get(`${site.url}/catalogue`, { headers: { cookie: b } });
        await get(`${site.url}/product/3`); // no session: 403
        await get(`${site.url}/nowhere`);

        const snapshot = site.counters;
        expect(snapshot).toEqual({
            requests: 8,
            inits: 2,
            requestsPerSession: { [sidOf(a)]: 3, [sidOf(b)]: 1 },
            bans: 1,
            challenges: 0,
            expired: 1,
            rateLimited: 0,
            errors520: 0,
            errors521: 0,
            pages: 3,
            api: 0,
            logins: 0,
            byPath: { '/': 2, '/product/1': 2, '/product/2': 1, '/catalogue': 1, '/product/3': 1, '/nowhere': 1 },
            byStatus: { '200': 6, '403': 1, '404': 1 },
            exits: {},
            maxConcurrentRequests: 1,
            maxConcurrentSessions: 1,
        });

        await get(`${site.url}/`);
        expect(snapshot.requests).toBe(8);
        expect(site.counters.requests).toBe(9);

        site.resetCounters();
        expect(site.counters).toMatchObject({ requests: 0, inits: 0, byPath: {}, requestsPerSession: {} });
        expect(site.sessionCount).toBe(3);
    });

    it('track the most sessions with a request in flight at once', async () => {
        const site = await start();
        const [a, b] = [await newSession(site.url), await newSession(site.url)];
        // A POST whose body is still arriving keeps its request in flight.
        const slow = request(`${site.url}/location`, {
            method: 'POST',
            headers: { cookie: a, 'content-type': 'application/x-www-form-urlencoded' },
        });
        const done = new Promise<number>((resolve, reject) => {
            slow.on('response', (res) => {
                res.resume();
                resolve(res.statusCode ?? 0);
            });
            slow.on('error', reject);
        });
        slow.write('postalCode=');
        await vi.waitFor(() => expect(site.counters.requests).toBe(3));
        expect((await get(`${site.url}/product/1`, { headers: { cookie: b } })).status).toBe(200);
        slow.end('10001');
        expect(await done).toBe(200);
        expect(site.counters).toMatchObject({ maxConcurrentRequests: 2, maxConcurrentSessions: 2 });
    });
});
