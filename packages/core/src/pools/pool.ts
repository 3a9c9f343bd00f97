import type { Request } from '@crawlee/core';
import { clampTimerMs, setLongTimeout, type TimerHandle } from '../clock.js';
import { NoSessionAvailableError, SessionsClosedError, TooManyBadSessionInitsError } from '../errors.js';
import type { ResolvedPoolOptions } from '../types.js';
import type { FailureKind, PoolBackend, PoolHost, PoolSnapshot } from './backend.js';
import type { LearnedLifetime, LifetimeLearner } from './lifetime.js';
import type { EndReason, ManagedSession } from './managed-session.js';
import {
    ageLimitMs,
    averageInitMs,
    isPastAge,
    learnedLifetime,
    lifetimeLearner,
    nextUseAt,
    retiresAfterUse,
    usesLimit,
} from './policy.js';
import { PoolUsage } from './usage.js';

interface Waiter {
    request: Request;
    /** Opened a slot: served by a newly initialised session, not by one already in rotation. */
    fresh: boolean;
    /** The session the request's previous attempt failed with: taken only when no other is free. */
    avoid: ManagedSession | undefined;
    resolve(session: ManagedSession): void;
    reject(error: Error): void;
    /** Cancels its `waitTimeoutSecs` timer. */
    cancelTimer: () => void;
    since: number;
}

/**
 * One pool of sessions: lazy fill up to `size`, rotation by next-use time, waiting on events,
 * discard with exactly one replacement, planned retirement ahead of need, bad-init limit.
 */
export class Pool extends PoolUsage implements PoolBackend {
    // Fields in the order the hot path (acquire, pick, assign, release) reads them, after the
    // `PoolUsage` ones: V8 lays them out in declaration order, and with 10,000 pools each acquire
    // finds its pool cold in memory, so the fewer cache lines it touches, the better
    // (bench/README.md, engine cost).
    #closedError: Error | undefined;
    /** Session slots opened by demand; never above `size`. Inits keep `ready + initializing` at this. */
    #wanted = 0;
    readonly #size: number;
    /** Waiters that take sessions in rotation (not `fresh`): the fast path needs none queued. */
    #rotationWaiters = 0;
    /**
     * `#ready[0]`, the session due first: a pick reads it without going through the array, and
     * usually reads no other session.
     */
    #head: ManagedSession | undefined;
    /**
     * Sessions in rotation (`state === 'ready'`) in the order they are due: by `nextUseAt`, then
     * least recently assigned (`lastAssigned`; never assigned first). A pick takes the first due one,
     * so it stops at the first session that is not due; with a constant delay a session just assigned
     * is due last, and goes to the end without reading any other.
     */
    readonly #ready: ManagedSession[] = [];
    readonly #exclusive: boolean;
    /** Retire at this age (ms): `maxAgeSecs`, or the learned limit (updated as it learns). */
    #ageLimitMs: number | undefined;
    readonly #host: PoolHost;
    #assignments = 0;
    readonly #randomizeDelay: boolean;
    readonly #delay: number;
    /** Retire at this many uses: `maxUsageCount`, or the learned limit (updated as it learns). */
    #usesLimit: number | undefined;
    readonly id: string;
    readonly options: ResolvedPoolOptions;
    readonly #waiters: Waiter[] = [];
    #initializing = 0;
    #badInits = 0;
    #discarded = 0;
    #initMsAverage = 0;
    #wakeTimer: TimerHandle | undefined;
    #wakeAt = Number.POSITIVE_INFINITY;
    #closedReason: string | undefined;
    readonly #learner: LifetimeLearner | undefined;

    constructor(id: string, options: ResolvedPoolOptions, host: PoolHost) {
        super();
        this.id = id;
        this.options = options;
        this.#host = host;
        this.#size = options.size;
        this.#delay = options.delay;
        this.#randomizeDelay = options.randomizeDelay;
        this.#exclusive = options.exclusive;
        this.#learner = lifetimeLearner(host);
        this.#updateLimits();
    }

    /** Caches the limits the hot path reads; they change only when the learner learns. */
    #updateLimits(): void {
        this.#usesLimit = usesLimit(this.#host, this.#learner);
        this.#ageLimitMs = ageLimitMs(this.#host, this.#learner);
    }

    /** Consecutive failed inits so far. */
    get badInits(): number {
        return this.#badInits;
    }

    get closed(): boolean {
        return this.#closedError !== undefined;
    }

    snapshot(): PoolSnapshot {
        return {
            id: this.id,
            size: this.options.size,
            ready: this.#ready.length,
            initializing: this.#initializing,
            waiting: this.#waiters.length,
            discarded: this.#discarded,
            ...(this.#learnedLifetime() ?? {}),
        };
    }

    #learnedLifetime(): { lifetime: LearnedLifetime } | undefined {
        const lifetime = learnedLifetime(this.#learner);
        return lifetime ? { lifetime } : undefined;
    }

    /**
     * A session's use-check failed for the first time: an expiry sample for the lifetime learner.
     * `passes` is how many of its uses passed before.
     */
    expiredOnSite(session: ManagedSession, passes: number): void {
        if (!this.#learner) return;
        this.#learner.record(passes, this.#host.clock.now() - session.createdAt);
        this.#updateLimits();
    }

    /**
     * A session for `request`: the next ready one in rotation, or the first to become ready.
     * The first `size` requests each open one session slot (one init). A retry passes the session
     * its failed attempt had as `avoid`, to get another one whenever another is free. A session free
     * now is returned as it is, not in a promise (see `PoolBackend.acquire`).
     */
    acquire(request: Request, avoid?: ManagedSession): ManagedSession | Promise<ManagedSession> {
        if (this.#closedError) return Promise.reject(this.#closedError);
        // The first `size` requests each open a slot and wait for the session their init makes.
        const fresh = this.#wanted < this.#size;
        if (fresh) {
            this.#wanted++;
            this.#topUp(request);
        } else if (this.#rotationWaiters === 0) {
            // Fast path: no request queued before us takes sessions in rotation, and one is free now.
            const now = this.#host.clock.now();
            const index = this.#pickReady(now, request, avoid);
            if (index >= 0) return this.#assign(index, request, now);
        }
        return new Promise<ManagedSession>((resolve, reject) => {
            const clock = this.#host.clock;
            const waiter: Waiter = {
                request,
                fresh,
                avoid,
                resolve,
                reject,
                since: clock.now(),
                // A wait past the longest timer Node has is waited in steps, never cut to 1 ms.
                cancelTimer: setLongTimeout(clock, () => this.#timeOut(waiter), this.#host.waitTimeoutSecs * 1000),
            };
            this.#waiters.push(waiter);
            if (!fresh) this.#rotationWaiters++;
            this.#dispatch();
        });
    }

    /** The attempt using `session` is over. */
    release(session: ManagedSession): void {
        session.released();
        if (this.#exclusive && session.state === 'ready') this.#dispatch();
    }

    /**
     * Takes `session` out of rotation at once and starts one replacement in the background.
     * Returns `false` when it had already left (concurrent failures of one session replace it once).
     */
    discard(session: ManagedSession, reason: EndReason, trigger: Request): boolean {
        const wasReady = session.state === 'ready';
        if (!session.end(reason)) return false;
        this.#discarded++;
        if (wasReady) {
            this.#removeFromRotation(session);
            this.#topUp(trigger);
        }
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
        return session[kind] >= limit && this.discard(session, reason, trigger);
    }

    /** Stops the pool: wakes every waiter with `error`, clears its timer, starts no more inits. */
    close(reason: string | undefined, error?: Error): void {
        if (this.#closedError) return;
        this.#closedReason = reason;
        this.#closedError = error ?? new SessionsClosedError(this.id, reason);
        if (this.#wakeTimer !== undefined) this.#host.clock.clearTimeout(this.#wakeTimer);
        this.#wakeTimer = undefined;
        this.#rotationWaiters = 0;
        for (const waiter of this.#waiters.splice(0)) {
            waiter.cancelTimer();
            waiter.reject(this.#closedError);
        }
    }

    /** Why the pool closed, if it did. */
    get closedReason(): string | undefined {
        return this.#closedReason;
    }

    /** Sessions worth saving: the ones in rotation. */
    persistable(): readonly ManagedSession[] {
        return this.#ready;
    }

    /**
     * Puts a restored session into rotation without an init. Its saved times may come from a skewed
     * clock: it is created no later than now and usable no later than one pool delay from now.
     */
    adopt(session: ManagedSession): void {
        const now = this.#host.clock.now();
        session.clampTimes(now, now + this.options.delay * 1000);
        if (this.#wanted < this.options.size) this.#wanted++;
        this.#enter(session);
    }

    /**
     * Puts `session` into rotation, in its place by next-use time (before sessions assigned since).
     * Returns its index in `#ready`.
     */
    #enter(session: ManagedSession): number {
        const ready = this.#ready;
        let index = ready.length;
        while (index > 0 && dueAfter(ready[index - 1]!, session)) index--;
        ready.splice(index, 0, session);
        this.#head = ready[0];
        return index;
    }

    /** Starts inits until ready plus initializing sessions reach the slots opened by demand. */
    #topUp(trigger: Request): void {
        while (!this.#closedError && this.#ready.length + this.#initializing < this.#wanted) {
            this.#initializing++;
            void this.#initOne(trigger);
        }
    }

    async #initOne(trigger: Request): Promise<void> {
        const started = this.#host.clock.now();
        let session: ManagedSession | undefined;
        try {
            session = await this.#host.init(this, trigger);
        } finally {
            this.#initializing--;
        }
        if (this.#closedError) return;
        if (session) {
            const took = this.#host.clock.now() - started;
            this.#initMsAverage = averageInitMs(this.#initMsAverage, took);
            this.#badInits = 0;
            const place = this.#enter(session);
            const index = this.#waiters.findIndex((waiter) => waiter.fresh);
            if (index >= 0) {
                const [waiter] = this.#waiters.splice(index, 1);
                waiter!.cancelTimer();
                waiter!.resolve(this.#assign(place, waiter!.request, this.#host.clock.now()));
            }
            this.#dispatch();
            return;
        }
        this.#badInits++;
        if (this.#badInits >= this.options.maxBadInits) {
            const error = new TooManyBadSessionInitsError(this.id, this.#badInits);
            // Close this pool first, so its waiters get this error rather than the generic one the
            // manager's close gives every pool.
            this.close('bad_session_inits', error);
            this.#host.badInits(this, error);
            return;
        }
        this.#topUp(trigger);
    }

    /** Hands free sessions to waiters in arrival order; schedules a wake-up for the next delay. */
    #dispatch(): void {
        const now = this.#host.clock.now();
        for (let i = 0; i < this.#waiters.length; ) {
            const waiter = this.#waiters[i]!;
            if (waiter.fresh) {
                i++;
                continue;
            }
            const index = this.#pickReady(now, waiter.request, waiter.avoid);
            if (index < 0) break;
            this.#waiters.splice(i, 1);
            this.#rotationWaiters--;
            waiter.cancelTimer();
            waiter.resolve(this.#assign(index, waiter.request, now));
        }
        if (this.#rotationWaiters > 0) this.#scheduleWake(now);
        else this.#cancelWake();
    }

    /**
     * The index in `#ready` of the first free session that is due (the earliest next-use time, least
     * recently assigned on ties), or -1 if none is. Sessions found past their age limit are retired
     * on the way, replaced for `trigger`: a request is waiting, so their slots stay wanted. `avoid`
     * is the answer only when nothing else is due.
     */
    #pickReady(now: number, trigger: Request, avoid?: ManagedSession): number {
        const ready = this.#ready;
        let avoided = -1;
        for (let i = 0; i < ready.length; i++) {
            const session = i === 0 ? this.#head! : ready[i]!;
            // In due order: once one is not due, none after it is.
            if (session.nextUseAt > now) break;
            if (this.#exclusive && session.inFlight > 0) continue;
            const ageLimitMs = this.#ageLimitMs;
            if (ageLimitMs !== undefined && isPastAge(session.createdAt, now, ageLimitMs, 0)) {
                // Removes index i: the index avoided, if any, is below it and stays valid.
                this.#retire(session, trigger);
                i--;
                continue;
            }
            if (session === avoid) {
                avoided = i;
                continue;
            }
            return i;
        }
        return avoided;
    }

    /**
     * Assigns `#ready[index]` to `request` at `now`: counts the use, sets its next-use time and moves
     * it to its new place in the due order. Returns the session.
     */
    #assign(index: number, request: Request, now: number): ManagedSession {
        const ready = this.#ready;
        const session = index === 0 ? this.#head! : ready[index]!;
        session.inFlight++;
        session.uses++;
        const next = nextUseAt(now, this.#delay, this.#randomizeDelay, this.#host.random);
        session.lastAssigned = ++this.#assignments;
        session.nextUseAt = next;
        // Its new place: after every session due no later (it is the most recently assigned). With a
        // constant delay that is the end: every other session was assigned or created by now.
        let place = ready.length - 1;
        if (this.#randomizeDelay && this.#delay > 0) {
            while (place > index && dueAfter(ready[place]!, session)) place--;
        }
        for (let i = index; i < place; i++) ready[i] = ready[i + 1]!;
        ready[place] = session;
        this.#head = ready[0];
        const usesLimit = this.#usesLimit;
        const ageLimitMs = this.#ageLimitMs;
        // Without limits (the common case) nothing else is read: `#initMsAverage` sits on a colder cache line.
        if (
            (usesLimit !== undefined || ageLimitMs !== undefined) &&
            retiresAfterUse(session.uses, session.createdAt, now, usesLimit, ageLimitMs, this.#initMsAverage)
        ) {
            this.#retire(session, request);
        }
        return session;
    }

    #retire(session: ManagedSession, trigger?: Request): void {
        if (!session.end('expired')) return;
        this.#discarded++;
        this.#removeFromRotation(session);
        this.#host.expired(this, session);
        const request = trigger ?? this.#waiters[0]?.request;
        if (request) this.#topUp(request);
        else this.#wanted = Math.max(0, this.#wanted - 1);
    }

    #removeFromRotation(session: ManagedSession): void {
        const index = this.#ready.indexOf(session);
        if (index < 0) return;
        this.#ready.splice(index, 1);
        this.#head = this.#ready[0];
    }

    #scheduleWake(now: number): void {
        // The first free session in due order is the earliest.
        const first = this.#ready.find((session) => !this.#exclusive || session.inFlight === 0);
        const earliest = first?.nextUseAt ?? Number.POSITIVE_INFINITY;
        if (earliest === Number.POSITIVE_INFINITY || earliest >= this.#wakeAt) return;
        if (this.#wakeTimer !== undefined) this.#host.clock.clearTimeout(this.#wakeTimer);
        this.#wakeAt = earliest;
        this.#wakeTimer = this.#host.clock.setTimeout(
            () => {
                this.#wakeTimer = undefined;
                this.#wakeAt = Number.POSITIVE_INFINITY;
                this.#dispatch();
            },
            // Past the longest timer Node has, it wakes early, finds nothing due and sleeps again.
            clampTimerMs(earliest - now),
        );
    }

    #cancelWake(): void {
        if (this.#wakeTimer === undefined) return;
        this.#host.clock.clearTimeout(this.#wakeTimer);
        this.#wakeTimer = undefined;
        this.#wakeAt = Number.POSITIVE_INFINITY;
    }

    #timeOut(waiter: Waiter): void {
        const index = this.#waiters.indexOf(waiter);
        if (index < 0) return;
        this.#waiters.splice(index, 1);
        if (!waiter.fresh) this.#rotationWaiters--;
        // No timer outlives the waits it serves.
        if (this.#rotationWaiters === 0) this.#cancelWake();
        waiter.reject(
            new NoSessionAvailableError(waiter.request.url, this.id, {
                waitedSecs: this.#host.waitTimeoutSecs,
                ready: this.#ready.length,
                initializing: this.#initializing,
                badInits: this.#badInits,
                size: this.options.size,
            }),
        );
    }
}

/** Whether `a` comes after `b` in due order: due later, or as early but assigned more recently. */
function dueAfter(a: ManagedSession, b: ManagedSession): boolean {
    return a.nextUseAt > b.nextUseAt || (a.nextUseAt === b.nextUseAt && a.lastAssigned > b.lastAssigned);
}
