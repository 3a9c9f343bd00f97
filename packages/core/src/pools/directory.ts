import type { Log, Request } from '@crawlee/core';
import type { Clock } from '../clock.js';
import type { SessionConfig } from '../config/session-config.js';
import type { ResolvedManagedSessionsOptions } from '../options.js';
import type { ParkedSessions } from '../persist/parked.js';
import { redact } from '../redact.js';
import type { SessionTimeline } from '../report/timeline.js';
import type { StoreConnection } from '../store/store.js';
import type { PoolConfig, ResolvedPoolOptions } from '../types.js';
import type { PoolBackend, PoolHost, PoolSnapshot } from './backend.js';
import {
    choosePool,
    type ParamsPairing,
    ParamsPoolIds,
    type PoolChoice,
    paramsPoolId,
    type SessionControls,
} from './pool-id.js';

/**
 * A memory backstop: live pools above this count evict their least recently used idle ones, down to
 * nine tenths of it, however recently used. Far above what a crawl keeps busy at once, so pools in
 * use are not evicted and re-initialised; idle pools go after the option `poolIdleSecs` long before.
 */
export const MAX_LIVE_POOLS = 20_000;
/**
 * Pools' `lastUsed` counts ms from the directory's epoch, which moves forward once it is this far
 * behind (2^30 ms, 12.4 days), so the count stays a small integer (V8 keeps 31 bits at least).
 */
const MAX_SINCE_EPOCH_MS = 2 ** 30;
/** Snapshots of evicted pools that `pools()` still lists (the most recent ones). */
export const MAX_EVICTED_SNAPSHOTS = 1_000;

/** What the pool directory works with. */
export interface PoolDirectoryDeps {
    options: ResolvedManagedSessionsOptions;
    /** Where pools live (option `store`): this engine's connection to it. */
    store: StoreConnection;
    /** What every pool gets from the engine. */
    host: PoolHost;
    clock: Clock;
    log: Log;
    /** Sessions of pools that are not live: restored ones, and evicted pools'. */
    parked: ParkedSessions;
    timeline: SessionTimeline;
}

/**
 * The live pools by id: picks the pool of a request (its id after `userData` controls and
 * `pool()`, its options by precedence, the `host[N]` numbering of `sessionParams`), creates pools
 * on first use with their parked sessions, and evicts idle ones.
 */
export class PoolDirectory {
    readonly #deps: PoolDirectoryDeps;
    /** The live pools by id; each keeps the engine's bookkeeping about it (`PoolUsage`): one lookup per request. */
    readonly #pools = new Map<string, PoolBackend>();
    /** Pools' `lastUsed` counts from this clock time: the directory's start, moved on every 12 days. */
    #epoch: number;
    readonly #paramsIds = new ParamsPoolIds();
    /** The `sessionParams` fingerprint of each pool numbered for params (`host[N]`). */
    readonly #poolParams = new Map<string, string>();
    /** Pairings asked of a shared store and not answered yet, so concurrent requests ask once. */
    readonly #pendingParams = new Map<string, Promise<number>>();
    /** Params pools whose pairing was logged in this run. */
    readonly #loggedParams = new Set<string>();
    /** The last snapshot of evicted pools (the newest {@link MAX_EVICTED_SNAPSHOTS}). */
    readonly #evicted = new Map<string, PoolSnapshot>();
    #evictedTotal = 0;
    #lastSweep = 0;

    constructor(deps: PoolDirectoryDeps) {
        this.#deps = deps;
        this.#epoch = deps.clock.now();
    }

    /** The live pools. */
    *live(): IterableIterator<PoolBackend> {
        yield* this.#pools.values();
    }

    /** A snapshot of every pool: the live ones, then evicted ones as they were when evicted. */
    snapshots(): PoolSnapshot[] {
        const live = [...this.#pools.values()].map((pool) => pool.snapshot());
        if (this.#evicted.size === 0) return live;
        // Evicted pools show as they were when evicted, unless they came back (then live wins).
        return [...live, ...[...this.#evicted.values()].filter((snapshot) => !this.#pools.has(snapshot.id))];
    }

    /** Pools evicted so far (a pool evicted twice counts twice). */
    get evictedTotal(): number {
        return this.#evictedTotal;
    }

    /** The `sessionParams` fingerprint pool `id` is paired with (`host[N]` pools), if any. */
    fingerprintOf(id: string): string | undefined {
        return this.#poolParams.get(id);
    }

    /** The `host[N]` pairings so far, for the persisted record. */
    pairings(): ParamsPairing[] {
        return this.#paramsIds.pairings();
    }

    /** Numbers `sessionParams` as a saved run did; before any pool is chosen. */
    restorePairings(pairings: readonly ParamsPairing[]): void {
        this.#paramsIds.restore(pairings);
    }

    /**
     * The pool that serves `request`: `sessionPool`, else `host[N]` for `sessionParams`, else
     * `host@…` for `sessionLocation`, else `config.pool()`. A promise only while a shared store
     * numbers new `sessionParams`.
     *
     * @throws PoolError when `pool()` fails; SessionControlError for a location id that is too long.
     */
    poolFor(config: SessionConfig, request: Request, controls: SessionControls): PoolBackend | Promise<PoolBackend> {
        const choice = choosePool(config, request, controls);
        if (!choice.params) return this.#pool(choice.id, choice.config, undefined);
        const params = choice.params;
        const { host, fingerprint } = params;
        const known = this.#paramsIds.indexOf(host, fingerprint);
        if (known !== undefined) return this.#paramsPool(params, known, request);
        const store = this.#deps.store;
        if (!store.paramsIndex) return this.#paramsPool(params, this.#paramsIds.assign(host, fingerprint), request);
        // A shared store numbers params for every process: ask it once per pairing.
        const key = `${host}\n${fingerprint}`;
        let pending = this.#pendingParams.get(key);
        if (!pending) {
            pending = store
                .paramsIndex(host, fingerprint)
                .then((index) => {
                    if (!Number.isInteger(index) || index < 0) {
                        throw new TypeError(
                            `The session store numbered sessionParams of ${host} as ${String(index)}; paramsIndex() must resolve to an integer >= 0.`,
                        );
                    }
                    return this.#paramsIds.assign(host, fingerprint, index);
                })
                .finally(() => this.#pendingParams.delete(key));
            this.#pendingParams.set(key, pending);
        }
        return pending.then((index) => this.#paramsPool(params, index, request));
    }

    /** An acquire of `pool` starts at `now`: the pool is in use (never evicted) until {@link leave}. */
    enter(pool: PoolBackend, now: number): void {
        if (now - this.#epoch >= MAX_SINCE_EPOCH_MS) this.#rebase(now);
        // `| 0`: an int32, so V8 keeps the field a small integer in the object. A difference of clock
        // times is a double, which V8 stores in a separate heap number: one more memory access per
        // request (bench/README.md, engine cost).
        pool.lastUsed = (now - this.#epoch) | 0;
        pool.busy++;
    }

    /** Moves the epoch to `now` (after 12 days of crawling), so `lastUsed` stays a small integer. */
    #rebase(now: number): void {
        const shift = Math.floor(now - this.#epoch);
        this.#epoch += shift;
        this.#lastSweep -= shift;
        // A pool unused for 12 days stays the oldest: clamped, still below every recent one.
        for (const pool of this.#pools.values()) pool.lastUsed = Math.max(-MAX_SINCE_EPOCH_MS, pool.lastUsed - shift);
    }

    /** One acquire or lease of `pool` is over. */
    leave(pool: PoolBackend): void {
        if (pool.busy > 0) pool.busy--;
    }

    /** Closes every live pool (see `PoolBackend.close`). */
    closeAll(reason: string | undefined): void {
        for (const pool of this.#pools.values()) pool.close(reason);
    }

    /** The `host[N]` pool of one params value; its pairing is logged once per run. */
    #paramsPool(params: NonNullable<PoolChoice['params']>, index: number, request: Request): PoolBackend {
        const id = paramsPoolId(params.host, index);
        if (!this.#loggedParams.has(id)) {
            this.#loggedParams.add(id);
            const { url, method } = params.init;
            this.#deps.log.info(
                `Pool ${id} serves requests with userData.sessionParams ${method ?? 'GET'} ${redact(url ?? request.url)}.`,
            );
        }
        const pool = this.#pool(id, undefined, params.fingerprint);
        const paired = this.#poolParams.get(id);
        // Defence in depth: a pool paired with other params never serves this request.
        if (paired !== undefined && paired !== params.fingerprint) {
            throw new Error(
                `Pool ${id} holds sessions initialised with other userData.sessionParams than ${request.url} carries; ` +
                    'set userData.sessionPool explicitly for one of them.',
            );
        }
        return pool;
    }

    #pool(
        id: string,
        fromConfig: Omit<PoolConfig, 'id'> | undefined,
        paramsFingerprint: string | undefined,
    ): PoolBackend {
        let pool = this.#pools.get(id);
        if (!pool) {
            const { store, host, parked, clock, options, log, timeline } = this.#deps;
            this.#sweep();
            pool = store.createPool(id, this.#poolOptions(id, fromConfig), host);
            this.#pools.set(id, pool);
            if (paramsFingerprint !== undefined) this.#poolParams.set(id, paramsFingerprint);
            parked.adoptInto(pool, {
                paired: this.#poolParams.get(id),
                now: clock.now(),
                maxAgeSecs: options.maxAgeSecs,
                log,
                timeline,
            });
        }
        return pool;
    }

    /** Pool options by precedence: `pools[id]` option > `PoolConfig` from `pool()` > global options. */
    #poolOptions(id: string, fromConfig: Omit<PoolConfig, 'id'> | undefined): ResolvedPoolOptions {
        const o = this.#deps.options;
        const fromOption = o.pools[id] ?? {};
        return {
            size: fromOption.size ?? fromConfig?.size ?? o.poolSize,
            delay: fromOption.delay ?? fromConfig?.delay ?? o.delay,
            randomizeDelay: fromOption.randomizeDelay ?? fromConfig?.randomizeDelay ?? o.randomizeDelay,
            maxBadInits: fromOption.maxBadInits ?? fromConfig?.maxBadInits ?? o.maxBadInits,
            exclusive: fromOption.exclusive ?? fromConfig?.exclusive ?? o.exclusive,
        };
    }

    /**
     * Evicts idle pools (no lease out, no acquire or init under way, no waiter): those unused for
     * the option `poolIdleSecs`, and, above {@link MAX_LIVE_POOLS}, the least recently used. Their
     * sessions are parked and come back with the pool; their stats stay. Runs when a pool is
     * created, at most once per tenth of the idle time unless the live pools are over the cap.
     * Pools of a shared store are left alone: the store keeps their state and their subscriptions.
     */
    #sweep(): void {
        if (this.#deps.store.keepsSessions) return;
        const now = this.#deps.clock.now() - this.#epoch;
        const idleMs = this.#deps.options.poolIdleSecs * 1000;
        const over = this.#pools.size >= MAX_LIVE_POOLS;
        if (!over && now - this.#lastSweep < idleMs / 10) return;
        this.#lastSweep = now;
        const idle: [PoolBackend, number][] = [];
        for (const pool of this.#pools.values()) {
            if (pool.busy > 0) continue;
            const snapshot = pool.snapshot();
            if (snapshot.waiting > 0 || snapshot.initializing > 0) continue;
            idle.push([pool, pool.lastUsed]);
        }
        idle.sort((a, b) => a[1] - b[1]);
        let excess = over ? this.#pools.size - Math.floor(MAX_LIVE_POOLS * 0.9) : 0;
        for (const [pool, lastUsed] of idle) {
            if (excess <= 0 && now - lastUsed < idleMs) break;
            this.#evict(pool);
            excess--;
        }
    }

    #evict(pool: PoolBackend): void {
        const id = pool.id;
        const snapshot = pool.snapshot();
        const fingerprint = this.#poolParams.get(id);
        const sessions = pool
            .persistable()
            .filter((managed) => managed.state === 'ready')
            .map((managed) => ({ managed, paramsFingerprint: fingerprint }));
        pool.close(undefined);
        this.#pools.delete(id);
        // The pool counted its acquires itself; its totals keep them once it is gone.
        this.#deps.timeline.addAcquires(id, pool.acquires);
        // Their bars end here (`closed`); a session that comes back with its pool gets a new one. The
        // timeline must not hold parked sessions: it would keep thousands of evicted sessions alive.
        const now = this.#deps.clock.now();
        for (const { managed } of sessions) this.#deps.timeline.ended(managed, 'closed', now);
        if (sessions.length > 0) this.#deps.parked.park(id, sessions);
        this.#evicted.delete(id);
        this.#evicted.set(id, snapshot);
        this.#evictedTotal++;
        if (this.#evicted.size > MAX_EVICTED_SNAPSHOTS) this.#evicted.delete(this.#evicted.keys().next().value!);
    }
}
