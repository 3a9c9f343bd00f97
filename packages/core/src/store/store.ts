import type { Log } from '@crawlee/core';
import type { PoolBackend, PoolHost } from '../pools/backend.js';
import type { ResolvedPoolOptions } from '../types.js';

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
