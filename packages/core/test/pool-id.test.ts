import type { Request } from '@crawlee/core';
import {
    type InitRequest,
    type Location,
    LocationSessionConfig,
    type PoolConfig,
    PoolError,
    SessionConfig,
    SessionControlError,
} from '@managed-sessions/core';
import { hostOf, type SessionLease, type SessionManager } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { captureLog, isSettled, req, settle, setup } from './helpers.js';

/** Sets any location with a POST to /location, so located pools can initialise. */
class LocatingConfig extends LocationSessionConfig {
    override locationParams(request: Request, location: Location): InitRequest {
        return { url: new URL('/location', request.url).href, method: 'POST', form: location };
    }
}

async function poolIdOf(manager: SessionManager, url: string, userData: Record<string, unknown> = {}): Promise<string> {
    const lease = await manager.acquire(req(url, userData));
    if (!lease) throw new Error('no lease');
    manager.release(lease);
    return lease.poolId;
}

describe('hostOf', () => {
    it.each([
        ['http://127.0.0.1:8080/x', '127.0.0.1:8080'],
        ['https://a.example:443/', 'a.example'],
        ['http://a.example:80/p?q=1', 'a.example'],
        ['https://a.example:80/', 'a.example:80'],
        ['http://a.example:443/', 'a.example:443'],
        ['https://Shop.Example/Path', 'shop.example'],
        ['https://sub.shop.example/', 'sub.shop.example'],
        ['http://[::1]:3000/', '[::1]:3000'],
        ['http://localhost:3000/', 'localhost:3000'],
    ])('%s → %s', (url, host) => {
        expect(hostOf(url)).toBe(host);
    });
});

describe('pool ids', () => {
    it.each([
        ['http://127.0.0.1:8080/x', '127.0.0.1:8080'],
        ['https://a.example:443/', 'a.example'],
        ['https://shop.example/a?b=c', 'shop.example'],
        ['https://www.shop.example/', 'www.shop.example'],
    ])('the default pool of %s is %s', async (url, id) => {
        const { manager } = setup();
        expect(await poolIdOf(manager, url)).toBe(id);
        expect(manager.pools().map((pool) => pool.id)).toEqual([id]);
    });

    it('uses userData.sessionPool as the pool id, above every other control', async () => {
        const { manager, registry } = setup();
        registry.register(LocatingConfig, { include: '' });
        expect(
            await poolIdOf(manager, 'https://shop.example/a', {
                sessionPool: 'mine',
                sessionParams: { url: 'https://shop.example/p' },
                sessionLocation: { addressCountry: 'US' },
            }),
        ).toBe('mine');
        expect(await poolIdOf(manager, 'https://other.example/b', { sessionPool: 'mine' })).toBe('mine');
        expect(manager.pools().map((pool) => pool.id)).toEqual(['mine']);
    });

    it('numbers distinct sessionParams per host and logs each pairing once', async () => {
        const { log, lines } = captureLog();
        const { manager } = setup({}, { log });
        const a = { url: 'https://shop.example/init-a' };
        const b = { url: 'https://shop.example/init-b', method: 'POST', form: { x: '1' } };
        const ids = [
            await poolIdOf(manager, 'https://shop.example/1', { sessionParams: a }),
            await poolIdOf(manager, 'https://shop.example/2', { sessionParams: b }),
            await poolIdOf(manager, 'https://shop.example/3', { sessionParams: { ...a } }),
            // Key order does not make params distinct.
            await poolIdOf(manager, 'https://shop.example/4', {
                sessionParams: { form: { x: '1' }, method: 'POST', url: b.url },
            }),
            await poolIdOf(manager, 'http://127.0.0.1:8080/5', { sessionParams: a }),
            await poolIdOf(manager, 'http://127.0.0.1:8080/6', { sessionParams: {} }),
        ];
        expect(ids).toEqual([
            'shop.example[0]',
            'shop.example[1]',
            'shop.example[0]',
            'shop.example[1]',
            '127.0.0.1:8080[0]',
            '127.0.0.1:8080[1]',
        ]);
        expect(lines.map((line) => line.message).filter((message) => message.includes('serves requests'))).toEqual([
            'Pool shop.example[0] serves requests with userData.sessionParams GET https://shop.example/init-a.',
            'Pool shop.example[1] serves requests with userData.sessionParams POST https://shop.example/init-b.',
            'Pool 127.0.0.1:8080[0] serves requests with userData.sessionParams GET https://shop.example/init-a.',
            'Pool 127.0.0.1:8080[1] serves requests with userData.sessionParams GET http://127.0.0.1:8080/6.',
        ]);
    });

    it.each<[Location, string]>([
        [{ addressCountry: 'US', addressRegion: 'NY', postalCode: '10001' }, 'shop.example@US,NY,10001'],
        [{ postalCode: '10001', addressRegion: 'NY', addressCountry: 'US' }, 'shop.example@US,NY,10001'],
        [{ postalCode: '10001', addressCountry: 'US' }, 'shop.example@US,10001'],
        [{ streetAddress: '1 Main St', addressCountry: 'US', extra: 'ignored' }, 'shop.example@US,1 Main St'],
        [{ addressRegion: 'NY' }, 'shop.example@NY'],
    ])('a sessionLocation %j makes the pool %s', async (location, id) => {
        const { manager, registry } = setup();
        registry.register(LocatingConfig, { include: '' });
        expect(await poolIdOf(manager, 'https://shop.example/a', { sessionLocation: location })).toBe(id);
    });

    it('includes a non-default port in location and params pool ids', async () => {
        const { manager, registry } = setup();
        registry.register(LocatingConfig, { include: '' });
        expect(
            await poolIdOf(manager, 'http://127.0.0.1:8080/a', {
                sessionLocation: { addressCountry: 'US', postalCode: '10001' },
            }),
        ).toBe('127.0.0.1:8080@US,10001');
        expect(await poolIdOf(manager, 'http://127.0.0.1:8080/a', { sessionParams: { method: 'GET' } })).toBe(
            '127.0.0.1:8080[0]',
        );
    });

    it('orders location values by the config class ADDRESS_FIELDS', async () => {
        class ZipFirst extends LocatingConfig {
            static override ADDRESS_FIELDS = ['postalCode', 'addressCountry'];
        }
        const { manager, registry } = setup();
        registry.register(ZipFirst, { include: 'shop.example' });
        const location = { addressCountry: 'US', addressRegion: 'NY', postalCode: '10001' };
        expect(await poolIdOf(manager, 'https://shop.example/a', { sessionLocation: location })).toBe(
            'shop.example@10001,US',
        );
    });

    it('uses the id that pool() returns, as a string or in a PoolConfig', async () => {
        class ByPath extends SessionConfig {
            override pool(request: Request): string | PoolConfig {
                const path = new URL(request.url).pathname;
                return path.startsWith('/api') ? { id: 'api', size: 2 } : `pages-${hostOf(request.url)}`;
            }
        }
        const { manager, registry } = setup({ poolSize: 1 });
        registry.register(ByPath, { include: 'shop.example' });
        expect(await poolIdOf(manager, 'https://shop.example/api/items')).toBe('api');
        expect(await poolIdOf(manager, 'https://shop.example/home')).toBe('pages-shop.example');
        expect(await poolIdOf(manager, 'https://blog.example/')).toBe('blog.example');
        expect(manager.pools().map(({ id, size }) => ({ id, size }))).toEqual([
            { id: 'api', size: 2 },
            { id: 'pages-shop.example', size: 1 },
            { id: 'blog.example', size: 1 },
        ]);
    });
});

describe('pool options precedence: pools[id] > PoolConfig from pool() > global', () => {
    class Configured extends SessionConfig {
        override pool(request: Request): PoolConfig {
            return { id: new URL(request.url).pathname.slice(1), size: 2, delay: 4 };
        }
    }
    class Plain extends SessionConfig {}

    it('reports the winning size in pools()', async () => {
        const { manager, registry } = setup({ poolSize: 1, pools: { overridden: { size: 3 }, plain: { size: 5 } } });
        registry.register(Configured, { include: 'configured.example' });
        registry.register(Plain, { include: 'plain.example' });
        await poolIdOf(manager, 'https://configured.example/overridden');
        await poolIdOf(manager, 'https://configured.example/fromconfig');
        await poolIdOf(manager, 'https://plain.example/');
        await poolIdOf(manager, 'https://other.example/', { sessionPool: 'plain' });
        expect(manager.pools().map(({ id, size }) => ({ id, size }))).toEqual([
            { id: 'overridden', size: 3 },
            { id: 'fromconfig', size: 2 },
            { id: 'plain.example', size: 1 },
            { id: 'plain', size: 5 },
        ]);
    });

    // Size 1 everywhere, so the second request must wait for the one session's delay.
    it.each([
        ['pools[id].delay', 'https://configured.example/overridden', 2_000],
        ['PoolConfig.delay', 'https://configured.example/fromconfig', 4_000],
        ['global delay', 'https://plain.example/', 10_000],
    ])('%s decides the delay', async (_what, url, ms) => {
        const { manager, registry, clock } = setup({
            poolSize: 1,
            delay: 10,
            randomizeDelay: false,
            pools: { overridden: { delay: 2, size: 1 }, fromconfig: { size: 1 } },
        });
        registry.register(Configured, { include: 'configured.example' });
        const first = (await manager.acquire(req(url)))!;
        manager.release(first);
        const second = manager.acquire(req(url));
        await clock.advance(ms - 1);
        expect(await isSettled(second)).toBe(false);
        await clock.advance(1);
        expect((await second)?.session.id).toBe(first.session.id);
    });
});

describe('invalid userData controls fail that request only', () => {
    const cases: [string, Record<string, unknown>, string][] = [
        [
            'sessionPool',
            { sessionPool: '' },
            'Invalid request.userData.sessionPool for https://shop.example/bad: expected a non-empty pool id string, got "". Remove it to use the default pool.',
        ],
        [
            'sessionPool',
            { sessionPool: 7 },
            'Invalid request.userData.sessionPool for https://shop.example/bad: expected a non-empty pool id string, got 7. Remove it to use the default pool.',
        ],
        ...[
            'US',
            ['US'],
            { postalCode: 10001 },
            null,
            new (class Loc {
                addressCountry = 'US';
            })(),
        ].map((value): [string, Record<string, unknown>, string] => [
            'sessionLocation',
            { sessionLocation: value },
            'Invalid request.userData.sessionLocation for https://shop.example/bad: expected a plain object of strings such as { addressCountry: "US", postalCode: "10001" }.',
        ]),
        [
            'sessionParams',
            { sessionParams: { headers: { 'x-token': 1 } } },
            'Invalid request.userData.sessionParams for https://shop.example/bad: headers.x-token must be a string.',
        ],
        [
            'sessionParams',
            { sessionParams: { url: 'not a url' } },
            'Invalid request.userData.sessionParams for https://shop.example/bad: url must be an absolute http(s) URL.',
        ],
        [
            'sessionParams',
            { sessionParams: 'https://shop.example/init' },
            'Invalid request.userData.sessionParams for https://shop.example/bad: value must be an InitRequest object ({ url?, method?, headers?, body?, json?, form?, pageActions? }).',
        ],
        [
            'sessionEnabled',
            { sessionEnabled: 'yes' },
            'Invalid request.userData.sessionEnabled for https://shop.example/bad: expected a boolean, got string.',
        ],
    ];

    it.each(cases)('%s in %j', async (key, userData, message) => {
        const { manager, site, closes } = setup({ poolSize: 1 });
        const bad = manager.acquire(req('https://shop.example/bad', userData));
        await expect(bad).rejects.toThrow(SessionControlError);
        const error = (await bad.catch((e: unknown) => e)) as SessionControlError;
        expect(error.message).toBe(message);
        expect(error.key).toBe(key);
        expect(error.url).toBe('https://shop.example/bad');
        expect(error.code).toBe('ERR_SESSION_CONTROL');

        // Nothing was started for it, and the next request goes on.
        expect(site.calls).toHaveLength(0);
        expect(manager.pools()).toEqual([]);
        const good = await manager.acquire(req('https://shop.example/good'));
        expect(good?.poolId).toBe('shop.example');
        expect(manager.closeReason).toBeUndefined();
        expect(closes).toEqual([]);
        expect(manager.stats).toEqual({ 'sessions/init/check-passed': 1 });
    });
});

describe('pool() failures stop the crawl with pool_error', () => {
    it.each([
        [
            'throws',
            () => {
                throw new Error('no pool for you');
            },
            'Cannot choose a session pool for https://shop.example/a: Broken.pool() threw: no pool for you',
        ],
        [
            'returns an empty id',
            () => '',
            'Cannot choose a session pool for https://shop.example/a: Broken.pool() returned ""; return a non-empty pool id or { id, size?, delay? }.',
        ],
        [
            'returns a PoolConfig without id',
            () => ({ size: 2 }),
            'Cannot choose a session pool for https://shop.example/a: Broken.pool() returned {"size":2}; return a non-empty pool id or { id, size?, delay? }.',
        ],
    ])('when pool() %s', async (_what, pool, message) => {
        class Broken extends SessionConfig {
            override pool(): string | PoolConfig {
                return pool() as string | PoolConfig;
            }
        }
        const { manager, registry, closes, site } = setup();
        registry.register(Broken, { include: 'shop.example' });
        const error = await manager.acquire(req('https://shop.example/a')).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PoolError);
        expect((error as PoolError).message).toBe(message);
        expect(manager.closeReason).toBe('pool_error');
        expect(closes.map((close) => close.reason)).toEqual(['pool_error']);
        expect(closes[0]?.error).toBe(error);
        expect(manager.closed).toBe(true);
        expect(site.calls).toHaveLength(0);

        // Later requests find the sessions closed, and onClose is not called again.
        await expect(manager.acquire(req('https://shop.example/b'))).rejects.toThrow(
            'Sessions are closed (pool_error)',
        );
        expect(closes).toHaveLength(1);
    });
});

describe('lease pool and session ids', () => {
    it('the lease carries the pool id and a session of that pool', async () => {
        const { manager, site } = setup({ poolSize: 1 });
        const lease: SessionLease = (await manager.acquire(req('http://127.0.0.1:8080/x')))!;
        await settle();
        expect(lease.poolId).toBe('127.0.0.1:8080');
        expect(site.sessionIds).toEqual([lease.session.id]);
    });
});
