import type { Log } from '@crawlee/core';
import type { PoolBackend } from '../pools/backend.js';
import type { ManagedSession } from '../pools/managed-session.js';
import type { SessionTimeline } from '../report/timeline.js';

/**
 * Sessions kept for pools that are not live (evicted, or restored and not used yet): they come back
 * with their pool, and the persisted record holds them. Above this, the oldest pools' go.
 */
export const MAX_PARKED_SESSIONS = 1_000;

/** A saved or evicted session waiting for its pool, with the params fingerprint it was initialised for. */
export interface ParkedSession {
    managed: ManagedSession;
    paramsFingerprint: string | undefined;
}

/** What adopting parked sessions into their pool needs. */
export interface AdoptContext {
    /** The `sessionParams` fingerprint the pool is paired with (`host[N]` pools), if any. */
    paired: string | undefined;
    now: number;
    maxAgeSecs: number | undefined;
    log: Log;
    timeline: SessionTimeline;
}

/** Sessions of pools that are not live, by pool id, oldest pool first, within {@link MAX_PARKED_SESSIONS}. */
export class ParkedSessions {
    readonly #byPool = new Map<string, ParkedSession[]>();
    #count = 0;

    /** Parks `sessions` for pool `id` (replacing what it had); the oldest pools' go above the cap. */
    park(id: string, sessions: ParkedSession[]): void {
        const before = this.#byPool.get(id);
        if (before) this.#count -= before.length;
        this.#byPool.delete(id);
        this.#byPool.set(id, sessions);
        this.#count += sessions.length;
        for (const [oldest, dropped] of this.#byPool) {
            if (this.#count <= MAX_PARKED_SESSIONS || oldest === id) break;
            this.#byPool.delete(oldest);
            this.#count -= dropped.length;
        }
    }

    /** Every pool's parked sessions, for the persisted record. */
    entries(): IterableIterator<[string, ParkedSession[]]> {
        return this.#byPool.entries();
    }

    /**
     * Gives `pool` its parked sessions, as the current options allow: only those initialised for the
     * params the pool is paired with, none older than `maxAgeSecs`, at most the pool's size.
     */
    adoptInto(pool: PoolBackend, context: AdoptContext): void {
        const saved = this.#byPool.get(pool.id);
        if (!saved) return;
        this.#byPool.delete(pool.id);
        this.#count -= saved.length;
        const maxAgeMs = context.maxAgeSecs === undefined ? Number.POSITIVE_INFINITY : context.maxAgeSecs * 1000;
        // A session initialised with other params than the pool is paired with (or saved before
        // pairings were stable) must not serve its requests: another account's session.
        const matching = saved.filter(({ paramsFingerprint }) => paramsFingerprint === context.paired);
        if (matching.length < saved.length) {
            context.log.info(
                `Dropped ${saved.length - matching.length} saved sessions of pool ${pool.id}: they were initialised for other userData.sessionParams.`,
            );
        }
        // Too old for the current maxAgeSecs: dropped quietly (not a planned expiry of this run).
        const now = context.now;
        const usable = matching.filter(({ managed }) => now - managed.createdAt < maxAgeMs).slice(0, pool.options.size);
        for (const { managed } of usable) {
            pool.adopt(managed);
            context.timeline.restored(pool.id, managed, now);
        }
    }
}
