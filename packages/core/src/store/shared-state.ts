import type { FailureKind, StoredSession } from '../pools/backend.js';

/**
 * A session as the shared store reports it when it hands it out. `stored` comes only when the
 * caller does not hold the current version (another process changed its cookies or `userData`).
 */
export interface SharedSessionInfo {
    id: string;
    /** Bumped by every write of the session's state (cookies, `userData`). */
    version: number;
    /** Assignments so far, this one included, across every process. */
    uses: number;
    errors: number;
    checkFailures: number;
    createdAt: number;
    stored?: StoredSession;
}

/**
 * An entry the store found corrupt (written by another program or an incompatible version) and
 * dropped or reset, so that it cannot break the pool:
 * - `session-state`: a session whose cookies or `userData` cannot be read;
 * - `session-fields`: a session with missing or non-integer counters;
 * - `session-type`: a session key of the wrong type;
 * - `session-missing`: a session listed in the pool whose own entry is gone;
 * - `pool-key-type`: one of the pool's own keys of the wrong type;
 * - `pool-counter`: a non-integer pool counter (consecutive bad inits, rotation order), reset to 0;
 * - `closed-flag`: an unreadable stop flag;
 * - `endless-slot`: an init slot or lease scored to expire far beyond any renewal (never).
 */
export type StoreProblem =
    | 'session-state'
    | 'session-fields'
    | 'session-type'
    | 'session-missing'
    | 'pool-key-type'
    | 'pool-counter'
    | 'closed-flag'
    | 'endless-slot';

/** The outcome of {@link SharedPoolState.take}. */
export type SharedTakeResult =
    /** A session, assigned to the caller: its next-use time (and, when exclusive, its lease) is set. */
    | { kind: 'session'; session: SharedSessionInfo; ready: number }
    /** The pool has room: the caller holds an init slot (`claim`) and must init a session. */
    | { kind: 'init'; ready: number }
    /** Nothing is due: try again at `wakeAt` (ms, the callers' clock), or on an event. */
    | { kind: 'wait'; wakeAt: number | undefined; ready: number }
    /** Some process stopped the pool (`maxBadInits`). */
    | { kind: 'closed'; reason: string; badInits: number }
    /**
     * The session assigned to the caller has cookies or `userData` the store cannot read: the
     * caller drops it ({@link SharedPoolState.discard}) and replaces it.
     */
    | { kind: 'corrupt'; id: string; ready: number };

/** What the pool's processes tell each other (a pub/sub channel in Redis). */
export type SharedPoolEvent =
    | { type: 'ready' | 'released'; session: string }
    | { type: 'discarded'; session: string }
    | { type: 'closed'; reason: string; badInits: number }
    /**
     * This process's own store call found a corrupt entry and dropped it (not sent to other
     * processes). `entry` says where (a key name), never what it held.
     */
    | { type: 'corrupt'; problem: StoreProblem; entry: string };

/** The outcome of a discard in the store: who removed the session decides who replaces it. */
export type SharedDiscardOutcome =
    /** It had already gone (another process or attempt discarded it). */
    | 'gone'
    /** This call removed it; no slot was free for a replacement (the pool is full or closed). */
    | 'removed'
    /** This call removed it and holds the replacement's init slot (`claim`). */
    | 'replacing';

/**
 * The atomic steps of one shared pool. Each method is one atomic operation in the store (a Lua
 * script in Redis), so two processes never both take one exclusive session, both replace one
 * discarded session or both miss a bad-init limit. Times are in ms on the engine's clock.
 * Claims (init slots) and leases (exclusive sessions) expire unless renewed, so a crashed
 * process frees them.
 */
export interface SharedPoolState {
    /** How long a claim or lease lasts without renewal. */
    readonly leaseMs: number;
    /**
     * Assigns the due session with the earliest next-use time (not `avoid`, unless it is the only
     * one due; when exclusive, not leased), or, while the pool holds fewer than `size` sessions
     * and init slots, gives the caller an init slot.
     */
    take(args: {
        now: number;
        size: number;
        nextUseAt: number;
        exclusive: boolean;
        avoid: string | undefined;
        claim: string;
        /** The versions the caller holds, by session id. */
        known: ReadonlyMap<string, number>;
    }): Promise<SharedTakeResult>;
    /**
     * Adds a session the caller initialised with its init slot; resets the bad-init count. With
     * `assign`, the session is assigned to the caller at once. Resolves to the session's version,
     * or `undefined` when the pool was closed meanwhile.
     */
    add(args: {
        claim: string;
        session: StoredSession;
        now: number;
        assign: { nextUseAt: number; exclusive: boolean } | undefined;
    }): Promise<number | undefined>;
    /** An init with `claim` failed: counts a consecutive bad init; at `maxBadInits` closes the pool for every process. */
    initFailed(args: { claim: string; maxBadInits: number }): Promise<{ badInits: number; closed: boolean }>;
    /** Gives back an init slot without an outcome (the init was cancelled). */
    abandon(claim: string): Promise<void>;
    /** Removes a session if still present; only then, with room, claims its replacement's init slot. */
    discard(args: { id: string; now: number; size: number; claim: string }): Promise<SharedDiscardOutcome>;
    /** Counts a failure of `kind`; at `limit` discards the session like {@link discard}. */
    fail(args: {
        id: string;
        kind: FailureKind;
        limit: number;
        now: number;
        size: number;
        claim: string;
    }): Promise<SharedDiscardOutcome | 'counted'>;
    /**
     * An attempt is over: frees the caller's lease (when `lease`) and writes the session's state
     * (when given). Resolves to the new version when it wrote, else `undefined`.
     */
    release(args: { id: string; lease: boolean; state: string | undefined }): Promise<number | undefined>;
    /** Extends the caller's claims and leases to `until`. */
    renew(args: { until: number; claims: readonly string[]; leases: readonly string[] }): Promise<void>;
    /** Where the store keeps session `id` (a key name), for warnings. */
    entryOf(id: string): string;
    /** Listens to the pool's events; returns the function that stops listening. */
    subscribe(listener: (event: SharedPoolEvent) => void): () => void;
}
