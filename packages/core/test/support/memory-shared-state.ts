/**
 * The unit boundary of `SharedPool`: an in-memory {@link SharedPoolState}, one shared store seen
 * by several "processes" (owners), with the semantics of the Redis package's Lua scripts
 * (`packages/redis/src/scripts.ts`): lazy fill by init slots, the earliest due session first
 * (fewest assignments since on ties), `avoid` only when nothing else is due, exclusive leases,
 * remove-if-present discards that claim one replacement, a bad-init count shared by every process.
 * The Redis integration tests hold the real scripts to the same behaviour.
 */
import type {
    FailureKind,
    SharedDiscardOutcome,
    SharedPoolEvent,
    SharedPoolState,
    SharedTakeResult,
    StoredSession,
    StoreProblem,
} from '@managed-sessions/core/internal';

interface Entry {
    version: number;
    uses: number;
    errors: number;
    checkFailures: number;
    createdAt: number;
    proxyUrl: string | undefined;
    /** `{ userData, cookieJar }` as JSON, as `add` and `release` write it. */
    state: string;
    /** Assignment order, for ties of next-use time. */
    seq: number;
}

type Listener = (event: SharedPoolEvent) => void;

/** One pool's shared state. `state(owner)` is one process's view of it. */
export class MemorySharedStore {
    /** Session id → next-use time (ms), in rotation. */
    readonly ready = new Map<string, number>();
    readonly sessions = new Map<string, Entry>();
    /** Init slot → expiry (ms). */
    readonly claims = new Map<string, number>();
    /** Session id → lease. */
    readonly leases = new Map<string, { until: number; owner: string }>();
    badInits = 0;
    closed: { reason: string; badInits: number } | undefined;
    /** Every store call, by method name, in order. */
    readonly calls: string[] = [];
    #seq = 0;
    readonly #listeners = new Set<Listener>();
    readonly leaseMs: number;

    constructor(leaseMs = 60_000) {
        this.leaseMs = leaseMs;
    }

    /** The view of one process (`owner` holds its leases). */
    state(owner: string): MemorySharedState {
        return new MemorySharedState(this, owner);
    }

    /** Makes a session's cookies and `userData` unreadable, as another program might write them. */
    corruptSession(id: string): void {
        const entry = this.sessions.get(id);
        if (!entry) throw new Error(`no session ${id}`);
        entry.state = '{not json';
        entry.version++;
    }

    /** Pub/sub: every listener of every process gets it, after the call that published it returned. */
    publish(event: SharedPoolEvent): void {
        const listeners = [...this.#listeners];
        setImmediate(() => {
            for (const listener of listeners) listener(event);
        });
    }

    listen(listener: Listener): () => void {
        this.#listeners.add(listener);
        return () => this.#listeners.delete(listener);
    }

    nextSeq(): number {
        return ++this.#seq;
    }

    /** Expired init slots and leases belong to processes that stopped renewing them. */
    purge(now: number): void {
        for (const [claim, until] of this.claims) if (until <= now) this.claims.delete(claim);
        for (const [id, lease] of this.leases) if (lease.until <= now) this.leases.delete(id);
    }

    /** Remove-if-present: only the caller that removes a session claims its replacement. */
    remove(id: string, now: number, size: number, claim: string): SharedDiscardOutcome {
        if (!this.ready.delete(id)) return 'gone';
        this.sessions.delete(id);
        this.leases.delete(id);
        this.publish({ type: 'discarded', session: id });
        this.purge(now);
        if (!this.closed && this.ready.size + this.claims.size < size) {
            this.claims.set(claim, now + this.leaseMs);
            return 'replacing';
        }
        return 'removed';
    }
}

function readState(
    json: string,
): { userData: Record<string, unknown>; cookieJar: Record<string, unknown> } | undefined {
    try {
        const parsed = JSON.parse(json) as { userData?: Record<string, unknown>; cookieJar?: Record<string, unknown> };
        return { userData: parsed.userData ?? {}, cookieJar: parsed.cookieJar as Record<string, unknown> };
    } catch {
        return undefined;
    }
}

/** One process's view of a {@link MemorySharedStore}. */
export class MemorySharedState implements SharedPoolState {
    readonly #store: MemorySharedStore;
    readonly #owner: string;
    readonly #own = new Set<Listener>();

    constructor(store: MemorySharedStore, owner: string) {
        this.#store = store;
        this.#owner = owner;
    }

    get leaseMs(): number {
        return this.#store.leaseMs;
    }

    async take(args: Parameters<SharedPoolState['take']>[0]): Promise<SharedTakeResult> {
        const store = this.#store;
        store.calls.push('take');
        await Promise.resolve();
        const { now, size, nextUseAt, exclusive, avoid, claim, known } = args;
        if (store.closed) return { kind: 'closed', ...store.closed };
        store.purge(now);
        const count = store.ready.size;
        if (count + store.claims.size < size) {
            store.claims.set(claim, now + store.leaseMs);
            return { kind: 'init', ready: count };
        }
        let pick: string | undefined;
        let pickDue = 0;
        let pickSeq = 0;
        let avoided: string | undefined;
        for (const [id, due] of store.ready) {
            if (due > now || (exclusive && store.leases.has(id))) continue;
            if (id === avoid) {
                avoided = id;
                continue;
            }
            const seq = store.sessions.get(id)!.seq;
            if (pick === undefined || due < pickDue || (due === pickDue && seq < pickSeq)) {
                pick = id;
                pickDue = due;
                pickSeq = seq;
            }
        }
        pick ??= avoided;
        if (pick === undefined) {
            let wakeAt: number | undefined;
            const later = (at: number) => {
                if (wakeAt === undefined || at < wakeAt) wakeAt = at;
            };
            for (const due of store.ready.values()) if (due > now) later(due);
            for (const lease of store.leases.values()) later(lease.until);
            for (const until of store.claims.values()) later(until);
            return { kind: 'wait', wakeAt, ready: count };
        }
        const entry = store.sessions.get(pick)!;
        store.ready.set(pick, nextUseAt);
        if (exclusive) store.leases.set(pick, { until: now + store.leaseMs, owner: this.#owner });
        entry.uses++;
        entry.seq = store.nextSeq();
        const session = {
            id: pick,
            version: entry.version,
            uses: entry.uses,
            errors: entry.errors,
            checkFailures: entry.checkFailures,
            createdAt: entry.createdAt,
        };
        if (known.get(pick) === entry.version) return { kind: 'session', ready: count, session };
        const parsed = readState(entry.state);
        if (!parsed) return { kind: 'corrupt', id: pick, ready: count };
        const stored: StoredSession = { id: pick, createdAt: entry.createdAt, proxyUrl: entry.proxyUrl, ...parsed };
        return { kind: 'session', ready: count, session: { ...session, stored } };
    }

    async add(args: Parameters<SharedPoolState['add']>[0]): Promise<number | undefined> {
        const store = this.#store;
        store.calls.push('add');
        await Promise.resolve();
        const { claim, session, now, assign } = args;
        store.claims.delete(claim);
        if (store.closed) return undefined;
        store.badInits = 0;
        store.sessions.set(session.id, {
            version: 1,
            uses: assign ? 1 : 0,
            errors: 0,
            checkFailures: 0,
            createdAt: session.createdAt,
            proxyUrl: session.proxyUrl,
            state: JSON.stringify({ userData: session.userData, cookieJar: session.cookieJar }),
            seq: store.nextSeq(),
        });
        if (assign) {
            store.ready.set(session.id, assign.nextUseAt);
            if (assign.exclusive) {
                store.leases.set(session.id, { until: now + store.leaseMs, owner: this.#owner });
                return 1;
            }
        } else {
            store.ready.set(session.id, session.createdAt);
        }
        store.publish({ type: 'ready', session: session.id });
        return 1;
    }

    async initFailed(args: { claim: string; maxBadInits: number }): Promise<{ badInits: number; closed: boolean }> {
        const store = this.#store;
        store.calls.push('initFailed');
        await Promise.resolve();
        store.claims.delete(args.claim);
        if (store.closed) return { badInits: store.closed.badInits, closed: true };
        const badInits = ++store.badInits;
        if (badInits < args.maxBadInits) return { badInits, closed: false };
        store.closed = { reason: 'bad_session_inits', badInits };
        store.badInits = 0;
        store.publish({ type: 'closed', reason: 'bad_session_inits', badInits });
        return { badInits, closed: true };
    }

    async abandon(claim: string): Promise<void> {
        this.#store.calls.push('abandon');
        await Promise.resolve();
        this.#store.claims.delete(claim);
    }

    async discard(args: { id: string; now: number; size: number; claim: string }): Promise<SharedDiscardOutcome> {
        this.#store.calls.push('discard');
        await Promise.resolve();
        return this.#store.remove(args.id, args.now, args.size, args.claim);
    }

    async fail(args: {
        id: string;
        kind: FailureKind;
        limit: number;
        now: number;
        size: number;
        claim: string;
    }): Promise<SharedDiscardOutcome | 'counted'> {
        const store = this.#store;
        store.calls.push('fail');
        await Promise.resolve();
        const entry = store.sessions.get(args.id);
        if (!store.ready.has(args.id) || !entry) return 'gone';
        entry[args.kind]++;
        if (entry[args.kind] >= args.limit) return store.remove(args.id, args.now, args.size, args.claim);
        return 'counted';
    }

    async release(args: { id: string; lease: boolean; state: string | undefined }): Promise<number | undefined> {
        const store = this.#store;
        store.calls.push('release');
        await Promise.resolve();
        let released = false;
        if (args.lease && store.leases.get(args.id)?.owner === this.#owner) {
            store.leases.delete(args.id);
            released = true;
        }
        let version: number | undefined;
        const entry = store.sessions.get(args.id);
        if (args.state !== undefined && store.ready.has(args.id) && entry) {
            entry.state = args.state;
            version = ++entry.version;
        }
        if (released) store.publish({ type: 'released', session: args.id });
        return version;
    }

    async renew(args: { until: number; claims: readonly string[]; leases: readonly string[] }): Promise<void> {
        const store = this.#store;
        store.calls.push('renew');
        await Promise.resolve();
        for (const claim of args.claims) if (store.claims.has(claim)) store.claims.set(claim, args.until);
        for (const id of args.leases) {
            const lease = store.leases.get(id);
            if (lease?.owner === this.#owner) lease.until = args.until;
        }
    }

    entryOf(id: string): string {
        return `memory:session:${id}`;
    }

    subscribe(listener: Listener): () => void {
        this.#own.add(listener);
        const stop = this.#store.listen(listener);
        return () => {
            this.#own.delete(listener);
            stop();
        };
    }

    /** A corrupt entry this process's own call found and dropped: told to this process only. */
    reportCorrupt(problem: StoreProblem, entry: string): void {
        for (const listener of [...this.#own]) listener({ type: 'corrupt', problem, entry });
    }
}
