import type { EndReason, ManagedSession } from '../pools/managed-session.js';

/** How a session's bar ends in the report: an {@link EndReason}, or still in rotation when the report was made. */
export type TimelineEnd = EndReason | 'alive';

/** One session's life, as the report draws it. Times are ms since the epoch (the engine's clock). */
export interface SessionRecord {
    poolId: string;
    sessionId: string;
    /** When its init started (for a restored session: when it joined the pool). */
    initStartAt: number;
    /** When its init passed and it entered rotation. */
    readyAt: number;
    /** When it left rotation; `undefined` while it is in rotation. */
    endAt: number | undefined;
    endReason: TimelineEnd;
    /** Requests it carried (assignments). */
    uses: number;
    /** Restored from a saved record, without an init in this run. */
    restored: boolean;
}

/** Per-pool totals: never capped, unlike the session records. */
export interface PoolTimelineTotals {
    poolId: string;
    /** Sessions that entered rotation (inits passed, plus restored ones). */
    sessions: number;
    initsPassed: number;
    initsFailed: number;
    /** Total and longest duration of passed inits (ms). */
    initMsTotal: number;
    initMsMax: number;
    /** Total duration of failed inits (ms). */
    failedInitMsTotal: number;
    /** Session requests (acquire calls that got a session), with their total and longest wait (ms). */
    acquires: number;
    waitMsTotal: number;
    waitMsMax: number;
    /** Sessions ended, by reason. */
    ended: Partial<Record<EndReason, number>>;
}

/** What the engine hands to the report renderer. */
export interface SessionReportData {
    /** When the report was made (ms since the epoch): the end of still-open bars. */
    generatedAt: number;
    closeReason: string | undefined;
    stats: Record<string, number>;
    pools: PoolReportData[];
    /** Session records left out because of the cap (oldest first). */
    droppedSessions: number;
    /** Pools left out: beyond the {@link MAX_REPORT_POOLS} most active, or whose totals were folded away. */
    omittedPools?: number;
}

export interface PoolReportData {
    id: string;
    /** Target size, when the pool is known to the engine. */
    size: number | undefined;
    totals: PoolTimelineTotals;
    /** Its sessions, oldest init first. */
    sessions: SessionRecord[];
}

/** Session records kept per manager: the newest ones, so memory stays bounded on long crawls. */
export const MAX_TIMELINE_SESSIONS = 5_000;
/** Pools the report shows: the most active ones (a crawl over thousands of hosts stays readable). */
export const MAX_REPORT_POOLS = 100;
/** Pools whose totals are kept; past it, the oldest pool's totals are dropped (and counted). */
export const MAX_POOL_TOTALS = 10_000;

interface OpenRecord {
    record: SessionRecord;
    session: ManagedSession;
}

/**
 * The session lifecycle as the report shows it: one record per session (capped) and per-pool
 * totals. Every hook is O(1) on plain objects; nothing here is on the hot path but a lookup.
 */
export class SessionTimeline {
    readonly #max: number;
    readonly #records: SessionRecord[] = [];
    /** Records of sessions still in rotation, by session, so the end hooks find them. */
    readonly #open = new Map<ManagedSession, OpenRecord>();
    readonly #totals = new Map<string, PoolTimelineTotals>();
    #dropped = 0;
    /** Pools whose totals were dropped for {@link MAX_POOL_TOTALS}. */
    #foldedPools = 0;

    constructor(max = MAX_TIMELINE_SESSIONS) {
        this.#max = max;
    }

    /** An init finished: `session` when it passed, `undefined` when it failed. */
    initFinished(poolId: string, startedAt: number, endedAt: number, session: ManagedSession | undefined): void {
        const totals = this.totalsOf(poolId);
        const took = Math.max(0, endedAt - startedAt);
        if (!session) {
            totals.initsFailed++;
            totals.failedInitMsTotal += took;
            return;
        }
        totals.initsPassed++;
        totals.initMsTotal += took;
        if (took > totals.initMsMax) totals.initMsMax = took;
        this.#add(poolId, session, startedAt, endedAt, false);
    }

    /** A saved session joined its pool without an init. */
    restored(poolId: string, session: ManagedSession, at: number): void {
        this.#add(poolId, session, at, at, true);
    }

    /** The totals of pool `poolId`, created on first use (the oldest pool's are folded away past {@link MAX_POOL_TOTALS}). */
    totalsOf(poolId: string): PoolTimelineTotals {
        let totals = this.#totals.get(poolId);
        if (!totals) {
            if (this.#totals.size >= MAX_POOL_TOTALS) {
                this.#totals.delete(this.#totals.keys().next().value!);
                this.#foldedPools++;
            }
            totals = {
                poolId,
                sessions: 0,
                initsPassed: 0,
                initsFailed: 0,
                initMsTotal: 0,
                initMsMax: 0,
                failedInitMsTotal: 0,
                acquires: 0,
                waitMsTotal: 0,
                waitMsMax: 0,
                ended: {},
            };
            this.#totals.set(poolId, totals);
        }
        return totals;
    }

    /**
     * A request of pool `poolId` waited `waitedMs` (> 0) for its session. Its acquire itself is
     * counted by the live pool (`PoolUsage.acquires`, passed to {@link data}), or by
     * {@link addAcquires} once the pool is gone: a lookup here per request cost a cache miss with
     * 10,000 pools.
     */
    waited(poolId: string, waitedMs: number): void {
        const totals = this.totalsOf(poolId);
        totals.waitMsTotal += waitedMs;
        if (waitedMs > totals.waitMsMax) totals.waitMsMax = waitedMs;
    }

    /** Pool `poolId` was evicted after `count` acquires: they join its totals. */
    addAcquires(poolId: string, count: number): void {
        if (count > 0) this.totalsOf(poolId).acquires += count;
    }

    /** `session` left rotation for `reason` at `at`. Ignored for a session already ended or unknown. */
    ended(session: ManagedSession, reason: EndReason, at: number): void {
        const open = this.#open.get(session);
        if (!open) return;
        this.#open.delete(session);
        this.#close(open, reason, at);
    }

    /**
     * The records and totals, with sessions still in rotation shown up to `now`. `pools` are the
     * pools the engine knows, with the acquires the live ones counted themselves.
     */
    data(
        now: number,
        pools: { id: string; size: number; acquires?: number }[],
        stats: Record<string, number>,
        closeReason?: string,
    ): SessionReportData {
        // A shared store may end a session without a hook here (another process discarded it).
        for (const [session, open] of this.#open) {
            if (session.endReason !== undefined) {
                this.#open.delete(session);
                this.#close(open, session.endReason, now);
            } else {
                open.record.uses = session.uses;
            }
        }
        const sizes = new Map(pools.map((pool) => [pool.id, pool.size]));
        const liveAcquires = new Map(pools.map((pool) => [pool.id, pool.acquires ?? 0]));
        const byPool = new Map<string, SessionRecord[]>();
        for (const record of this.#records) {
            let list = byPool.get(record.poolId);
            if (!list) {
                list = [];
                byPool.set(record.poolId, list);
            }
            list.push({ ...record });
        }
        const all = [...new Set([...sizes.keys(), ...this.#totals.keys()])];
        const activity = (id: string) => {
            const totals = this.#totals.get(id);
            const counted = totals ? totals.acquires + totals.sessions + totals.initsFailed : 0;
            return counted + (liveAcquires.get(id) ?? 0);
        };
        // The most active pools, in the order they first appeared.
        const shownIds =
            all.length <= MAX_REPORT_POOLS
                ? all
                : new Set([...all].sort((a, b) => activity(b) - activity(a)).slice(0, MAX_REPORT_POOLS));
        const ids = all.filter((id) => (shownIds instanceof Set ? shownIds.has(id) : true));
        const result: SessionReportData = {
            generatedAt: now,
            closeReason,
            stats,
            droppedSessions: this.#dropped,
            omittedPools: all.length - ids.length + this.#foldedPools,
            pools: ids.map((id) => ({
                id,
                size: sizes.get(id),
                totals: this.#withLive(this.totalsOf(id), liveAcquires.get(id) ?? 0),
                sessions: (byPool.get(id) ?? []).sort((a, b) => a.initStartAt - b.initStartAt),
            })),
        };
        return result;
    }

    /** A copy of `totals` with the acquires its live pool counted since. */
    #withLive(totals: PoolTimelineTotals, acquires: number): PoolTimelineTotals {
        const copy = structuredClone(totals);
        copy.acquires += acquires;
        return copy;
    }

    #add(poolId: string, session: ManagedSession, initStartAt: number, readyAt: number, restored: boolean): void {
        this.totalsOf(poolId).sessions++;
        const record: SessionRecord = {
            poolId,
            sessionId: session.id,
            initStartAt,
            readyAt,
            endAt: undefined,
            endReason: 'alive',
            uses: session.uses,
            restored,
        };
        this.#records.push(record);
        this.#open.set(session, { record, session });
        if (this.#records.length >= this.#max + Math.ceil(this.#max / 10)) this.#trim();
    }

    #close(open: OpenRecord, reason: EndReason, at: number): void {
        const { record, session } = open;
        record.endAt = at;
        record.endReason = reason;
        record.uses = session.uses;
        this.totalsOf(record.poolId).ended[reason] = (this.totalsOf(record.poolId).ended[reason] ?? 0) + 1;
    }

    /** Drops the oldest records in one batch (amortised O(1) per session). */
    #trim(): void {
        const drop = this.#records.length - this.#max;
        const gone = this.#records.splice(0, drop);
        this.#dropped += drop;
        const goneSet = new Set(gone);
        for (const [session, open] of this.#open) if (goneSet.has(open.record)) this.#open.delete(session);
    }
}
