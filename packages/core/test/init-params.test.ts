import type { Request, Session } from '@crawlee/core';
import {
    type Download,
    getRequestSessionId,
    type InitRequest,
    isSessionInitRequest,
    type Location,
    LocationSessionConfig,
    type ManagedSessionsOptions,
    type RequestOverrides,
    SessionCheckFailedError,
    SessionConfig,
    type SessionResponse,
    SessionsClosedError,
    UNSUPPORTED_SET_LOCATION,
} from '@managed-sessions/core';
import { describe, expect, it } from 'vitest';
import { captureLog, req, response, settle, setup } from './helpers.js';

const URL_A = 'https://shop.example/a';

/** Every init source is set up, so the table shows which one wins. */
class EverySource extends LocationSessionConfig {
    override location(request: Request): Location {
        return (request.userData.configLocation as Location | undefined) ?? {};
    }
    override params(): InitRequest {
        return { url: 'https://shop.example/config-params', method: 'PUT' };
    }
    override locationParams(_request: Request, location: Location): InitRequest {
        return { url: `https://shop.example/set-location?zip=${location.postalCode}`, method: 'post', json: location };
    }
}

describe('init-parameter precedence', () => {
    const userParams: InitRequest = { url: 'https://shop.example/user-params', method: 'PATCH', body: 'user' };
    const optionParams: InitRequest = {
        url: 'https://shop.example/option-params',
        method: 'POST',
        form: { from: 'option' },
    };
    const userLocation = { postalCode: 'USER' };
    const optionLocation = { postalCode: 'OPTION' };
    const configLocation = { postalCode: 'CONFIG' };

    // [winner, options, userData, expected init: url, method, body]
    const table: [string, ManagedSessionsOptions, Record<string, unknown>, string, string, string | undefined][] = [
        [
            'userData.sessionParams',
            { params: optionParams, location: optionLocation },
            { sessionParams: userParams, sessionLocation: userLocation, configLocation },
            'https://shop.example/user-params',
            'PATCH',
            'user',
        ],
        [
            'userData.sessionLocation',
            { params: optionParams, location: optionLocation },
            { sessionLocation: userLocation, configLocation },
            'https://shop.example/set-location?zip=USER',
            'POST',
            '{"postalCode":"USER"}',
        ],
        [
            'option params',
            { params: optionParams, location: optionLocation },
            { configLocation },
            'https://shop.example/option-params',
            'POST',
            'from=option',
        ],
        [
            'option location',
            { location: optionLocation },
            { configLocation },
            'https://shop.example/set-location?zip=OPTION',
            'POST',
            '{"postalCode":"OPTION"}',
        ],
        [
            'config.location()',
            {},
            { configLocation },
            'https://shop.example/set-location?zip=CONFIG',
            'POST',
            '{"postalCode":"CONFIG"}',
        ],
        ['config.params()', {}, {}, 'https://shop.example/config-params', 'PUT', undefined],
    ];

    it.each(table)('%s wins', async (_winner, options, userData, url, method, body) => {
        const { manager, registry, site } = setup({ poolSize: 1, ...options });
        registry.register(EverySource, { include: 'shop.example' });
        const lease = await manager.acquire(req(URL_A, userData));
        expect(lease).toBeDefined();
        expect(site.calls.map((call) => [call.url, call.method, call.body])).toEqual([[url, method, body]]);
        expect(manager.stats).toEqual({ 'sessions/init/check-passed': 1 });
    });

    it('plain SessionConfig visits the URL of the request that triggered the init', async () => {
        const { manager, site } = setup({ poolSize: 2 });
        await manager.acquire(req('https://shop.example/first'));
        await manager.acquire(req('https://shop.example/second?x=1'));
        await settle();
        expect(site.calls.map((call) => [call.url, call.method, call.body])).toEqual([
            ['https://shop.example/first', 'GET', undefined],
            ['https://shop.example/second?x=1', 'GET', undefined],
        ]);
    });

    it('an init request without url goes to the triggering URL', async () => {
        const { manager, site } = setup({ poolSize: 1, params: { method: 'POST', body: 'x=1' } });
        await manager.acquire(req('https://shop.example/page'));
        expect(site.calls.map((call) => [call.url, call.method, call.body])).toEqual([
            ['https://shop.example/page', 'POST', 'x=1'],
        ]);
    });

    it.each([
        [{ json: { a: 1 } }, '{"a":1}', 'application/json'],
        [{ form: { a: '1', b: 'x y' } }, 'a=1&b=x+y', 'application/x-www-form-urlencoded'],
        [{ body: 'raw', headers: { 'content-type': 'text/plain' } }, 'raw', 'text/plain'],
        [
            { json: { a: 1 }, headers: { 'content-type': 'application/vnd.api+json' } },
            '{"a":1}',
            'application/vnd.api+json',
        ],
    ] as const)('encodes the init body of %j', async (init, body, contentType) => {
        const { manager, site } = setup({
            poolSize: 1,
            params: { url: 'https://shop.example/init', method: 'POST', ...init },
        });
        await manager.acquire(req(URL_A));
        expect(site.calls[0]?.body).toBe(body);
        expect(site.calls[0]?.headers['content-type']).toBe(contentType);
    });
});

describe('locations without a way to set them: unsupported_set_location', () => {
    class LocatedByConfig extends SessionConfig {
        override location(): Location {
            return { addressCountry: 'US' };
        }
    }
    class LocationWithoutLocationParams extends LocationSessionConfig {}

    it.each([
        ['userData.sessionLocation on SessionConfig', SessionConfig, {}, { sessionLocation: { addressCountry: 'US' } }],
        ['option location on SessionConfig', SessionConfig, { location: { addressCountry: 'US' } }, {}],
        ['config.location() on SessionConfig', LocatedByConfig, {}, {}],
        [
            'LocationSessionConfig without locationParams',
            LocationWithoutLocationParams,
            {},
            { sessionLocation: { postalCode: '1' } },
        ],
    ] as const)('%s stops the crawl', async (_what, cls, options, userData) => {
        const { log, lines } = captureLog();
        const { manager, registry, site, closes } = setup({ poolSize: 3, ...options }, { log });
        registry.register(cls, { include: '', priority: 1000 });
        const attempts = [1, 2, 3].map((i) => manager.acquire(req(`https://shop.example/${i}`, userData)));
        const errors = await Promise.all(attempts.map((attempt) => attempt.catch((error: unknown) => error)));
        for (const error of errors) {
            expect(error).toBeInstanceOf(SessionsClosedError);
            expect((error as Error).message).toContain(`Sessions are closed (${UNSUPPORTED_SET_LOCATION})`);
        }
        expect(manager.closeReason).toBe('unsupported_set_location');
        expect(closes.map((close) => close.reason)).toEqual(['unsupported_set_location']);
        expect(site.calls).toHaveLength(0);
        expect(manager.stats).toEqual({});
        const fix = lines.find((line) => line.message.includes('cannot set a location'));
        expect(fix?.message).toContain(
            'Use a LocationSessionConfig subclass that overrides locationParams(), or override params().',
        );
    });

    it('a SessionConfig whose params() is location-aware may have a location', async () => {
        class LocationAwareParams extends SessionConfig {
            override params(request: Request): InitRequest {
                return { url: `https://shop.example/zip/${(request.userData.sessionLocation as Location).postalCode}` };
            }
        }
        const { manager, registry, site } = setup({ poolSize: 1 });
        registry.register(LocationAwareParams, { include: 'shop.example' });
        const lease = await manager.acquire(req(URL_A, { sessionLocation: { postalCode: '10001' } }));
        expect(lease?.poolId).toBe('shop.example@10001');
        expect(site.urls).toEqual(['https://shop.example/zip/10001']);
        expect(manager.closeReason).toBeUndefined();
    });

    it('sessionParams need no location support even with a location', async () => {
        const { manager, site } = setup({ poolSize: 1 });
        const lease = await manager.acquire(
            req(URL_A, { sessionParams: { url: 'https://shop.example/p' }, sessionLocation: { postalCode: '1' } }),
        );
        expect(lease?.poolId).toBe('shop.example[0]');
        expect(site.urls).toEqual(['https://shop.example/p']);
    });
});

describe('LocationSessionConfig', () => {
    type Seen = [hook: string, init: boolean, url: string, location?: Location];

    class Zip extends LocationSessionConfig {
        static seen: Seen[] = [];
        override locationParams(_request: Request, location: Location): InitRequest {
            return { url: 'https://shop.example/location', method: 'POST', form: location };
        }
        override locationCheck(response: SessionResponse, request: Request, _s: Session, location: Location): boolean {
            Zip.seen.push(['locationCheck', isSessionInitRequest(request), response.url, location]);
            return response.body.includes(`zip=${location.postalCode}`);
        }
        override check(response: SessionResponse, request: Request): boolean {
            Zip.seen.push(['check', isSessionInitRequest(request), response.url]);
            return response.statusCode === 200;
        }
    }

    function zipSite() {
        const h = setup({ poolSize: 1 });
        h.registry.register(Zip, { include: 'shop.example' });
        h.site.respond = (call) =>
            response(call.url, 200, call.body?.startsWith('postalCode=') ? `zip=${call.body.slice(11)}` : 'plain');
        Zip.seen = [];
        return h;
    }

    it('locationParams and locationCheck replace params and check for located requests, init and use', async () => {
        const { manager, site } = zipSite();
        const location = { postalCode: '10001' };
        const lease = (await manager.acquire(req(URL_A, { sessionLocation: location })))!;
        expect(site.calls.map((call) => [call.url, call.method, call.body])).toEqual([
            ['https://shop.example/location', 'POST', 'postalCode=10001'],
        ]);
        await manager.check(lease, response(URL_A, 200, 'zip=10001'));
        await expect(manager.check(lease, response(URL_A, 200, 'zip=99999'))).rejects.toThrow(SessionCheckFailedError);
        await settle();
        expect(Zip.seen).toEqual([
            ['locationCheck', true, 'https://shop.example/location', location],
            ['locationCheck', false, URL_A, location],
            ['locationCheck', false, URL_A, location],
            // The failed check discarded the session: its replacement's init.
            ['locationCheck', true, 'https://shop.example/location', location],
        ]);
        expect(manager.stats).toEqual({
            'sessions/init/check-passed': 2,
            'sessions/use/check-passed': 1,
            'sessions/use/check-failed': 1,
        });
    });

    it('requests without a location keep params() and check()', async () => {
        const { manager, site } = zipSite();
        const lease = (await manager.acquire(req(URL_A)))!;
        await manager.check(lease, response(URL_A));
        expect(site.urls).toEqual([URL_A]);
        expect(Zip.seen).toEqual([
            ['check', true, URL_A],
            ['check', false, URL_A],
        ]);
    });

    it('a failing locationCheck fails the init', async () => {
        const { manager, site, clock } = zipSite();
        site.respond = (call) => response(call.url, 200, 'zip=elsewhere');
        const attempt = manager.acquire(req(URL_A, { sessionLocation: { postalCode: '10001' } }));
        const error = attempt.catch((e: unknown) => e);
        await clock.advance(60_000);
        expect(await error).toBeInstanceOf(Error);
        expect(manager.stats).toEqual({ 'sessions/init/check-failed': 8 });
        expect(manager.closeReason).toBe('bad_session_inits');
    });

    it('the default locationCheck is the config check()', async () => {
        class ZipDefaultCheck extends LocationSessionConfig {
            override locationParams(): InitRequest {
                return { url: 'https://shop.example/location' };
            }
            override check(response: SessionResponse): boolean {
                return response.body !== 'blocked';
            }
        }
        const { manager, registry } = setup({ poolSize: 1 });
        registry.register(ZipDefaultCheck, { include: 'shop.example' });
        const lease = (await manager.acquire(req(URL_A, { sessionLocation: { postalCode: '1' } })))!;
        await expect(manager.check(lease, response(URL_A, 200, 'blocked'))).rejects.toThrow(SessionCheckFailedError);
    });
});

describe('init requests', () => {
    it('are marked, carry copies of the session controls and report their session id', async () => {
        class Located extends LocationSessionConfig {
            override locationParams(): InitRequest {
                return { url: 'https://shop.example/location' };
            }
        }
        const { manager, registry, site } = setup({ poolSize: 1 });
        registry.register(Located, { include: 'shop.example' });
        const userData = {
            sessionLocation: { postalCode: '10001' },
            sessionPool: 'zip-pool',
            label: 'DETAIL',
        };
        const trigger = req(URL_A, userData);
        const lease = (await manager.acquire(trigger))!;
        const [call] = site.calls;
        expect(call?.isInit).toBe(true);
        expect(call?.userData).toEqual({
            __sessionInit: true,
            sessionLocation: { postalCode: '10001' },
            sessionPool: 'zip-pool',
        });
        expect(call?.requestSessionId).toBe(lease.session.id);
        expect(call?.sessionId).toBe(lease.session.id);
        expect(getRequestSessionId(call!.request)).toBe(lease.session.id);
        // Copies: the init cannot change the triggering request's controls.
        (call!.request.userData.sessionLocation as Location).postalCode = 'changed';
        expect(trigger.userData.sessionLocation).toEqual({ postalCode: '10001' });
        expect(isSessionInitRequest(trigger)).toBe(false);
        expect(getRequestSessionId(trigger)).toBe(lease.session.id);
    });

    it('copy sessionParams too, and are never given a session themselves', async () => {
        const { manager, site } = setup({ poolSize: 1 });
        await manager.acquire(req(URL_A, { sessionParams: { url: 'https://shop.example/init', headers: { a: 'b' } } }));
        const init = site.calls[0]!;
        expect(init.userData).toEqual({
            __sessionInit: true,
            sessionParams: { url: 'https://shop.example/init', headers: { a: 'b' } },
        });
        expect(init.headers).toEqual({ a: 'b' });
        expect(await manager.acquire(init.request)).toBeUndefined();
        expect(manager.stats).toEqual({ 'sessions/init/check-passed': 1 });
    });

    it('a multi-step initSession makes several downloads with one session', async () => {
        class Login extends SessionConfig {
            override async initSession(session: Session, _request: Request, download: Download): Promise<boolean> {
                const form = await download({ url: 'https://shop.example/login' });
                const token = /token=(\w+)/.exec(form.body)?.[1] ?? '';
                const done = await download({
                    url: 'https://shop.example/login',
                    method: 'POST',
                    form: { user: 'u', token },
                });
                session.userData.csrf = done.body;
                return done.statusCode === 200;
            }
            override processRequest(_request: Request, session: Session): RequestOverrides {
                return { headers: { 'x-csrf': String(session.userData.csrf) } };
            }
        }
        const { manager, registry, site } = setup({ poolSize: 1 });
        registry.register(Login, { include: 'shop.example' });
        site.respond = (call) => response(call.url, 200, call.method === 'GET' ? 'token=abc123' : 'csrf-42');
        const lease = (await manager.acquire(req(URL_A)))!;
        expect(site.calls.map((call) => [call.url, call.method, call.body, call.sessionId, call.isInit])).toEqual([
            ['https://shop.example/login', 'GET', undefined, lease.session.id, true],
            ['https://shop.example/login', 'POST', 'user=u&token=abc123', lease.session.id, true],
        ]);
        expect(lease.overrides).toEqual({ headers: { 'x-csrf': 'csrf-42' } });
        expect(manager.stats).toEqual({ 'sessions/init/check-passed': 1 });
    });

    it('get the proxy URL from prepareSession, as does the lease', async () => {
        const prepared: string[] = [];
        const { manager, site } = setup(
            { poolSize: 1 },
            {
                prepareSession: (session, trigger) => {
                    prepared.push(`${session.id} ${trigger.url}`);
                    return `http://proxy-${prepared.length}.example:8000`;
                },
            },
        );
        const lease = (await manager.acquire(req(URL_A)))!;
        expect(prepared).toEqual([`${lease.session.id} ${URL_A}`]);
        expect(site.calls[0]?.proxyUrl).toBe('http://proxy-1.example:8000');
        expect(lease.proxyUrl).toBe('http://proxy-1.example:8000');
    });

    it('the checker option replaces check() for init and use responses', async () => {
        const seen: [boolean, number][] = [];
        const { manager } = setup({
            poolSize: 1,
            checker: (res, request) => {
                seen.push([isSessionInitRequest(request), res.statusCode]);
                return res.statusCode !== 418;
            },
        });
        const lease = (await manager.acquire(req(URL_A)))!;
        await manager.check(lease, response(URL_A, 403));
        await expect(manager.check(lease, response(URL_A, 418))).rejects.toThrow(SessionCheckFailedError);
        expect(seen).toEqual([
            [true, 200],
            [false, 403],
            [false, 418],
            // The failed check discarded the session: its replacement's init.
            [true, 200],
        ]);
    });

    it('configs get the resolved options, the log and the crawler, one instance per class', async () => {
        const instances: SessionConfig[] = [];
        class Recorded extends SessionConfig {
            override pool(request: Request): string {
                instances.push(this);
                return super.pool(request) as string;
            }
        }
        const crawler = { name: 'crawler' };
        const { manager, registry } = setup({ poolSize: 2 }, { crawler });
        registry.register(Recorded, { include: 'shop.example' });
        await manager.acquire(req(URL_A));
        await manager.acquire(req('https://shop.example/b'));
        expect(instances).toHaveLength(2);
        expect(instances[0]).toBe(instances[1]);
        expect(instances[0]?.crawler).toBe(crawler);
        expect(instances[0]?.options.poolSize).toBe(2);
        expect(manager.configFor(URL_A)).toBe(instances[0]);
        expect(manager.configFor('https://blog.example/')).toBeInstanceOf(SessionConfig);
        expect(manager.configFor('https://blog.example/')).not.toBeInstanceOf(Recorded);
    });
});
