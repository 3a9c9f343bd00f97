// The option types and defaults. `resolve-options.ts` validates them (one zod schema). This module
// imports types only, and not the registry's: `SessionConfig` (whose context holds these options)
// must not depend on the engine.
import type { Request, Session } from '@crawlee/core';
import type { SessionStore } from './store/store.js';
import type { InitRequest, Location, SessionResponse } from './types.js';

/**
 * Where session configs are looked up: a `SessionConfigRegistry` (`sessionConfigRegistry`, or a
 * `new SessionConfigRegistry()`). Declared by its shape, so the options need not import the registry.
 */
export interface SessionConfigLookup {
    /** The config class for `url`. */
    configFor(url: string): abstract new (context: never) => object;
}

/** Replaces `SessionConfig.check()` for every response, init and use alike. */
export type Checker = (response: SessionResponse, request: Request, session: Session) => boolean | Promise<boolean>;

/**
 * The default of every option that has one: the single source for the schema (resolve-options.ts),
 * the resolved options and the `@default` tags of {@link ManagedSessionsOptions} (a unit test holds
 * all three equal). Arrays and objects are copied for each resolve.
 */
export const OPTION_DEFAULTS = Object.freeze({
    enabled: true,
    poolSize: 8,
    pools: Object.freeze({}),
    exclusive: false,
    delay: 0,
    randomizeDelay: true,
    maxErrors: 1,
    maxCheckFailures: 1,
    maxBadInits: 8,
    waitTimeoutSecs: 60,
    errorStatusCodes: Object.freeze([520, 521]),
    statsPerPool: false,
    persistState: Object.freeze({ enabled: true, key: 'MANAGED_SESSIONS_STATE', cookies: true }),
    adaptiveLifetime: true,
    hookTimeoutSecs: 120,
    poolIdleSecs: 300,
    statusIntervalSecs: 60,
} as const);

/**
 * The longest timer Node.js can set is 2^31-1 ms (a longer one fires after 1 ms, with a warning):
 * 2,147,483 whole seconds. Every option that becomes a timer is bounded by it.
 */
export const MAX_TIMER_SECS = Math.floor((2 ** 31 - 1) / 1000);

/** Per-pool overrides in the `pools` option. They win over what `pool()` returns and over the global options. */
export interface PoolOptions {
    /** @default option `poolSize` */
    size?: number | undefined;
    /** @default option `delay` */
    delay?: number | undefined;
    /** @default option `randomizeDelay` */
    randomizeDelay?: boolean | undefined;
    /** @default option `maxBadInits` */
    maxBadInits?: number | undefined;
    /** @default option `exclusive` */
    exclusive?: boolean | undefined;
}

/** Where and how pool state is saved in the crawler's key-value store. */
export interface PersistStateOptions {
    /** @default true */
    enabled?: boolean;
    /**
     * The record's key in the crawler's key-value store: 1 to 256 characters of `a-zA-Z0-9!-_.'()`
     * (Crawlee's rule for keys).
     * @default 'MANAGED_SESSIONS_STATE'
     */
    key?: string;
    /** Save cookie values; `false` leaves them out of the record. @default true */
    cookies?: boolean;
}

/** {@link PersistStateOptions} with every default filled in. */
export interface ResolvedPersistStateOptions {
    enabled: boolean;
    key: string;
    cookies: boolean;
}

/** Options of `attachManagedSessions()` (and of the engine behind it). Every field is optional. */
export interface ManagedSessionsOptions {
    /** Give sessions to every request unless a config or `userData.sessionEnabled` says otherwise. @default true */
    enabled?: boolean;
    /** Working sessions wanted per pool. @default 8 */
    poolSize?: number;
    /**
     * Per pool id overrides. `__proto__`, `constructor` and `prototype` cannot be pool ids here.
     * @default {}
     */
    pools?: Record<string, PoolOptions>;
    /** A session serves one request at a time. @default false */
    exclusive?: boolean;
    /** Minimum seconds between two assignments of one session; at most 2,147,483 (a timer). @default 0 */
    delay?: number;
    /** Multiply each delay by a random factor in [0.5, 1.5]. @default true */
    randomizeDelay?: boolean;
    /** Download errors (520/521, network, proxy) before a session is discarded. @default 1 */
    maxErrors?: number;
    /** Failed use-checks before a session is discarded. @default 1 */
    maxCheckFailures?: number;
    /** Consecutive failed inits in one pool before the crawl stops with `bad_session_inits`. @default 8 */
    maxBadInits?: number;
    /** How long a request may wait for a ready session before it fails; at most 2,147,483 (a timer). @default 60 */
    waitTimeoutSecs?: number;
    /** Response codes that count as download errors. @default [520, 521] */
    errorStatusCodes?: number[];
    /** Default location for every pool (below `userData.sessionLocation` and option `params`). */
    location?: Location;
    /** Default init request for every pool (below `userData.sessionParams` and `userData.sessionLocation`). */
    params?: InitRequest;
    /** Used instead of `SessionConfig.check()`. */
    checker?: Checker;
    /** Also count stats under `sessions/pools/{pool}/…`. @default false */
    statsPerPool?: boolean;
    /** Retire a session after that many uses, replacing it ahead of need. */
    maxUsageCount?: number;
    /** Retire a session after that many seconds, replacing it ahead of need. */
    maxAgeSecs?: number;
    /** Where session configs are looked up. @default sessionConfigRegistry */
    registry?: SessionConfigLookup;
    /** Pool state in the crawler's key-value store. @default { enabled: true, key: 'MANAGED_SESSIONS_STATE', cookies: true } */
    persistState?: PersistStateOptions;
    /**
     * Learn each pool's session lifetime (uses or seconds until the site expires a session) from
     * failed use-checks, and retire sessions just before it, replacing them ahead of need. Off
     * when `maxUsageCount` or `maxAgeSecs` is set, and it learns nothing while expiries look random.
     * @default true
     */
    adaptiveLifetime?: boolean;
    /**
     * Seconds a user hook (`params()`, `initSession()`, `processRequest()`, `check()`, the proxy's
     * `newUrlFunction`) may take before it counts as failed: an init that exceeds it counts
     * `init/failed`, a `processRequest()` or `check()` that exceeds it fails that attempt. A hook
     * that never settles can then neither hang the crawl nor hold a session forever. At most
     * 2,147,483 (a timer).
     * @default 120
     */
    hookTimeoutSecs?: number;
    /**
     * Seconds a pool may stay unused (no request, no lease, no init, nobody waiting) before it is
     * evicted from memory: its stats stay, its ready sessions are parked (the newest 1,000 in all, also
     * in the persisted record) and come back, without an init, when its pool is used again. Lower it
     * for crawls over many thousands of hosts that visit each host once. At most 2,147,483 (a timer).
     * @default 300
     */
    poolIdleSecs?: number;
    /**
     * Seconds between two status lines per pool in the crawler's log; 0 turns them off, otherwise
     * 1 to 2,147,483.
     * @default 60
     */
    statusIntervalSecs?: number;
    /**
     * Write the session report (`SESSIONS_REPORT.html`: per-pool timeline of sessions, init cost,
     * waiting time) to the crawler's default key-value store at the end of each crawl.
     * `sessions.report()` writes it on demand either way. @default true
     */
    report?: boolean;
    /**
     * Where pool state lives. The default keeps pools in this process's memory; a shared store
     * lets several crawler processes share pools (size, delay, leases, discards, bad-init limit).
     *
     * @example
     * import { RedisSessionStore } from '@managed-sessions/redis';
     * attachManagedSessions(crawler, { store: new RedisSessionStore({ url: 'redis://127.0.0.1:6379', prefix: 'shop' }) });
     * @default in-memory
     */
    store?: SessionStore;
}

/**
 * Options after validation, with every default filled in. A plain interface (the published
 * declarations do not depend on zod); a compile-time check in resolve-options.ts keeps it equal to
 * the schema's output.
 */
export interface ResolvedManagedSessionsOptions {
    enabled: boolean;
    poolSize: number;
    /** A null-prototype object: only the pool ids the user wrote are keys. */
    pools: Record<string, PoolOptions>;
    exclusive: boolean;
    delay: number;
    randomizeDelay: boolean;
    maxErrors: number;
    maxCheckFailures: number;
    maxBadInits: number;
    waitTimeoutSecs: number;
    errorStatusCodes: number[];
    /** A null-prototype object. */
    location?: Location | undefined;
    params: InitRequest | undefined;
    checker: Checker | undefined;
    statsPerPool: boolean;
    maxUsageCount?: number | undefined;
    maxAgeSecs?: number | undefined;
    registry: SessionConfigLookup;
    persistState: ResolvedPersistStateOptions;
    adaptiveLifetime: boolean;
    hookTimeoutSecs: number;
    poolIdleSecs: number;
    statusIntervalSecs: number;
    /** `undefined`: true. */
    report?: boolean | undefined;
    /** `undefined`: the in-memory default. */
    store: SessionStore | undefined;
}
