import {
    ManagedSessionsOptionsError,
    SessionCheckFailedError,
    TooManyBadSessionInitsError,
} from '@managed-sessions/core';
import { SessionManager } from '@managed-sessions/core/internal';
import { RedisSessionStore } from '@managed-sessions/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allKeys, type RedisServer, redisAvailable, startRedis } from './support/redis.js';
import {
    FakeSite,
    ok,
    type Process,
    settlesWithin,
    silentLog,
    startProcess,
    uniquePrefix,
    until,
} from './support/redis-harness.js';

const URL = 'https://shop.example/page';
const POOL = 'shop.example';

describe.skipIf(!redisAvailable())('RedisSessionStore: two engines sharing pools', () => {
    let redis: RedisServer;
    const processes: Process[] = [];

    beforeAll(async () => {
        redis = await startRedis();
    });
    afterAll(async () => {
        await redis?.stop();
    });
    afterEach(async () => {
        await Promise.all(processes.splice(0).map((p) => p.stop()));
    });

    function start(name: string, site: FakeSite, prefix: string, options = {}, leaseSecs?: number): Process {
        const store = { url: redis.url, prefix, ...(leaseSecs !== undefined ? { leaseSecs } : {}) };
        const p = startProcess(name, site, store, options);
        processes.push(p);
        return p;
    }

    it('the pool size holds across engines: 2 slots, 6 requests from two engines, 2 inits in all', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('size');
        const a = start('A', site, prefix, { poolSize: 2 });
        const b = start('B', site, prefix, { poolSize: 2 });
        const leases = await Promise.all([1, 2, 3].flatMap((i) => [a.lease(`${URL}/a${i}`), b.lease(`${URL}/b${i}`)]));
        expect(site.inits).toHaveLength(2);
        const ids = new Set(leases.map((lease) => lease.session.id));
        expect(ids).toEqual(new Set(site.inits.map((call) => call.sessionId)));
        // The engines that did not init a session use the other's: both see the same two.
        const seenByB = new Set(leases.filter((l) => l.request.url.includes('/b')).map((l) => l.session.id));
        expect([...seenByB].every((id) => ids.has(id))).toBe(true);
        expect(a.manager.stats['sessions/init/check-passed'] ?? 0).toBe(site.initsBy().A ?? 0);
        expect(b.manager.stats['sessions/init/check-passed'] ?? 0).toBe(site.initsBy().B ?? 0);
        expect(a.manager.pools()).toMatchObject([{ id: POOL, size: 2, ready: 2 }]);
    });

    it('delay holds across engines: a session used by A is handed to B no sooner than `delay` later', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('delay');
        const options = { poolSize: 1, delay: 10, randomizeDelay: false };
        const a = start('A', site, prefix, options);
        const b = start('B', site, prefix, options);
        const first = await a.lease(URL);
        a.manager.release(first);

        const second = b.lease(URL);
        await b.clock.advance(9_999);
        expect(await settlesWithin(second, 200)).toBe(false);
        await b.clock.advance(1);
        const lease = await second;
        expect(lease.session.id).toBe(first.session.id);
        expect(site.inits).toHaveLength(1);

        // And back: A, whose clock is at the start, waits for B's use plus the delay.
        const third = a.lease(URL);
        await a.clock.advance(19_999);
        expect(await settlesWithin(third, 200)).toBe(false);
        await a.clock.advance(1);
        expect((await third).session.id).toBe(first.session.id);
    });

    it('exclusive: a session serves one engine at a time; a release wakes the other at once (pub/sub)', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('exclusive');
        const a = start('A', site, prefix, { poolSize: 1, exclusive: true });
        const b = start('B', site, prefix, { poolSize: 1, exclusive: true });
        const held = await a.lease(URL);
        const waiting = b.lease(URL);
        expect(await settlesWithin(waiting, 300)).toBe(false);
        // No clock moves: only the `released` notice can wake B.
        a.manager.release(held);
        const lease = await waiting;
        expect(lease.session.id).toBe(held.session.id);
        expect(site.inits).toHaveLength(1);
        // Now A waits for B.
        const again = a.lease(URL);
        expect(await settlesWithin(again, 300)).toBe(false);
        b.manager.release(lease);
        expect((await again).session.id).toBe(held.session.id);
    });

    it('exclusive: the lease of an engine that stopped renewing it (crashed) expires after leaseSecs', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('lease');
        const a = start('A', site, prefix, { poolSize: 1, exclusive: true }, 2);
        const b = start('B', site, prefix, { poolSize: 1, exclusive: true }, 2);
        // A takes the session and never releases it; its clock never moves, so it never renews the lease.
        const held = await a.lease(URL);
        const waiting = b.lease(URL);
        await b.clock.advance(1_999);
        expect(await settlesWithin(waiting, 300)).toBe(false);
        await b.clock.advance(1);
        const lease = await waiting;
        expect(lease.session.id).toBe(held.session.id);
        expect(site.inits).toHaveLength(1);
    });

    it('exclusive: a live engine renews its leases, so a long attempt keeps its session', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('renew');
        const a = start('A', site, prefix, { poolSize: 1, exclusive: true }, 2);
        const b = start('B', site, prefix, { poolSize: 1, exclusive: true }, 2);
        const held = await a.lease(URL);
        const waiting = b.lease(URL);
        // Both clocks move together for 6 s (three lease times): A renews every 2/3 s.
        for (let t = 0; t < 30; t++) {
            await a.clock.advance(200);
            await new Promise((resolve) => setTimeout(resolve, 5));
            await b.clock.advance(200);
        }
        expect(await settlesWithin(waiting, 200)).toBe(false);
        a.manager.release(held);
        expect((await waiting).session.id).toBe(held.session.id);
    });

    it('a session discarded by both engines at once is replaced once, and neither hands it out again', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('discard');
        const a = start('A', site, prefix, { poolSize: 2 });
        const b = start('B', site, prefix, { poolSize: 2 });
        const [a1, a2] = await Promise.all([a.lease(`${URL}/1`), a.lease(`${URL}/2`)]);
        expect(site.inits).toHaveLength(2);
        // B gets one of the two sessions; both engines then fail a check on it.
        const onB = await b.lease(`${URL}/3`);
        const onA = [a1!, a2!].find((lease) => lease.session.id === onB.session.id)!;
        const doomed = onB.session.id;
        const failures = await Promise.allSettled([
            a.manager.check(onA, ok(URL, 403)),
            b.manager.check(onB, ok(URL, 403)),
        ]);
        expect(failures.map((f) => f.status === 'rejected' && f.reason instanceof SessionCheckFailedError)).toEqual([
            true,
            true,
        ]);
        a.manager.release(a1!);
        a.manager.release(a2!);
        b.manager.release(onB);
        await until(() => site.inits.length === 3, 5_000, 'the replacement init');
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(site.inits).toHaveLength(3);

        const later = await Promise.all(
            [1, 2, 3, 4].flatMap((i) => [a.lease(`${URL}/a${i}`), b.lease(`${URL}/b${i}`)]),
        );
        expect(later.map((lease) => lease.session.id)).not.toContain(doomed);
        expect(new Set(later.map((lease) => lease.session.id)).size).toBe(2);
        expect(site.inits).toHaveLength(3);
        expect(a.manager.stats['sessions/use/check-failed']).toBe(1);
        expect(b.manager.stats['sessions/use/check-failed']).toBe(1);
    });

    it('a discard in one engine is seen by the other: its next acquire never returns that session', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('seen');
        const a = start('A', site, prefix, { poolSize: 1 });
        const b = start('B', site, prefix, { poolSize: 1 });
        const first = await a.lease(URL);
        const onB = await b.lease(URL);
        expect(onB.session.id).toBe(first.session.id);
        b.manager.release(onB);
        await expect(a.manager.check(first, ok(URL, 403))).rejects.toBeInstanceOf(SessionCheckFailedError);
        a.manager.release(first);
        const next = await b.lease(URL);
        expect(next.session.id).not.toBe(first.session.id);
        expect(site.inits).toHaveLength(2);
    });

    it('download errors count across engines: maxErrors 2 reached by one error in each', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('errors');
        const a = start('A', site, prefix, { poolSize: 1, maxErrors: 2 });
        const b = start('B', site, prefix, { poolSize: 1, maxErrors: 2 });
        const onA = await a.lease(URL);
        const onB = await b.lease(URL);
        a.manager.downloadError(onA, 'status 520');
        a.manager.release(onA);
        await new Promise((resolve) => setTimeout(resolve, 100));
        b.manager.downloadError(onB, 'status 520');
        b.manager.release(onB);
        await until(() => site.inits.length === 2, 5_000, 'the replacement init');
        const next = await a.lease(URL);
        expect(next.session.id).not.toBe(onA.session.id);
    });

    it('consecutive bad inits count across engines, and every engine stops with bad_session_inits', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('badinits');
        const pending: { call: { by: string }; answer: (status: number) => void }[] = [];
        site.respond = (call) =>
            new Promise((resolve) => pending.push({ call, answer: (status) => resolve(ok(call.url, status)) }));
        const a = start('A', site, prefix, { poolSize: 2, maxBadInits: 3 });
        const b = start('B', site, prefix, { poolSize: 2, maxBadInits: 3 });
        const onA = a.lease(URL).catch((error: unknown) => error);
        await until(() => pending.length === 1, 5_000, "A's init");
        const onB = b.lease(URL).catch((error: unknown) => error);
        await until(() => pending.length === 2, 5_000, "B's init");
        // A fails (1), then B fails (2): each engine alone is below 3.
        pending.shift()!.answer(403);
        await until(() => pending.length === 2, 5_000, "A's second init");
        pending.shift()!.answer(403);
        await until(() => pending.length === 2, 5_000, "B's second init");
        expect(a.closes).toEqual([]);
        // The third consecutive failure (A's second init) stops both.
        pending.shift()!.answer(403);
        const [errorA, errorB] = await Promise.all([onA, onB]);
        expect(errorA).toBeInstanceOf(TooManyBadSessionInitsError);
        expect(errorB).toBeInstanceOf(TooManyBadSessionInitsError);
        expect((errorB as Error).message).toBe(
            'Pool shop.example had 3 consecutive failed session inits; stopping the crawl (bad_session_inits). ' +
                'Check the init request and check() against the site, or raise maxBadInits for this pool.',
        );
        await until(() => b.closes.length === 1, 5_000, "B's stop");
        expect({ a: a.closes, b: b.closes }).toEqual({ a: ['bad_session_inits'], b: ['bad_session_inits'] });
        expect(a.manager.closeReason).toBe('bad_session_inits');
        expect(b.manager.closeReason).toBe('bad_session_inits');
        // Each engine counts its own events only.
        expect(a.manager.stats).toEqual({ 'sessions/init/check-failed': 2 });
        expect(b.manager.stats).toEqual({ 'sessions/init/check-failed': 1 });
        // B's pending init was cancelled by the stop.
        pending.shift()?.answer(200);
    });

    it('an engine that starts while the pool is stopped stops at its first request', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('late');
        site.respond = (call) => ok(call.url, 403);
        const a = start('A', site, prefix, { poolSize: 1, maxBadInits: 2 });
        await expect(a.lease(URL)).rejects.toBeInstanceOf(TooManyBadSessionInitsError);
        const late = start('Late', site, prefix, { poolSize: 1, maxBadInits: 2 });
        await expect(late.lease(URL)).rejects.toBeInstanceOf(TooManyBadSessionInitsError);
        expect(late.closes).toEqual(['bad_session_inits']);
        expect(site.initsBy()).toEqual({ A: 2 });
    });

    it("cookie and userData changes made in one engine reach the other's next use", async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('cookies');
        const a = start('A', site, prefix, { poolSize: 1 });
        const b = start('B', site, prefix, { poolSize: 1 });
        const onA = await a.lease(URL);
        onA.session.setCookie('cart=3; Path=/', URL);
        onA.session.userData.step = 'checkout';
        a.manager.release(onA);
        await new Promise((resolve) => setTimeout(resolve, 100));

        const onB = await b.lease(URL);
        expect(onB.session.id).toBe(onA.session.id);
        expect(onB.session.getCookieString(URL)).toBe(`sid=${onA.session.id}; cart=3`);
        expect(onB.session.userData).toEqual({ step: 'checkout' });
        onB.session.setCookie('cart=4; Path=/', URL);
        b.manager.release(onB);
        await new Promise((resolve) => setTimeout(resolve, 100));

        const again = await a.lease(URL);
        expect(again.session.getCookieString(URL)).toBe(`sid=${onA.session.id}; cart=4`);
        // Refreshed in place: what the adapter keyed on the Session object (proxy, fingerprint) stays.
        expect(again.session).toBe(onA.session);
    });

    it('sessions outlive the engines: a later engine with the same prefix reuses them without an init', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('outlive');
        const first = start('First', site, prefix, { poolSize: 2 });
        const leases = await Promise.all([first.lease(`${URL}/1`), first.lease(`${URL}/2`)]);
        await first.stop();

        const later = start('Later', site, prefix, { poolSize: 2 });
        const reused = await Promise.all([later.lease(`${URL}/3`), later.lease(`${URL}/4`)]);
        expect(new Set(reused.map((lease) => lease.session.id))).toEqual(
            new Set(leases.map((lease) => lease.session.id)),
        );
        expect(reused[0]!.session.getCookieString(URL)).toBe(`sid=${reused[0]!.session.id}`);
        expect(site.inits).toHaveLength(2);
        expect(later.manager.stats).toEqual({});
        // Every key the store wrote starts with the prefix.
        const keys = (await allKeys(redis)).filter((key) => key.includes('outlive'));
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.every((key) => key.startsWith(`${prefix}:`))).toBe(true);
    });

    it('dispose() closes the connections: the store answers no more, and dispose() can be called twice', async () => {
        const site = new FakeSite();
        const a = start('A', site, uniquePrefix('dispose'), { poolSize: 1 });
        a.manager.release(await a.lease(URL));
        const before = (await redis.client.client('LIST')) as string;
        await a.manager.dispose();
        await a.manager.dispose();
        const after = (await redis.client.client('LIST')) as string;
        const count = (list: string) => list.trim().split('\n').length;
        // The command and the subscriber connections are gone.
        expect(count(before) - count(after)).toBe(2);
    });

    it('closing with an attempt in flight: dispose() waits for its release, so its cookies reach the store', async () => {
        const site = new FakeSite();
        const prefix = uniquePrefix('inflight');
        const a = start('A', site, prefix, { poolSize: 1, exclusive: true });
        const lease = await a.lease(URL);
        // The crawl stops (a limit or a hook) while the attempt still runs.
        a.manager.close('stopped');
        const disposed = a.manager.dispose();
        expect(await settlesWithin(disposed, 200)).toBe(false);
        lease.session.setCookie('last=1; Path=/', URL);
        a.manager.release(lease);
        await disposed;

        // Its lease went back at once (no wait for leaseSecs) and its cookie is there.
        const b = start('B', site, prefix, { poolSize: 1, exclusive: true });
        const next = await b.lease(URL);
        expect(next.session.id).toBe(lease.session.id);
        expect(next.session.getCookieString(URL)).toBe(`sid=${lease.session.id}; last=1`);
    });
});

describe('RedisSessionStore options', () => {
    it('rejects a missing url and prefix and a bad leaseSecs with one error naming each', () => {
        const create = () => new RedisSessionStore({ url: 'localhost:6379', prefix: '', leaseSecs: 0 });
        expect(create).toThrow(ManagedSessionsOptionsError);
        expect(create).toThrow(
            'Invalid RedisSessionStore options:\n' +
                '- Expected `url` to be a Redis URL such as `redis://127.0.0.1:6379`, got (a string).\n' +
                '- Expected `prefix` to be a non-empty string (it starts every key), got `` (empty string).\n' +
                '- Expected `leaseSecs` to be a finite number > 0, got `0` (number).',
        );
    });

    it('the `store` option must be a session store', () => {
        expect(
            () =>
                new SessionManager(
                    { store: { url: 'redis://x' } as never },
                    { download: async () => ok(URL), log: silentLog },
                ),
        ).toThrow(
            'Invalid managed-sessions options:\n- Expected `store` to be a session store, e.g. `new RedisSessionStore({ url, prefix })` (an object with open()), got `{"url":"redis://x"}` (object).',
        );
    });
});
