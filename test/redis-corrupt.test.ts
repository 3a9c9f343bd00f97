import { CheerioCrawler } from '@crawlee/cheerio';
import { TooManyBadSessionInitsError } from '@managed-sessions/core';
import { attachManagedSessions } from '@managed-sessions/crawlee';
import { RedisSessionStore } from '@managed-sessions/redis';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { captureLog, testConfig } from './support/crawlee.js';
import { type RedisServer, redisAvailable, startRedis } from './support/redis.js';
import { FakeSite, ok, type Process, startProcess, uniquePrefix, until } from './support/redis-harness.js';
import { type SessionSite, startSessionSite } from './support/redis-site.js';

const URL = 'https://shop.example/page';
const POOL = 'shop.example';
const SECRET = 'SECRET-COOKIE-VALUE';

/** Where the store keeps a pool (see packages/redis/src/keys.ts). */
function keysOf(prefix: string, pool = POOL) {
    const base = `${prefix}:{${pool}}:`;
    return {
        ready: `${base}ready`,
        claims: `${base}claims`,
        leases: `${base}leases`,
        owners: `${base}owners`,
        meta: `${base}meta`,
        closed: `${base}closed`,
        session: (id: string) => `${base}s:${id}`,
    };
}

type Problem =
    | 'session-state'
    | 'session-fields'
    | 'session-type'
    | 'session-missing'
    | 'pool-key-type'
    | 'pool-counter'
    | 'closed-flag'
    | 'endless-slot';

const WHAT: Record<Problem, [what: string, after: string]> = {
    'session-state': [
        'a session whose cookies or userData cannot be read',
        'the pool initialises new sessions as it needs them',
    ],
    'session-fields': [
        'a session with missing or non-integer counters',
        'the pool initialises new sessions as it needs them',
    ],
    'session-type': ['a session key of the wrong Redis type', 'the pool initialises new sessions as it needs them'],
    'session-missing': [
        'a session id whose session hash is gone',
        'the pool initialises new sessions as it needs them',
    ],
    'pool-key-type': [
        'a pool key of the wrong Redis type',
        'what it held is lost, and the pool initialises new sessions as it needs them',
    ],
    'pool-counter': ['a non-integer pool counter', 'the counter starts again from 0'],
    'closed-flag': ['an unreadable stop flag', 'the pool goes on'],
    'endless-slot': ['an init slot or lease that would never expire', 'the pool can use it again'],
};

/** The one warning a pool logs for the first problem of a kind. */
function warning(problem: Problem, key: string, pool = POOL): string {
    const [what, after] = WHAT[problem];
    return (
        `Pool ${pool}: dropped ${what} from the session store (key ${key}); ${after}. ` +
        'Something other than this version of managed-sessions wrote under this prefix. ' +
        'Further problems of this kind in this pool are fixed without a warning.'
    );
}

describe.skipIf(!redisAvailable())('RedisSessionStore: corrupt keys never break a pool', { timeout: 8_000 }, () => {
    let redis: RedisServer;
    let raw: Redis;
    const processes: Process[] = [];

    beforeAll(async () => {
        redis = await startRedis();
        raw = redis.client;
    });
    afterAll(async () => {
        await redis?.stop();
    });
    afterEach(async () => {
        await Promise.all(processes.splice(0).map((p) => p.stop()));
    });

    function start(name: string, site: FakeSite, prefix: string, options = {}) {
        const { log, lines } = captureLog();
        const p = startProcess(name, site, { url: redis.url, prefix }, options, log);
        processes.push(p);
        const warnings = () => lines.filter((line) => line.includes('session store'));
        return { p, lines, warnings };
    }

    /** A pool of `size` sessions made by an engine that then stops; returns their ids in init order. */
    async function seed(site: FakeSite, prefix: string, size: number): Promise<string[]> {
        const { p } = start('Seed', site, prefix, { poolSize: size });
        const leases = await Promise.all(Array.from({ length: size }, (_, i) => p.lease(`${URL}/seed${i}`)));
        for (const lease of leases) lease.session.setCookie(`secret=${SECRET}; Path=/`, URL);
        await p.stop();
        processes.splice(processes.indexOf(p), 1);
        return site.inits.map((call) => call.sessionId);
    }

    /** `count` attempts one after another, each released before the next; the session ids served. */
    async function useSequentially(p: Process, count: number): Promise<string[]> {
        const ids: string[] = [];
        for (let i = 0; i < count; i++) {
            const lease = await p.lease(`${URL}/use${i}`);
            ids.push(lease.session.id);
            p.manager.release(lease);
        }
        return ids;
    }

    const sessionCases: {
        name: string;
        problem: Problem;
        corrupt: (keys: ReturnType<typeof keysOf>, id: string) => Promise<unknown>;
    }[] = [
        {
            name: 'cookie jar JSON that does not parse',
            problem: 'session-state',
            corrupt: (k, id) => raw.hset(k.session(id), 'state', `{"cookieJar":{"cookies":[{"value":"${SECRET}"`),
        },
        {
            name: 'a cookie jar that is not a jar',
            problem: 'session-state',
            corrupt: (k, id) =>
                raw.hset(k.session(id), 'state', JSON.stringify({ userData: {}, cookieJar: { cookies: SECRET } })),
        },
        {
            name: 'state that is a JSON array',
            problem: 'session-state',
            corrupt: (k, id) => raw.hset(k.session(id), 'state', '[1,2]'),
        },
        {
            name: 'userData that is not an object',
            problem: 'session-state',
            corrupt: (k, id) => raw.hset(k.session(id), 'state', JSON.stringify({ userData: 'x' })),
        },
        {
            name: 'a non-integer use counter',
            problem: 'session-fields',
            corrupt: (k, id) => raw.hset(k.session(id), 'uses', 'many'),
        },
        {
            name: 'a counter too large for HINCRBY',
            problem: 'session-fields',
            corrupt: (k, id) => raw.hset(k.session(id), 'errors', '99999999999999999999999'),
        },
        {
            name: 'a missing version field',
            problem: 'session-fields',
            corrupt: (k, id) => raw.hdel(k.session(id), 'version'),
        },
        {
            name: 'a missing state field',
            problem: 'session-fields',
            corrupt: (k, id) => raw.hdel(k.session(id), 'state'),
        },
        {
            name: 'a non-integer rotation order',
            problem: 'session-fields',
            corrupt: (k, id) => raw.hset(k.session(id), 'seq', 'first'),
        },
        {
            name: 'a session key of the wrong type (WRONGTYPE)',
            problem: 'session-type',
            corrupt: async (k, id) => {
                await raw.del(k.session(id));
                await raw.rpush(k.session(id), SECRET);
            },
        },
        {
            name: 'a session hash that vanished',
            problem: 'session-missing',
            corrupt: (k, id) => raw.del(k.session(id)),
        },
    ];

    for (const { name, problem, corrupt } of sessionCases) {
        it(`${name}: the session is dropped once, replaced by one init, and one warning names the key`, async () => {
            const site = new FakeSite();
            const prefix = uniquePrefix('corrupt');
            const [first, second] = await seed(site, prefix, 2);
            const keys = keysOf(prefix);
            await corrupt(keys, first!);

            const { p, lines, warnings } = start('B', site, prefix, { poolSize: 2 });
            const served = await useSequentially(p, 6);
            expect(site.inits).toHaveLength(3);
            const replacement = site.inits[2]!.sessionId;
            expect(new Set(served)).toEqual(new Set([second, replacement]));
            expect(p.manager.stats).toEqual({ 'sessions/init/check-passed': 1 });
            expect(warnings()).toEqual([warning(problem, keys.session(first!))]);
            expect(lines.join('\n')).not.toContain(SECRET);
            // Gone from the store, membership and hash alike; the pool holds its two good sessions.
            expect(await raw.zrange(keys.ready, 0, -1)).toEqual(expect.not.arrayContaining([first]));
            expect(await raw.zcard(keys.ready)).toBe(2);
            expect(await raw.exists(keys.session(first!))).toBe(0);
        });
    }

    it('a membership entry pointing at no session is dropped; the full pool needs no init', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('ghost');
        const ids = await seed(site, prefix, 2);
        const keys = keysOf(prefix);
        // Earliest score: the ghost is the first one a take picks.
        await raw.zadd(keys.ready, 0, 'ghost');

        const { p, warnings } = start('B', site, prefix, { poolSize: 2 });
        const served = await useSequentially(p, 4);
        expect(new Set(served)).toEqual(new Set(ids));
        expect(site.inits).toHaveLength(2);
        expect(p.manager.stats).toEqual({});
        expect(warnings()).toEqual([warning('session-missing', keys.session('ghost'))]);
        expect((await raw.zrange(keys.ready, 0, -1)).sort()).toEqual([...ids].sort());
    });

    it('two corrupt sessions of one kind give one warning per pool; another pool warns for itself', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('once');
        const ids = await seed(site, prefix, 2);
        const keys = keysOf(prefix);
        for (const id of ids) await raw.hset(keys.session(id), 'state', '{oops');

        const { p, warnings } = start('B', site, prefix, { poolSize: 2 });
        const served = await useSequentially(p, 4);
        expect(site.inits).toHaveLength(4);
        expect(served.some((id) => ids.includes(id))).toBe(false);
        expect(p.manager.stats).toEqual({ 'sessions/init/check-passed': 2 });
        expect(warnings()).toHaveLength(1);
        expect(warnings()[0]).toMatch(
            /^Pool shop\.example: dropped a session whose cookies or userData cannot be read/,
        );

        // The same kind in another pool of the same engine: its own warning.
        const other = keysOf(prefix, 'other.example');
        const lease = await p.lease('https://other.example/');
        p.manager.release(lease);
        await until(async () => (await raw.hget(other.session(lease.session.id), 'version')) !== null);
        await raw.hset(other.session(lease.session.id), 'state', '{oops');
        const { p: c, warnings: warningsC } = start('C', site, prefix, { poolSize: 1 });
        c.manager.release(await c.lease('https://other.example/'));
        expect(warningsC()).toEqual([warning('session-state', other.session(lease.session.id), 'other.example')]);
    });

    it('a pool key of the wrong type (ready is a string): dropped, and the pool fills again', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('readytype');
        const ids = await seed(site, prefix, 2);
        const keys = keysOf(prefix);
        await raw.del(keys.ready);
        await raw.set(keys.ready, SECRET);

        const { p, lines, warnings } = start('B', site, prefix, { poolSize: 2 });
        const served = await useSequentially(p, 4);
        expect(site.inits).toHaveLength(4);
        expect(served.some((id) => ids.includes(id))).toBe(false);
        expect(p.manager.stats).toEqual({ 'sessions/init/check-passed': 2 });
        expect(warnings()).toEqual([warning('pool-key-type', keys.ready)]);
        expect(lines.join('\n')).not.toContain(SECRET);
        expect(await raw.type(keys.ready)).toBe('zset');
    });

    const poolCases: {
        name: string;
        problem: Problem;
        key: keyof ReturnType<typeof keysOf>;
        corrupt: (k: ReturnType<typeof keysOf>) => Promise<unknown>;
    }[] = [
        { name: 'meta is a list', problem: 'pool-key-type', key: 'meta', corrupt: (k) => raw.rpush(k.meta, 'x') },
        {
            name: 'claims is a hash',
            problem: 'pool-key-type',
            key: 'claims',
            corrupt: (k) => raw.hset(k.claims, 'a', 'b'),
        },
        { name: 'leases is a string', problem: 'pool-key-type', key: 'leases', corrupt: (k) => raw.set(k.leases, 'x') },
        { name: 'owners is a set', problem: 'pool-key-type', key: 'owners', corrupt: (k) => raw.sadd(k.owners, 'x') },
        {
            name: 'closed is a hash',
            problem: 'pool-key-type',
            key: 'closed',
            corrupt: (k) => raw.hset(k.closed, 'r', 'x'),
        },
        {
            name: 'the stop flag is not JSON',
            problem: 'closed-flag',
            key: 'closed',
            corrupt: (k) => raw.set(k.closed, 'stopped!', 'PX', 60_000),
        },
        {
            name: 'the stop flag is JSON without a reason',
            problem: 'closed-flag',
            key: 'closed',
            corrupt: (k) => raw.set(k.closed, '{"n":"x"}', 'PX', 60_000),
        },
        {
            name: 'the rotation counter is not an integer',
            problem: 'pool-counter',
            key: 'meta',
            corrupt: (k) => raw.hset(k.meta, 'seq', 'x'),
        },
    ];

    for (const { name, problem, key, corrupt } of poolCases) {
        it(`${name}: fixed with one warning, and the pool's sessions go on serving without an init`, async () => {
            const site = new FakeSite();
            const prefix = uniquePrefix('poolkey');
            const ids = await seed(site, prefix, 2);
            const keys = keysOf(prefix);
            if (key !== 'session') await raw.del(keys[key]);
            await corrupt(keys);

            const { p, warnings } = start('B', site, prefix, { poolSize: 2 });
            const served = await useSequentially(p, 4);
            expect(new Set(served)).toEqual(new Set(ids));
            expect(site.inits).toHaveLength(2);
            expect(p.manager.closeReason).toBeUndefined();
            expect(warnings()).toEqual([warning(problem, keys[key] as string)]);
        });
    }

    it('an init slot scored to never expire is dropped: the pool fills to its size', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('endless');
        const keys = keysOf(prefix);
        await raw.zadd(keys.claims, '+inf', 'forever');
        const { p, warnings } = start('B', site, prefix, { poolSize: 1 });
        const lease = await p.lease(URL);
        expect(site.inits).toHaveLength(1);
        expect(lease.session.id).toBe(site.inits[0]!.sessionId);
        expect(warnings()).toEqual([warning('endless-slot', keys.claims)]);
    });

    it('an exclusive lease scored to never expire is dropped: the session serves again', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('endlesslease');
        const [id] = await seed(site, prefix, 1);
        const keys = keysOf(prefix);
        await raw.zadd(keys.leases, 1e15, id!);
        await raw.hset(keys.owners, id!, 'a-process-long-gone');
        const { p, warnings } = start('B', site, prefix, { poolSize: 1, exclusive: true });
        const lease = await p.lease(URL);
        expect(lease.session.id).toBe(id);
        expect(site.inits).toHaveLength(1);
        expect(warnings()).toEqual([warning('endless-slot', keys.leases)]);
    });

    it('a non-numeric bad-init counter restarts from 0: maxBadInits still stops the crawl after exactly that many', async () => {
        const site = new FakeSite();
        site.respond = (call) => ok(call.url, 403);
        const prefix = uniquePrefix('badinits');
        const keys = keysOf(prefix);
        await raw.hset(keys.meta, 'badInits', 'lots');

        const { p, warnings } = start('B', site, prefix, { poolSize: 1, maxBadInits: 3 });
        await expect(p.lease(URL)).rejects.toBeInstanceOf(TooManyBadSessionInitsError);
        expect(site.inits).toHaveLength(3);
        expect(p.manager.stats).toEqual({ 'sessions/init/check-failed': 3 });
        expect(p.manager.closeReason).toBe('bad_session_inits');
        expect(warnings()).toEqual([warning('pool-counter', keys.meta)]);
    });

    it('a counter corrupted while the session is in use: the failure count drops it and one init replaces it', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('failcount');
        const keys = keysOf(prefix);
        const { p, warnings } = start('B', site, prefix, { poolSize: 1, maxErrors: 2 });
        const lease = await p.lease(URL);
        await raw.hset(keys.session(lease.session.id), 'errors', 'x');
        // Below maxErrors here, so the store counts the error: it meets the bad counter.
        p.manager.downloadError(lease, 'status 520');
        p.manager.release(lease);
        await until(() => site.inits.length === 2, 5_000, 'the replacement init');
        const next = await p.lease(URL);
        expect(next.session.id).not.toBe(lease.session.id);
        expect(next.session.id).toBe(site.inits[1]!.sessionId);
        expect(site.inits).toHaveLength(2);
        expect(warnings()).toEqual([warning('session-fields', keys.session(lease.session.id))]);
    });

    it('a version corrupted while the session is in use: the release drops it, and the next use inits a new one', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('release');
        const keys = keysOf(prefix);
        const { p, lines, warnings } = start('B', site, prefix, { poolSize: 1 });
        const lease = await p.lease(URL);
        await raw.hset(keys.session(lease.session.id), 'version', 'v2');
        lease.session.setCookie(`secret=${SECRET}; Path=/`, URL);
        p.manager.release(lease);
        await until(async () => (await raw.exists(keys.session(lease.session.id))) === 0, 5_000, 'the drop');
        const next = await p.lease(URL);
        expect(next.session.id).not.toBe(lease.session.id);
        expect(site.inits).toHaveLength(2);
        expect(warnings()).toEqual([warning('session-fields', keys.session(lease.session.id))]);
        expect(lines.join('\n')).not.toContain(SECRET);
    });
});

describe.skipIf(!redisAvailable())('RedisSessionStore: a real crawl over corrupt keys', { timeout: 30_000 }, () => {
    let redis: RedisServer;
    let site: SessionSite;

    beforeAll(async () => {
        redis = await startRedis();
        site = await startSessionSite({ pageMs: 5 });
    });
    afterAll(async () => {
        await site?.close();
        await redis?.stop();
    });

    async function crawl(prefix: string, paths: string[], options: { exclusive?: boolean } = {}) {
        const { log, lines } = captureLog();
        const handled: string[] = [];
        const crawler = new CheerioCrawler(
            {
                log,
                maxConcurrency: 2,
                maxRequestRetries: 2,
                requestHandler: ({ $ }) => void handled.push($('#sid').text()),
            },
            testConfig(),
        );
        const sessions = attachManagedSessions(crawler, {
            poolSize: 2,
            statusIntervalSecs: 0,
            persistState: { enabled: false },
            store: new RedisSessionStore({ url: redis.url, prefix }),
            ...options,
        });
        await crawler.run(paths.map((path) => `${site.url}${path}`));
        return { stats: sessions.stats, closeReason: sessions.closeReason, handled, lines };
    }

    it('a jar that is not a jar, a vanished member and a non-numeric bad-init counter: the next crawl recovers', async () => {
        const prefix = uniquePrefix('crawl');
        const first = await crawl(prefix, ['/a/0', '/a/1', '/a/2', '/a/3']);
        expect(first.stats['sessions/init/check-passed']).toBe(2);
        expect(site.record.inits).toBe(2);

        const host = new globalThis.URL(site.url).host;
        const keys = keysOf(prefix, host);
        const ids = await redis.client.zrange(keys.ready, 0, -1);
        expect(ids).toHaveLength(2);
        const states = await Promise.all(ids.map((id) => redis.client.hget(keys.session(id), 'state')));
        const broken = ids[states.findIndex((state) => state!.includes('"value":"s1"'))]!;
        const kept = ids.find((id) => id !== broken)!;
        await redis.client.hset(
            keys.session(broken),
            'state',
            JSON.stringify({ userData: {}, cookieJar: { cookies: `sid=s1; secret=${SECRET}` } }),
        );
        await redis.client.zadd(keys.ready, 0, 'ghost');
        await redis.client.hset(keys.meta, 'badInits', `${SECRET}`);

        const second = await crawl(prefix, ['/b/0', '/b/1', '/b/2', '/b/3', '/b/4', '/b/5']);
        expect(second.closeReason).toBeUndefined();
        expect(second.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 6 });
        expect(second.handled).toHaveLength(6);
        // One replacement: the site issued s3, and crawl two used only s2 (kept) and s3.
        expect(site.record.inits).toBe(3);
        expect(new Set(second.handled)).toEqual(new Set(['s2', 's3']));
        expect(second.lines.filter((line) => line.includes('from the session store')).sort()).toEqual(
            [
                warning('session-state', keys.session(broken), host),
                warning('session-missing', keys.session('ghost'), host),
                warning('pool-counter', keys.meta, host),
            ].sort(),
        );
        expect(second.lines.join('\n')).not.toContain(SECRET);
        expect(await redis.client.zrange(keys.ready, 0, -1)).toEqual(expect.arrayContaining([kept]));
        expect(await redis.client.zcard(keys.ready)).toBe(2);
        expect(await redis.client.exists(keys.session(broken))).toBe(0);
    });

    it('a saved proxy URL that is not a URL: that attempt fails with a download error, its lease goes back, and the retry gets another session', async () => {
        const prefix = uniquePrefix('proxyurl');
        const initsBefore = site.record.inits;
        const first = await crawl(prefix, ['/c/0', '/c/1'], { exclusive: true });
        expect(first.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-passed': 2 });

        const host = new globalThis.URL(site.url).host;
        const keys = keysOf(prefix, host);
        const ids = await redis.client.zrange(keys.ready, 0, -1);
        expect(ids).toHaveLength(2);
        const states = await Promise.all(ids.map((id) => redis.client.hget(keys.session(id), 'state')));
        const sidOf = (index: number) => /"value":"(s\d+)"/.exec(states[index]!)![1]!;
        const [broken, kept] = ids;
        // Unparseable, and holding what looks like a password: it must not reach the log.
        await redis.client.hset(keys.session(broken!), 'proxyUrl', `http://user:${SECRET}@[not-a-host:8000`);

        // Exclusive, concurrency 2: the first two requests take one session each, so the broken one is used.
        const second = await crawl(prefix, ['/d/0', '/d/1', '/d/2', '/d/3'], { exclusive: true });
        expect(second.closeReason).toBeUndefined();
        // The broken session's attempt counts one download error (maxErrors 1: discarded, one replacement);
        // Crawlee retries that request on another session, so all 4 pages are handled and checked.
        expect(second.stats).toEqual({
            'sessions/use/failed': 1,
            'sessions/init/check-passed': 1,
            'sessions/use/check-passed': 4,
        });
        expect(second.handled).toHaveLength(4);
        expect(site.record.inits).toBe(initsBefore + 3);
        const replacement = `s${initsBefore + 3}`;
        expect(new Set(second.handled)).toEqual(new Set([sidOf(ids.indexOf(kept!)), replacement]));
        expect(second.lines.join('\n')).not.toContain(SECRET);
        // Every lease went back: none left in the store, and the broken session is gone.
        expect(await redis.client.zcard(keys.leases)).toBe(0);
        expect(await redis.client.hlen(keys.owners)).toBe(0);
        expect(await redis.client.exists(keys.session(broken!))).toBe(0);
        expect(await redis.client.zcard(keys.ready)).toBe(2);

        // A third crawl (exclusive, 2 at once) gets both sessions at once: no lease of this process lingers.
        const third = await crawl(prefix, ['/e/0', '/e/1'], { exclusive: true });
        expect(third.stats).toEqual({ 'sessions/use/check-passed': 2 });
        expect(new Set(third.handled)).toEqual(new Set([sidOf(ids.indexOf(kept!)), replacement]));
        expect(site.record.inits).toBe(initsBefore + 3);
    });
});
