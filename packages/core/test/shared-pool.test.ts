/**
 * `SharedPool`'s decisions against an in-memory shared state (test/support/memory-shared-state.ts,
 * the unit boundary: the Redis package implements the same interface with Lua, and its own
 * integration tests run the real scripts). Time is a `ManualClock`.
 */
import { EventEmitter } from 'node:events';
import { LogLevel, type Request } from '@crawlee/core';
import { NoSessionAvailableError, TooManyBadSessionInitsError } from '@managed-sessions/core';
import {
    createCrawleeSession,
    ManagedSession,
    ManualClock,
    type PoolHost,
    type ResolvedPoolOptions,
    SharedPool,
} from '@managed-sessions/core/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLog, type Deferred, deferred, isSettled, req, settle } from './helpers.js';
import { MemorySharedStore } from './support/memory-shared-state.js';

const URL_A = 'https://shop.example/a';
const POOL_ID = 'shop.example';

interface Process {
    pool: SharedPool;
    /** Sessions this process initialised, in order. */
    inits: ManagedSession[];
    /** Sessions this process counted as expired (`use/expired`). */
    expired: ManagedSession[];
    badInits: TooManyBadSessionInitsError[];
    warnings: string[];
    /** Each init's outcome, decided by the test: `true` succeeds, `false` fails. Default: success at once. */
    pending: Deferred<boolean>[];
    manual: boolean;
}

const open: SharedPool[] = [];

afterEach(() => {
    for (const pool of open.splice(0)) pool.close(undefined);
});

/** One process's pool over `store`. */
function processOn(
    store: MemorySharedStore,
    clock: ManualClock,
    options: Partial<ResolvedPoolOptions> = {},
    host: Partial<Pick<PoolHost, 'maxUsageCount' | 'maxAgeSecs' | 'random' | 'waitTimeoutSecs'>> & {
        owner?: string;
        manual?: boolean;
        fail?: boolean;
    } = {},
): Process {
    const hub = new EventEmitter();
    const { log, lines } = captureLog();
    const { owner = 'p1', manual = false, fail = false, ...limits } = host;
    const proc = { inits: [], expired: [], badInits: [], pending: [], manual } as unknown as Process;
    const full: PoolHost = {
        clock,
        random: () => 0.5,
        log,
        waitTimeoutSecs: 60,
        maxUsageCount: undefined,
        maxAgeSecs: undefined,
        adaptiveLifetime: false,
        init: async (pool) => {
            if (proc.manual) {
                const outcome = deferred<boolean>();
                proc.pending.push(outcome);
                if (!(await outcome.promise)) return undefined;
            } else if (fail) {
                return undefined;
            }
            const managed = new ManagedSession(createCrawleeSession(hub, log), pool.id, undefined, clock.now());
            proc.inits.push(managed);
            return managed;
        },
        expired: (_pool, session) => proc.expired.push(session),
        badInits: (_pool, error) => proc.badInits.push(error),
        sessionFrom: (pool, stored) =>
            new ManagedSession(createCrawleeSession(hub, log, stored), pool.id, stored.proxyUrl, stored.createdAt),
        ...limits,
    };
    proc.pool = new SharedPool(
        POOL_ID,
        { size: 1, delay: 0, randomizeDelay: false, maxBadInits: 8, exclusive: false, ...options },
        full,
        store.state(owner),
    );
    Object.defineProperty(proc, 'warnings', {
        get: () => lines.filter((line) => line.level === LogLevel.WARNING).map((line) => line.message),
    });
    open.push(proc.pool);
    return proc;
}

/** Acquires and releases at once; returns the session. */
async function use(proc: Process, request: Request = req(URL_A)): Promise<ManagedSession> {
    const session = await proc.pool.acquire(request);
    proc.pool.release(session);
    await settle();
    return session;
}

describe('shared pool: lazy fill and rotation', () => {
    it('the first `size` requests each init one session; later ones rotate, least recently assigned first', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p = processOn(store, clock, { size: 2 });
        const order: ManagedSession[] = [];
        for (let i = 0; i < 5; i++) order.push(await use(p));
        expect(p.inits).toHaveLength(2);
        const [a, b] = p.inits;
        expect(order).toEqual([a, b, a, b, a]);
        expect(store.ready.size).toBe(2);
        // Every assignment is counted in the store: A served 3 times, B twice.
        expect(store.sessions.get(a!.id)!.uses).toBe(3);
        expect(store.sessions.get(b!.id)!.uses).toBe(2);
        expect(p.pool.snapshot()).toEqual({
            id: POOL_ID,
            size: 2,
            ready: 2,
            initializing: 0,
            waiting: 0,
            discarded: 0,
        });
    });

    it('a second process takes the sessions the first one initialised, without an init', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p1 = processOn(store, clock, { size: 1 });
        const p2 = processOn(store, clock, { size: 1 }, { owner: 'p2' });
        const a = await use(p1);
        const seen = await use(p2);
        expect(p2.inits).toHaveLength(0);
        expect(seen.id).toBe(a.id);
        expect(seen).not.toBe(a);
        expect(store.sessions.get(a.id)!.uses).toBe(2);
    });
});

describe('shared pool: delay', () => {
    it('a session is due `delay` seconds after its last assignment; the waiter is woken then, not before', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const start = clock.now();
        const p = processOn(store, clock, { size: 1, delay: 2 });
        const a = await use(p);
        expect(store.ready.get(a.id)).toBe(start + 2_000);
        const next = p.pool.acquire(req(URL_A));
        await settle();
        await clock.advance(1_999);
        expect(await isSettled(next)).toBe(false);
        await clock.advance(1);
        expect(await next).toBe(a);
        expect(store.ready.get(a.id)).toBe(start + 4_000);
    });

    it('randomised delay: the factor 0.5 + random() scales each next-use time', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const start = clock.now();
        // Each take draws one factor before the store says whether it assigns: the first take opens
        // an init slot (its draw unused), the init's own assignment draws 0 (factor 0.5), the next take 0.9.
        const randoms = [0.3, 0, 0.9];
        let draw = 0;
        const p = processOn(
            store,
            clock,
            { size: 1, delay: 2, randomizeDelay: true },
            { random: () => randoms[draw++]! },
        );
        const a = await use(p);
        expect(store.ready.get(a.id)).toBe(start + 1_000);
        expect(a.nextUseAt).toBe(start + 1_000);
        await clock.advance(1_000);
        expect(await use(p)).toBe(a);
        // One draw per assignment: the session's own next-use time is the one the store keeps.
        expect(store.ready.get(a.id)).toBe(start + 1_000 + 2_800);
        expect(a.nextUseAt).toBe(start + 1_000 + 2_800);
        expect(draw).toBe(3);
    });
});

describe('shared pool: retirement', () => {
    it('maxUsageCount: retires a session on its last use (counted once) and initialises its replacement ahead of need', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p = processOn(store, clock, { size: 1 }, { maxUsageCount: 2 });
        const a1 = await use(p);
        const a2 = await use(p);
        expect(a2).toBe(a1);
        expect(a1.endReason).toBe('expired');
        expect(p.expired).toEqual([a1]);
        // Replaced without waiting for a request.
        expect(p.inits).toHaveLength(2);
        expect([...store.ready.keys()]).toEqual([p.inits[1]!.id]);
        expect(await use(p)).toBe(p.inits[1]);
        expect(p.pool.snapshot()).toMatchObject({ ready: 1, discarded: 1 });
    });

    it('maxAgeSecs: a session past its age is retired when found, and the request takes its replacement', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p = processOn(store, clock, { size: 1 }, { maxAgeSecs: 10 });
        const a = await use(p);
        await clock.advance(10_000);
        const b = await use(p);
        expect(b).not.toBe(a);
        expect(a.endReason).toBe('expired');
        expect(p.expired).toEqual([a]);
        expect(p.inits).toEqual([a, b]);
        expect(store.sessions.has(a.id)).toBe(false);
    });

    it('maxAgeSecs: a session that would age out before a replacement inits retires with its last use', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p = processOn(store, clock, { size: 1 }, { maxAgeSecs: 10, manual: true });
        // The first init takes 1 s: the init-time average is 1,000 ms.
        const first = p.pool.acquire(req(URL_A));
        await settle();
        await clock.advance(1_000);
        p.pending[0]!.resolve(true);
        const a = await first;
        p.pool.release(a);
        await settle();
        // 8,999 ms old: a replacement started now would be ready 1 ms before the limit.
        await clock.advance(8_999);
        expect(await use(p)).toBe(a);
        expect(p.expired).toEqual([]);
        // 9,000 ms old: served, and retired with this use; the replacement initialises meanwhile.
        await clock.advance(1);
        expect(await use(p)).toBe(a);
        expect(p.expired).toEqual([a]);
        expect(p.pending).toHaveLength(2);
        expect(p.pool.snapshot()).toMatchObject({ initializing: 1, discarded: 1 });
    });
});

describe('shared pool: discard', () => {
    it('two processes discarding one session at once replace it once', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p1 = processOn(store, clock, { size: 1 });
        const p2 = processOn(store, clock, { size: 1 }, { owner: 'p2' });
        const a1 = await p1.pool.acquire(req(URL_A));
        const a2 = await p2.pool.acquire(req(URL_A));
        expect(a2.id).toBe(a1.id);
        expect(p1.pool.discard(a1, 'check-failed', req(URL_A))).toBe(true);
        expect(p2.pool.discard(a2, 'check-failed', req(URL_A))).toBe(true);
        // The same process never discards one session twice.
        expect(p1.pool.discard(a1, 'check-failed', req(URL_A))).toBe(false);
        p1.pool.release(a1);
        p2.pool.release(a2);
        await settle();
        expect(store.calls.filter((call) => call === 'discard')).toHaveLength(2);
        expect(p1.inits.length + p2.inits.length).toBe(2);
        expect(store.ready.size).toBe(1);
        expect(store.claims.size).toBe(0);
    });

    it('a discard in one process ends that session in the others, which never hand it out again', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p1 = processOn(store, clock, { size: 1 });
        const p2 = processOn(store, clock, { size: 1 }, { owner: 'p2' });
        const a1 = await use(p1);
        const a2 = await use(p2);
        p1.pool.discard(a1, 'download-errors', req(URL_A));
        await settle();
        expect(a2.endReason).toBe('discarded-elsewhere');
        const b = await use(p2);
        expect(b.id).not.toBe(a1.id);
        expect(b.id).toBe(p1.inits[1]!.id);
    });

    it('failures below the limit in several processes add up in the store', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p1 = processOn(store, clock, { size: 1 });
        const p2 = processOn(store, clock, { size: 1 }, { owner: 'p2' });
        const a1 = await use(p1);
        const a2 = await use(p2);
        expect(p1.pool.countFailure(a1, 'errors', 2, 'download-errors', req(URL_A))).toBe(false);
        await settle();
        expect(store.sessions.get(a1.id)!.errors).toBe(1);
        // Its own count is 1, below the limit: the store's count of 2 ends it.
        expect(p2.pool.countFailure(a2, 'errors', 2, 'download-errors', req(URL_A))).toBe(false);
        await settle();
        expect(store.sessions.has(a1.id)).toBe(false);
        expect(a2.endReason).toBe('download-errors');
        expect(a1.endReason).toBe('discarded-elsewhere');
        expect(p1.inits.length + p2.inits.length).toBe(2);
    });
});

describe('shared pool: bad inits', () => {
    it('maxBadInits consecutive failed inits close the pool with TooManyBadSessionInitsError, in every process', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p1 = processOn(store, clock, { size: 1, maxBadInits: 3 }, { fail: true });
        const p2 = processOn(store, clock, { size: 1, maxBadInits: 3 }, { owner: 'p2' });
        const waiting = p1.pool.acquire(req(URL_A)).catch((error: unknown) => error);
        await settle();
        const error = await waiting;
        expect(error).toBeInstanceOf(TooManyBadSessionInitsError);
        expect(store.calls.filter((call) => call === 'initFailed')).toHaveLength(3);
        expect(p1.badInits).toEqual([error]);
        expect(p1.pool.closedReason).toBe('bad_session_inits');
        expect(p1.pool.badInits).toBe(3);
        // The other process hears it and stops too.
        expect(p2.pool.closedReason).toBe('bad_session_inits');
        expect(p2.badInits).toHaveLength(1);
        await expect(p2.pool.acquire(req(URL_A))).rejects.toBeInstanceOf(TooManyBadSessionInitsError);
        expect(p2.inits).toHaveLength(0);
    });

    it('a successful init resets the consecutive count; the lazy fill inits again only for a request', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p = processOn(store, clock, { size: 1, maxBadInits: 3 }, { manual: true });
        const first = p.pool.acquire(req(URL_A));
        for (const outcome of [false, false, true]) {
            await settle();
            p.pending.at(-1)!.resolve(outcome);
        }
        const a = await first;
        expect(store.badInits).toBe(0);
        expect(p.pool.badInits).toBe(0);
        // The replacement of a discarded session fails: counted, and nothing retries it without a request.
        p.pool.discard(a, 'check-failed', req(URL_A));
        await settle();
        p.pending[3]!.resolve(false);
        await settle();
        expect(p.pending).toHaveLength(4);
        expect(store.badInits).toBe(1);
        // A request: one more failure (2 in a row, below 3), then a success serves it.
        const second = p.pool.acquire(req(URL_A));
        await settle();
        p.pending[4]!.resolve(false);
        await settle();
        expect(store.badInits).toBe(2);
        p.pending[5]!.resolve(true);
        const b = await second;
        expect(b).toBe(p.inits[1]);
        expect(p.pool.closed).toBe(false);
        expect(store.badInits).toBe(0);
        expect(p.pending).toHaveLength(6);
    });
});

describe('shared pool: waiting and exclusive leases', () => {
    it('exclusive: a leased session waits for its release; the lease goes back on release', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p1 = processOn(store, clock, { size: 1, exclusive: true });
        const p2 = processOn(store, clock, { size: 1, exclusive: true }, { owner: 'p2' });
        const a = await p1.pool.acquire(req(URL_A));
        expect(store.leases.get(a.id)?.owner).toBe('p1');
        const next = p2.pool.acquire(req(URL_A));
        await settle();
        expect(await isSettled(next)).toBe(false);
        p1.pool.release(a);
        await settle();
        const b = await next;
        expect(b.id).toBe(a.id);
        expect(store.leases.get(a.id)?.owner).toBe('p2');
    });

    it('no session within waitTimeoutSecs: NoSessionAvailableError', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p = processOn(store, clock, { size: 1, exclusive: true }, { waitTimeoutSecs: 5 });
        await p.pool.acquire(req(URL_A));
        const waiting = p.pool.acquire(req(URL_A)).catch((error: unknown) => error);
        await clock.advance(4_999);
        expect(await isSettled(waiting)).toBe(false);
        await clock.advance(1);
        const error = (await waiting) as Error;
        expect(error).toBeInstanceOf(NoSessionAvailableError);
        expect(p.pool.snapshot()).toMatchObject({ waiting: 0, ready: 1 });
    });
});

describe('shared pool: corrupt entries', () => {
    it('a session whose state cannot be read is dropped once, with one warning, and replaced for the waiter', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const p1 = processOn(store, clock, { size: 1 });
        const p2 = processOn(store, clock, { size: 1 }, { owner: 'p2' });
        const a = await use(p1);
        store.corruptSession(a.id);
        // p2 never held its state, so the store sends it: unreadable.
        const b = await use(p2);
        expect(b.id).not.toBe(a.id);
        expect(p2.inits).toEqual([b]);
        expect(store.sessions.has(a.id)).toBe(false);
        expect(p2.warnings).toEqual([
            `Pool ${POOL_ID}: dropped a session whose cookies or userData cannot be read from the session store ` +
                `(key memory:session:${a.id}); the pool initialises new sessions as it needs them. ` +
                'Something other than this version of managed-sessions wrote under this prefix. ' +
                'Further problems of this kind in this pool are fixed without a warning.',
        ]);
        // The same problem again (the new version is sent, unreadable): fixed without a second warning.
        store.corruptSession(b.id);
        const c = await use(p2);
        expect(p2.inits).toEqual([b, c]);
        expect(store.sessions.has(b.id)).toBe(false);
        expect(p2.warnings).toHaveLength(1);
    });

    it('corrupt entries the store reports: one warning per pool and kind, naming the key only', async () => {
        const store = new MemorySharedStore();
        const clock = new ManualClock();
        const state = store.state('p1');
        const { log, lines } = captureLog();
        const pool = new SharedPool(
            POOL_ID,
            { size: 1, delay: 0, randomizeDelay: false, maxBadInits: 8, exclusive: false },
            {
                clock,
                random: () => 0.5,
                log,
                waitTimeoutSecs: 60,
                maxUsageCount: undefined,
                maxAgeSecs: undefined,
                adaptiveLifetime: false,
                init: async () => undefined,
                expired: () => undefined,
                badInits: () => undefined,
                sessionFrom: () => {
                    throw new Error('not used');
                },
            },
            state,
        );
        open.push(pool);
        state.reportCorrupt('pool-counter', 'memory:meta');
        state.reportCorrupt('pool-counter', 'memory:meta');
        state.reportCorrupt('closed-flag', 'memory:closed');
        expect(lines.map((line) => line.message)).toEqual([
            `Pool ${POOL_ID}: dropped a non-integer pool counter from the session store (key memory:meta); ` +
                'the counter starts again from 0. Something other than this version of managed-sessions wrote ' +
                'under this prefix. Further problems of this kind in this pool are fixed without a warning.',
            `Pool ${POOL_ID}: dropped an unreadable stop flag from the session store (key memory:closed); ` +
                'the pool goes on. Something other than this version of managed-sessions wrote under this ' +
                'prefix. Further problems of this kind in this pool are fixed without a warning.',
        ]);
    });
});
