import { randomUUID } from 'node:crypto';
import type { Request } from '@crawlee/core';
import type { TimerHandle } from '../clock.js';
import { NoSessionAvailableError, SessionsClosedError, TooManyBadSessionInitsError } from '../errors.js';
import type { FailureKind, PoolBackend, PoolHost, PoolSnapshot, StoredSession } from '../pools/backend.js';
import type { LifetimeLearner } from '../pools/lifetime.js';
import { type EndReason, type ManagedSession, replaceSessionState } from '../pools/managed-session.js';
import {
    ageLimitMs,
    averageInitMs,
    isPastAge,
    learnedLifetime,
    lifetimeLearner,
    nextUseAt,
    retiresAfterUse,
    usesLimit,
} from '../pools/policy.js';
import { PoolUsage } from '../pools/usage.js';
import { describeError } from '../redact.js';
import type { ResolvedPoolOptions } from '../types.js';
import type {
    SharedDiscardOutcome,
    SharedPoolEvent,
    SharedPoolState,
    SharedSessionInfo,
    StoreProblem,
} from './shared-state.js';

/**
 * A safety net, not the way waiting works: waiters are woken by the store's events and by a timer
 * for the earliest next-use time or lease expiry. This re-check only covers an event lost while
 * the store's connection was down.
 */
export const SHARED_RECHECK_MS = 5_000;

/** What each problem was, and what became of the pool, for the one warning per pool and problem. */
const PROBLEM_TEXT: Record<StoreProblem, [what: string, after: string]> = {
    'session-state': [
        'a session whose cookies or userData cannot be read',
        'the pool initialises new sessions as it needs them',
    ],
    'session-fields': [
        'a session with missing or non-integer counters',
        'the pool initialises new sessions as it needs them',
    ],
    'session-type': ['a session key of the wrong Redis type', 'the pool initialises new sessions as it needs them'],
    'session-missing': [
        'a session id whose session hash is gone',
        'the pool initialises new sessions as it needs them',
    ],
    'pool-key-type': [
        'a pool key of the wrong Redis type',
        'what it held is lost, and the pool initialises new sessions as it needs them',
    ],
    'pool-counter': ['a non-integer pool counter', 'the counter starts again from 0'],
    'closed-flag': ['an unreadable stop flag', 'the pool goes on'],
    'endless-slot': ['an init slot or lease that would never expire', 'the pool can use it again'],
};

interface Waiter {
    request: Request;
    avoid: ManagedSession | undefined;
    /** Holds an init slot: served by the session its init creates. */
    initing: boolean;
    resolve(session: ManagedSession): void;
    reject(error: Error): void;
    timer: TimerHandle;
}

/** What this process last wrote or read of a session's state. */
interface Known {
    version: number;
    json: string;
}

/** The part of a session's state that travels between processes: cookies and `userData`. */
export function sessionStateJson(managed: ManagedSession): string {
    const state = managed.session.getState();
    return JSON.stringify({ userData: state.userData ?? {}, cookieJar: state.cookieJar });
}

/** A session as a shared store keeps it. */
export function toStoredSession(managed: ManagedSession): StoredSession {
    const state = managed.session.getState();
    return {
        id: managed.id,
        createdAt: managed.createdAt,
        proxyUrl: managed.proxyUrl,
        userData: (state.userData ?? {}) as Record<string, unknown>,
        cookieJar: state.cookieJar as unknown as Record<string, unknown>,
    };
}

/**
 * A pool whose state lives in a shared store ({@link SharedPoolState}): the pool size, `delay`,
 * exclusive leases, discards and the bad-init limit hold across every process that uses the
 * store. This process keeps only its waiters, its own sessions' objects (refreshed when another
 * process changed their state) and the timers that wake its waiters.
 *
 * Waiting is event-driven: the store's events (a session ready, released or discarded) and one
 * timer for the earliest moment something becomes due (next-use time, lease or claim expiry)
 * wake the waiters; {@link SHARED_RECHECK_MS} is a slow safety re-check.
 */
export class SharedPool extends PoolUsage implements PoolBackend {
    readonly id: string;
    readonly options: ResolvedPoolOptions;
    readonly #host: PoolHost;
    readonly #state: SharedPoolState;
    readonly #waiters: Waiter[] = [];
    /** This process's objects of the sessions in rotation, by id. */
    readonly #sessions = new Map<string, ManagedSession>();
    readonly #known = new WeakMap<ManagedSession, Known>();
    /** Init slots this process holds (renewed until the init ends). */
    readonly #claims = new Set<string>();
    /** Exclusive leases this process holds, by session id (renewed until released). */
    readonly #leases = new Set<string>();
    readonly #pending = new Set<Promise<void>>();
    /** Attempts served and not yet released; their leases and cookies go back before the connection closes. */
    #attempts = 0;
    readonly #onRelease: (() => void)[] = [];
    readonly #learner: LifetimeLearner | undefined;
    readonly #unsubscribe: () => void;
    #ready = 0;
    #initializing = 0;
    #badInits = 0;
    #discarded = 0;
    #initMsAverage = 0;
    #dispatching = false;
    #again = false;
    #wakeTimer: TimerHandle | undefined;
    #wakeAt = Number.POSITIVE_INFINITY;
    #recheckTimer: TimerHandle | undefined;
    #renewTimer: TimerHandle | undefined;
    #closedReason: string | undefined;
    #closedError: Error | undefined;
    /** Store problems this pool already warned about (one warning per kind). */
    readonly #warned = new Set<StoreProblem>();

    constructor(id: string, options: ResolvedPoolOptions, host: PoolHost, state: SharedPoolState) {
        super();
        this.id = id;
        this.options = options;
        this.#host = host;
        this.#state = state;
        this.#learner = lifetimeLearner(host);
        this.#unsubscribe = state.subscribe((event) => this.#onEvent(event));
    }

    get badInits(): number {
        return this.#badInits;
    }

    get closed(): boolean {
        return this.#closedError !== undefined;
    }

    get closedReason(): string | undefined {
        return this.#closedReason;
    }

    /** `ready` is the count in the store when this process last looked. */
    snapshot(): PoolSnapshot {
        const lifetime = learnedLifetime(this.#learner);
        return {
            id: this.id,
            size: this.options.size,
            ready: this.#ready,
            initializing: this.#initializing,
            waiting: this.#waiters.length,
            discarded: this.#discarded,
            ...(lifetime ? { lifetime } : {}),
        };
    }

    expiredOnSite(session: ManagedSession, passes: number): void {
        this.#learner?.record(passes, this.#host.clock.now() - session.createdAt);
    }

    acquire(request: Request, avoid?: ManagedSession): Promise<ManagedSession> {
        if (this.#closedError) return Promise.reject(this.#closedError);
        return new Promise<ManagedSession>((resolve, reject) => {
            const waiter: Waiter = {
                request,
                avoid,
                initing: false,
                resolve,
                reject,
                timer: this.#host.clock.setTimeout(() => this.#timeOut(waiter), this.#host.waitTimeoutSecs * 1000),
            };
            this.#waiters.push(waiter);
            this.#dispatch();
        });
    }

    release(session: ManagedSession): void {
        this.#attempts = Math.max(0, this.#attempts - 1);
        try {
            this.#release(session);
        } finally {
            for (const resolve of this.#onRelease.splice(0)) resolve();
        }
    }

    #release(session: ManagedSession): void {
        session.released();
        const lease = this.#leases.delete(session.id);
        const known = this.#known.get(session);
        let state: string | undefined;
        // A discarded session's state is gone from the store; only a live one's cookies travel.
        if (session.endReason === undefined && known) {
            const json = sessionStateJson(session);
            if (json !== known.json) {
                known.json = json;
                state = json;
            }
        }
        if (!lease && state === undefined) return;
        this.#track(
            this.#state.release({ id: session.id, lease, state }).then((version) => {
                if (version !== undefined && known) known.version = version;
            }),
        );
    }

    discard(session: ManagedSession, reason: EndReason, trigger: Request): boolean {
        if (!this.#end(session, reason)) return false;
        this.#removeInStore(trigger, (claim, now) =>
            this.#state.discard({ id: session.id, now, size: this.options.size, claim }),
        );
        return true;
    }

    countFailure(
        session: ManagedSession,
        kind: FailureKind,
        limit: number,
        reason: EndReason,
        trigger: Request,
    ): boolean {
        session[kind]++;
        if (session[kind] >= limit) return this.discard(session, reason, trigger);
        if (session.endReason !== undefined) return false;
        // Below the limit here, but other processes count against the same session: the store decides.
        this.#removeInStore(trigger, (claim, now) =>
            this.#state.fail({ id: session.id, kind, limit, now, size: this.options.size, claim }),
        ).then((outcome) => {
            if (outcome === 'removed' || outcome === 'replacing') this.#end(session, reason);
        });
        return false;
    }

    close(reason: string | undefined, error?: Error): void {
        if (this.#closedError) return;
        this.#closedReason = reason;
        this.#closedError = error ?? new SessionsClosedError(this.id, reason);
        this.#unsubscribe();
        this.#cancelWake();
        this.#stopRecheck();
        if (this.#renewTimer !== undefined) this.#host.clock.clearTimeout(this.#renewTimer);
        this.#renewTimer = undefined;
        for (const waiter of this.#waiters.splice(0)) {
            this.#host.clock.clearTimeout(waiter.timer);
            waiter.reject(this.#closedError);
        }
    }

    /**
     * Resolves once every attempt this pool served was released and every store write it started
     * finished. The store's connection waits for it (for a bounded time) before it closes, so the
     * last cookies and leases reach the store even when the crawl stopped with attempts in flight.
     */
    async settled(): Promise<void> {
        for (;;) {
            if (this.#pending.size > 0) {
                await Promise.allSettled([...this.#pending]);
            } else if (this.#attempts > 0) {
                await new Promise<void>((resolve) => this.#onRelease.push(resolve));
            } else {
                return;
            }
        }
    }

    /** The store keeps the sessions: the key-value record needs none of them. */
    persistable(): readonly ManagedSession[] {
        return [];
    }

    /** Sessions restored from a key-value record are not used: the store's sessions are the truth. */
    adopt(): void {}

    /** Runs store work in the background, tracked for {@link settled}; a store failure is logged, never thrown. */
    #track<T>(work: Promise<T>): Promise<T | undefined> {
        const tracked = work.then(
            (value) => value,
            (error: unknown) => {
                if (!this.#closedError) {
                    this.#host.log.warning(`Session store error in pool ${this.id}: ${describeError(error)}`);
                }
                return undefined;
            },
        );
        const done = tracked.then(() => undefined);
        this.#pending.add(done);
        void done.finally(() => this.#pending.delete(done));
        return tracked;
    }

    #now(): number {
        return this.#host.clock.now();
    }

    #nextUseAt(now: number): number {
        return nextUseAt(now, this.options.delay, this.options.randomizeDelay, this.#host.random);
    }

    /** Wakes the dispatch loop; one loop runs at a time, and an event during a store call runs it again. */
    #dispatch(): void {
        if (this.#closedError) return;
        if (this.#dispatching) {
            this.#again = true;
            return;
        }
        this.#dispatching = true;
        this.#again = false;
        void this.#track(this.#dispatchLoop()).finally(() => {
            this.#dispatching = false;
            if (this.#again) this.#dispatch();
            else this.#updateRecheck();
        });
    }

    /** Serves waiters in arrival order until one must wait. */
    async #dispatchLoop(): Promise<void> {
        for (;;) {
            this.#again = false;
            const waiter = this.#waiters.find((w) => !w.initing);
            if (this.#closedError || !waiter) return;
            const now = this.#now();
            const claim = randomUUID();
            // Drawn before the store says whether it assigns a session; the one the session then keeps.
            const next = this.#nextUseAt(now);
            const known = new Map<string, number>();
            for (const [id, managed] of this.#sessions) known.set(id, this.#known.get(managed)?.version ?? 0);
            const result = await this.#state.take({
                now,
                size: this.options.size,
                nextUseAt: next,
                exclusive: this.options.exclusive,
                avoid: waiter.avoid?.id,
                claim,
                known,
            });
            if (result.kind === 'closed') {
                this.#closedByStore(result.reason, result.badInits);
                return;
            }
            this.#ready = result.ready;
            if (result.kind === 'wait') {
                if (result.wakeAt !== undefined) this.#scheduleWake(result.wakeAt);
                if (this.#again) continue;
                return;
            }
            // The waiter may have timed out during the call: serve the next one in line instead.
            const target = this.#waiters.includes(waiter) ? waiter : this.#waiters.find((w) => !w.initing);
            if (result.kind === 'corrupt') {
                await this.#dropCorrupt(result.id, target, waiter.request);
                continue;
            }
            if (result.kind === 'init') {
                if (!target || this.#closedError) {
                    this.#track(this.#state.abandon(claim));
                    continue;
                }
                target.initing = true;
                this.#initOne(claim, target.request, target);
                continue;
            }
            const id = result.session.id;
            if (this.options.exclusive) this.#holdLease(id);
            const managed = this.#materialise(result.session);
            if (managed === 'corrupt') {
                await this.#dropCorrupt(id, target, waiter.request);
                continue;
            }
            if (!managed || !target || this.#closedError) {
                this.#giveBack(id);
                continue;
            }
            if (isPastAge(managed.createdAt, now, this.#ageLimitMs(), 0)) {
                // Too old to use at all: retired on the way, and the waiter takes another.
                this.#retire(managed, target.request);
                this.#giveBack(id);
                continue;
            }
            this.#serve(target, managed, now, next);
        }
    }

    /**
     * This process's object for a session the store assigned, refreshed when its state changed
     * elsewhere; `undefined` when this process dropped it while the store call was under way.
     */
    #materialise(info: SharedSessionInfo): ManagedSession | undefined | 'corrupt' {
        let managed = this.#sessions.get(info.id);
        try {
            if (!managed) {
                if (!info.stored) return undefined;
                managed = this.#host.sessionFrom(this, info.stored);
                this.#sessions.set(info.id, managed);
            } else if (info.stored) {
                replaceSessionState(managed.session, info.stored);
            }
        } catch {
            // A cookie jar Crawlee cannot load (the error may quote cookies: not logged).
            return 'corrupt';
        }
        if (info.stored) this.#known.set(managed, { version: info.version, json: sessionStateJson(managed) });
        managed.uses = info.uses;
        managed.errors = info.errors;
        managed.checkFailures = info.checkFailures;
        return managed;
    }

    /** Hands `managed`, assigned by the store with next-use time `nextUseAt`, to `waiter`. */
    #serve(waiter: Waiter, managed: ManagedSession, now: number, nextUseAt: number): void {
        this.#removeWaiter(waiter);
        this.#attempts++;
        managed.inFlight++;
        managed.nextUseAt = nextUseAt;
        // `uses` counts this assignment: the store counted it when it handed the session out.
        if (
            retiresAfterUse(
                managed.uses,
                managed.createdAt,
                now,
                usesLimit(this.#host, this.#learner),
                this.#ageLimitMs(),
                this.#initMsAverage,
            )
        ) {
            this.#retire(managed, waiter.request);
        }
        waiter.resolve(managed);
    }

    /**
     * Drops a session whose stored state cannot be read: out of this process and out of the store
     * (once, whichever process gets there first), and its replacement serves `target`.
     */
    async #dropCorrupt(id: string, target: Waiter | undefined, trigger: Request): Promise<void> {
        this.#corrupt('session-state', this.#state.entryOf(id));
        this.#leases.delete(id);
        const managed = this.#sessions.get(id);
        if (managed) this.#end(managed, 'discarded-elsewhere');
        const claim = randomUUID();
        const outcome = await this.#state.discard({ id, now: this.#now(), size: this.options.size, claim });
        if (outcome === 'removed' || outcome === 'replacing') this.#ready = Math.max(0, this.#ready - 1);
        if (outcome !== 'replacing') return;
        if (this.#closedError) {
            this.#track(this.#state.abandon(claim));
            return;
        }
        const waiter = target && this.#waiters.includes(target) && !target.initing ? target : undefined;
        if (waiter) waiter.initing = true;
        this.#initOne(claim, waiter?.request ?? trigger, waiter);
    }

    /** One warning per pool and kind of problem; it names where, never what the entry held. */
    #corrupt(problem: StoreProblem, entry: string): void {
        if (this.#warned.has(problem)) return;
        this.#warned.add(problem);
        const [what, after] = PROBLEM_TEXT[problem];
        this.#host.log.warning(
            `Pool ${this.id}: dropped ${what} from the session store (key ${entry}); ${after}. ` +
                'Something other than this version of managed-sessions wrote under this prefix. ' +
                'Further problems of this kind in this pool are fixed without a warning.',
        );
    }

    /** A session assigned to this process that no waiter takes: its lease goes back at once. */
    #giveBack(id: string): void {
        if (!this.#leases.delete(id)) return;
        this.#track(this.#state.release({ id, lease: true, state: undefined }));
    }

    #initOne(claim: string, trigger: Request, waiter: Waiter | undefined): void {
        this.#claims.add(claim);
        this.#scheduleRenew();
        this.#initializing++;
        const started = this.#now();
        const run = async () => {
            try {
                let session: ManagedSession | undefined;
                try {
                    session = await this.#host.init(this, trigger);
                } finally {
                    this.#initializing--;
                }
                if (this.#closedError) await this.#state.abandon(claim);
                else if (session) await this.#added(claim, session, started, waiter);
                else await this.#initFailed(claim, waiter);
            } finally {
                // A claim left behind by a store failure expires by itself once no longer renewed.
                this.#claims.delete(claim);
                if (waiter) waiter.initing = false;
                this.#dispatch();
            }
        };
        this.#track(run());
    }

    async #added(claim: string, session: ManagedSession, started: number, waiter: Waiter | undefined): Promise<void> {
        const now = this.#now();
        this.#initMsAverage = averageInitMs(this.#initMsAverage, now - started);
        const assign = waiter && this.#waiters.includes(waiter) ? { nextUseAt: this.#nextUseAt(now) } : undefined;
        const exclusive = this.options.exclusive;
        const version = await this.#state.add({
            claim,
            session: toStoredSession(session),
            now,
            assign: assign ? { nextUseAt: assign.nextUseAt, exclusive } : undefined,
        });
        if (version === undefined) return; // closed meanwhile: the store's `closed` event stops this pool
        this.#badInits = 0;
        this.#ready++;
        this.#sessions.set(session.id, session);
        this.#known.set(session, { version, json: sessionStateJson(session) });
        if (!assign) return;
        session.uses = 1;
        if (exclusive) this.#holdLease(session.id);
        if (this.#closedError || !waiter || !this.#waiters.includes(waiter)) {
            this.#giveBack(session.id);
            return;
        }
        this.#removeWaiter(waiter);
        this.#attempts++;
        session.inFlight++;
        session.nextUseAt = assign.nextUseAt;
        waiter.resolve(session);
    }

    async #initFailed(claim: string, waiter: Waiter | undefined): Promise<void> {
        const result = await this.#state.initFailed({ claim, maxBadInits: this.options.maxBadInits });
        this.#badInits = result.badInits;
        if (result.closed) this.#closedByStore('bad_session_inits', result.badInits);
        // Otherwise the waiter, back in line, opens another slot (or takes a session) on the next dispatch.
        else if (waiter) waiter.initing = false;
    }

    /** Marks a session gone in this process. Returns `false` when it had already gone. */
    #end(session: ManagedSession, reason: EndReason): boolean {
        if (!session.end(reason)) return false;
        this.#discarded++;
        if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
        return true;
    }

    /** Runs a store removal; when it removed the session and claimed a slot, this process initialises the replacement. */
    #removeInStore(
        trigger: Request,
        remove: (claim: string, now: number) => Promise<SharedDiscardOutcome | 'counted'>,
    ): Promise<SharedDiscardOutcome | 'counted' | undefined> {
        const claim = randomUUID();
        return this.#track(
            remove(claim, this.#now()).then((outcome) => {
                if (outcome === 'removed' || outcome === 'replacing') this.#ready = Math.max(0, this.#ready - 1);
                if (outcome === 'replacing') {
                    if (this.#closedError) void this.#track(this.#state.abandon(claim));
                    else this.#initOne(claim, trigger, undefined);
                }
                return outcome;
            }),
        );
    }

    #retire(session: ManagedSession, trigger: Request): void {
        if (!session.end('expired')) return;
        this.#discarded++;
        if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
        // Counted as expired only by the process whose removal won, so each retirement counts once.
        void this.#removeInStore(trigger, (claim, now) =>
            this.#state.discard({ id: session.id, now, size: this.options.size, claim }),
        ).then((outcome) => {
            if (outcome === 'removed' || outcome === 'replacing') this.#host.expired(this, session);
        });
    }

    #ageLimitMs(): number | undefined {
        return ageLimitMs(this.#host, this.#learner);
    }

    #onEvent(event: SharedPoolEvent): void {
        if (event.type === 'corrupt') {
            this.#corrupt(event.problem, event.entry);
            return;
        }
        if (this.#closedError) return;
        if (event.type === 'closed') {
            this.#closedByStore(event.reason, event.badInits);
            return;
        }
        if (event.type === 'discarded') {
            const managed = this.#sessions.get(event.session);
            // Discarded by another process (or by a count in the store): never handed out here again.
            if (managed) this.#sessions.delete(event.session);
            managed?.end('discarded-elsewhere');
        }
        if (this.#waiters.some((w) => !w.initing)) this.#dispatch();
    }

    #closedByStore(reason: string, badInits: number): void {
        if (this.#closedError) return;
        this.#badInits = badInits;
        if (reason === 'bad_session_inits') {
            const error = new TooManyBadSessionInitsError(this.id, badInits);
            // Close this pool first, so its waiters get this error rather than the manager's generic one.
            this.close(reason, error);
            this.#host.badInits(this, error);
        } else {
            this.close(reason);
        }
    }

    #holdLease(id: string): void {
        this.#leases.add(id);
        this.#scheduleRenew();
    }

    /** Keeps this process's claims and leases alive while it holds any; a crashed process's expire. */
    #scheduleRenew(): void {
        if (this.#renewTimer !== undefined || this.#closedError) return;
        const clock = this.#host.clock;
        this.#renewTimer = clock.setTimeout(
            () => {
                this.#renewTimer = undefined;
                if (this.#closedError || (this.#claims.size === 0 && this.#leases.size === 0)) return;
                this.#track(
                    this.#state.renew({
                        until: this.#now() + this.#state.leaseMs,
                        claims: [...this.#claims],
                        leases: [...this.#leases],
                    }),
                );
                this.#scheduleRenew();
            },
            Math.max(1, Math.floor(this.#state.leaseMs / 3)),
        );
    }

    #scheduleWake(at: number): void {
        if (at >= this.#wakeAt) return;
        this.#cancelWake();
        this.#wakeAt = at;
        this.#wakeTimer = this.#host.clock.setTimeout(
            () => {
                this.#wakeTimer = undefined;
                this.#wakeAt = Number.POSITIVE_INFINITY;
                this.#dispatch();
            },
            Math.max(0, at - this.#now()),
        );
    }

    #cancelWake(): void {
        if (this.#wakeTimer !== undefined) this.#host.clock.clearTimeout(this.#wakeTimer);
        this.#wakeTimer = undefined;
        this.#wakeAt = Number.POSITIVE_INFINITY;
    }

    /** The safety re-check runs only while a request waits; no timer outlives the waits it serves. */
    #updateRecheck(): void {
        const waiting = this.#waiters.some((w) => !w.initing);
        if (!waiting || this.#closedError) {
            this.#stopRecheck();
            if (!waiting) this.#cancelWake();
            return;
        }
        if (this.#recheckTimer !== undefined) return;
        this.#recheckTimer = this.#host.clock.setTimeout(() => {
            this.#recheckTimer = undefined;
            this.#dispatch();
        }, SHARED_RECHECK_MS);
    }

    #stopRecheck(): void {
        if (this.#recheckTimer !== undefined) this.#host.clock.clearTimeout(this.#recheckTimer);
        this.#recheckTimer = undefined;
    }

    #removeWaiter(waiter: Waiter): void {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        this.#host.clock.clearTimeout(waiter.timer);
        if (this.#waiters.length === 0) {
            this.#cancelWake();
            this.#stopRecheck();
        }
    }

    #timeOut(waiter: Waiter): void {
        if (!this.#waiters.includes(waiter)) return;
        this.#removeWaiter(waiter);
        waiter.reject(
            new NoSessionAvailableError(waiter.request.url, this.id, {
                waitedSecs: this.#host.waitTimeoutSecs,
                ready: this.#ready,
                initializing: this.#initializing,
                badInits: this.#badInits,
                size: this.options.size,
            }),
        );
    }
}
