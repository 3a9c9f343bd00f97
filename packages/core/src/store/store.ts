import type { Log, Request } from '@crawlee/core';
import type { EndReason, ManagedSession } from '../pools/managed-session.js';
import { Pool, type PoolHost, type PoolSnapshot } from '../pools/pool.js';
import type { ResolvedPoolOptions } from '../types.js';

/** The counters of a session that count toward its discard. */
export type FailureKind = 'errors' | 'checkFailures';

/**
 * One pool as the engine drives it. The default store gives the in-memory {@link Pool}; a shared
 * store gives a pool whose membership, rotation and counters live elsewhere (see `SharedPool`).
 */
export interface PoolBackend {
    readonly id: string;
    readonly options: ResolvedPoolOptions;
    /** Consecutive failed inits, as far as this process knows. */
    readonly badInits: number;
    readonly closed: boolean;
    /** Why the pool closed, if it did. */
    readonly closedReason: string | undefined;
    snapshot(): PoolSnapshot;
    /**
     * A session for `request`, waiting (event-driven) up to `waitTimeoutSecs`. A retry passes the
     * session its failed attempt had as `avoid`, to get another one whenever another is free.
     */
    acquire(request: Request, avoid?: ManagedSession): Promise<ManagedSession>;
    /** The attempt using `session` is over (its cookies may have changed). */
    release(session: ManagedSession): void;
    /**
     * Takes `session` out of rotation at once and starts one replacement. Returns `false` when it
     * had already left (concurrent failures of one session replace it once).
     */
    discard(session: ManagedSession, reason: EndReason, trigger: Request): boolean;
    /**
     * Counts one failure of `kind` against `session` and discards it when the count reaches
     * `limit`. Returns whether this call discarded it.
     */
    countFailure(
        session: ManagedSession,
        kind: FailureKind,
        limit: number,
        reason: EndReason,
        trigger: Request,
    ): boolean;
    /** A session's use-check failed for the first time (a lifetime sample); `passes` uses passed before. */
    expiredOnSite(session: ManagedSession, passes: number): void;
    /** Stops the pool: wakes every waiter with `error`, clears its timers, starts no more inits. */
    close(reason: string | undefined, error?: Error): void;
    /** Sessions the key-value record should keep (none when the store keeps them itself). */
    persistable(): readonly ManagedSession[];
    /** Puts a restored session into rotation without an init. */
    adopt(session: ManagedSession): void;
}

/** What a store learns when an engine opens it. */
export interface StoreContext {
    log: Log;
}

/** A store opened by one engine (one `SessionManager`, one crawl): it owns that engine's connections. */
export interface StoreConnection {
    /**
     * Whether sessions live in the store itself and outlive the process. Then the key-value
     * record (`persistState`) keeps stats only: the store is the source of truth for sessions.
     */
    readonly keepsSessions: boolean;
    createPool(id: string, options: ResolvedPoolOptions, host: PoolHost): PoolBackend;
    /**
     * The shared number N of the pool id `host[N]` for one distinct `userData.sessionParams`
     * (identified by `fingerprint`, a stable hash of the params) on `host`, allocating the next free
     * number atomically. Every process sharing the store, and every later run, then pairs the same
     * params with the same pool. Stores that keep no sessions omit it: the engine numbers params
     * itself and keeps the pairing in its persisted record.
     */
    paramsIndex?(host: string, fingerprint: string): Promise<number>;
    /**
     * Finishes pending writes and closes the connections. Called once, after every pool closed;
     * must leave no open handle or timer behind.
     */
    close(): Promise<void>;
}

/**
 * Where pool state lives: the option `store`. The default keeps pools in this process's memory;
 * `RedisSessionStore` (package `@managed-sessions/redis`) shares them between processes.
 * A store is a factory: each engine that uses it opens its own connection, so one store object
 * serves several crawlers and several `run()`s.
 */
export interface SessionStore {
    /** Opens the store for one engine. */
    open(context: StoreContext): StoreConnection;
}

/** The default store: each pool lives in this process's memory (today's {@link Pool}, unchanged). */
export class MemorySessionStore implements SessionStore {
    open(): StoreConnection {
        return memoryConnection;
    }
}

const memoryConnection: StoreConnection = {
    keepsSessions: false,
    createPool: (id, options, host) => new Pool(id, options, host),
    close: async () => undefined,
};

/** The store used when the option `store` is not set. */
export const memorySessionStore: SessionStore = new MemorySessionStore();
