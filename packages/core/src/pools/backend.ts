import type { Log, Request } from '@crawlee/core';
import type { Clock } from '../clock.js';
import type { TooManyBadSessionInitsError } from '../errors.js';
import type { ResolvedPoolOptions } from '../types.js';
import type { LearnedLifetime } from './lifetime.js';
import type { EndReason, ManagedSession } from './managed-session.js';
import type { PoolUsage } from './usage.js';

/**
 * The contract between the engine and a pool implementation: the in-memory `Pool` (`pool.ts`) and
 * the shared `SharedPool` (`store/shared-pool.ts`) implement {@link PoolBackend} for a
 * {@link PoolHost}. Types only, so neither the pools nor the stores that create them import each other.
 */

/** The counters of a session that count toward its discard. */
export type FailureKind = 'errors' | 'checkFailures';

/** A session as a shared store keeps it: what another process needs to use it. */
export interface StoredSession {
    id: string;
    createdAt: number;
    proxyUrl: string | undefined;
    userData: Record<string, unknown>;
    /** tough-cookie's serialised jar. */
    cookieJar: Record<string, unknown> | undefined;
}

/** What a pool needs from the manager that owns it. */
export interface PoolHost {
    clock: Clock;
    random: () => number;
    log: Log;
    waitTimeoutSecs: number;
    maxUsageCount: number | undefined;
    maxAgeSecs: number | undefined;
    /** Learn each pool's session lifetime from expiries (off when a limit above is set). */
    adaptiveLifetime: boolean;
    /** Creates and initialises one session; `undefined` when the init failed (already counted). */
    init(pool: PoolBackend, trigger: Request): Promise<ManagedSession | undefined>;
    /** A session reached its planned end (usage count or age): counted as `use/expired`. */
    expired(pool: PoolBackend, session: ManagedSession): void;
    /** The pool hit `maxBadInits`: the manager stops the crawl. */
    badInits(pool: PoolBackend, error: TooManyBadSessionInitsError): void;
    /** Rebuilds a session another process created (shared stores), owned like every session of the manager. */
    sessionFrom(pool: PoolBackend, stored: StoredSession): ManagedSession;
}

/** A read-only view of one pool, as `sessions.pools()` reports it. */
export interface PoolSnapshot {
    id: string;
    /** The target number of working sessions. */
    size: number;
    /** Sessions in rotation. */
    ready: number;
    /** Inits under way. */
    initializing: number;
    /** Requests waiting for a session. */
    waiting: number;
    /** Sessions discarded or retired so far. */
    discarded: number;
    /** The session lifetime learned from expiries (option `adaptiveLifetime`), once one is consistent. */
    lifetime?: LearnedLifetime;
}

/**
 * One pool as the engine drives it. The default store gives the in-memory `Pool`; a shared
 * store gives a pool whose membership, rotation and counters live elsewhere (see `SharedPool`).
 * Both extend `PoolUsage`, the engine's bookkeeping about the pool.
 */
export interface PoolBackend extends PoolUsage {
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
     * A backend may return a session that is free now as it is: no promise to resolve, no microtask
     * to wait for, which with 10,000 pools was a tenth of a request's engine time (bench/README.md).
     */
    acquire(request: Request, avoid?: ManagedSession): ManagedSession | Promise<ManagedSession>;
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
