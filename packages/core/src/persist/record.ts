import type { EventEmitter } from 'node:events';
import type { Log } from '@crawlee/core';
import type { PoolBackend } from '../pools/backend.js';
import { ManagedSession } from '../pools/managed-session.js';
import type { ParamsPairing } from '../pools/pool-id.js';
import { redact } from '../redact.js';
import type { SessionStats } from '../stats.js';
import type { StoreConnection } from '../store/store.js';
import type { ParkedSession, ParkedSessions } from './parked.js';
import {
    type PersistedState,
    persistSession,
    readState,
    restoreSession,
    STATE_FORMAT,
    STATE_VERSION,
} from './state.js';

/** What a snapshot of the engine holds. */
export interface SnapshotSource {
    pools: Iterable<PoolBackend>;
    /** The `sessionParams` fingerprint a live pool is paired with. */
    fingerprintOf(poolId: string): string | undefined;
    parked: ParkedSessions;
    pairings: ParamsPairing[];
    stats: Record<string, number>;
    now: number;
}

/**
 * The record to save: every session in rotation (and parked ones), with counters, per pool; the
 * `host[N]` pairings; and the stats. `cookies: false` leaves cookie values out.
 */
export function snapshotRecord(source: SnapshotSource, cookies: boolean): PersistedState {
    const pools: PersistedState['pools'] = [];
    for (const pool of source.pools) {
        const fingerprint = source.fingerprintOf(pool.id);
        pools.push({
            id: pool.id,
            badInits: pool.badInits,
            sessions: pool.persistable().map((managed) => persistSession(managed, cookies, fingerprint)),
        });
    }
    for (const [id, sessions] of source.parked.entries()) {
        pools.push({
            id,
            badInits: 0,
            sessions: sessions.map(({ managed, paramsFingerprint }) =>
                persistSession(managed, cookies, paramsFingerprint),
            ),
        });
    }
    const paramsPools = source.pairings;
    return {
        format: STATE_FORMAT,
        version: STATE_VERSION,
        savedAt: source.now,
        stats: source.stats,
        pools,
        ...(paramsPools.length > 0 ? { paramsPools } : {}),
    };
}

/** Where a restored record goes. */
export interface RestoreTarget {
    log: Log;
    /** The emitter that owns every session of the engine. */
    hub: EventEmitter;
    stats: SessionStats;
    store: StoreConnection;
    parked: ParkedSessions;
    /** Numbers `sessionParams` as the saved run did (`host[N]`). */
    restorePairings(pairings: ParamsPairing[]): void;
}

/**
 * Restores a record written by {@link snapshotRecord}: stats continue, the `host[N]` pairings come
 * back, and each pool's saved sessions are parked until the pool is first used. Anything
 * unreadable gives one warning and a fresh start. Returns how many sessions were restored.
 */
export function restoreRecord(value: unknown, key: string, target: RestoreTarget): number {
    const { log, store } = target;
    const state = readState(value, log, key);
    if (!state) return 0;
    target.stats.restore(state.stats);
    // Before any pool is chosen: the same params get the same host[N] as in the saved run. A
    // shared store numbers params itself.
    if (state.paramsPools && !store.paramsIndex) target.restorePairings(state.paramsPools);
    // A store that keeps sessions itself (shared between processes) is their source of truth.
    if (store.keepsSessions) return 0;
    let count = 0;
    const unreadable: string[] = [];
    let unusable = 0;
    for (const record of state.pools) {
        const sessions: ParkedSession[] = [];
        for (const saved of record.sessions) {
            const managed = restoreSession(saved, record.id, target.hub, log);
            if (managed instanceof ManagedSession) {
                sessions.push({ managed, paramsFingerprint: saved.paramsFingerprint });
            } else if (managed.kind === 'unreadable') {
                unreadable.push(`pool ${record.id}: ${managed.what}`);
            } else {
                unusable++;
            }
        }
        if (sessions.length > 0) target.parked.park(record.id, sessions);
        count += sessions.length;
    }
    if (unreadable.length > 0) {
        // Pool ids and what was wrong only: the entries themselves hold cookies and proxy passwords.
        const shown =
            unreadable.slice(0, 5).join('; ') + (unreadable.length > 5 ? `; … ${unreadable.length - 5} more` : '');
        log.warning(
            `Dropped ${unreadable.length} saved session(s) of the record under ${key} that could not be read (${redact(shown)}); new sessions replace them.`,
        );
    }
    if (unusable > 0) {
        log.info(
            `${unusable} saved session(s) were not restored: their proxy password was not saved (persistState.cookies: false).`,
        );
    }
    return count;
}
