import type { EventEmitter } from 'node:events';
import { type Log, Session } from '@crawlee/core';

/** Why a session left its pool. */
export type EndReason =
    | 'check-failed'
    | 'check-error'
    | 'download-errors'
    | 'expired'
    | 'retired-by-crawler'
    | 'closed'
    /** Another process discarded it (shared stores). */
    | 'discarded-elsewhere';

/**
 * A Crawlee `Session` as a pool keeps it: its sticky proxy, counters and rotation time. The
 * Crawlee `Session` holds cookies and `userData`; this holds what the pool decides with.
 */
export class ManagedSession {
    readonly session: Session;
    readonly poolId: string;
    readonly proxyUrl: string | undefined;
    #createdAt: number;
    /** Assignments so far. */
    uses = 0;
    /** Download errors counted against `maxErrors`. */
    errors = 0;
    /** Use-checks passed (for the lifetime learner). */
    passes = 0;
    /** Failed use-checks counted against `maxCheckFailures`. */
    checkFailures = 0;
    /** Attempts currently using it. */
    inFlight = 0;
    /**
     * Earliest time of the next assignment (ms), honouring `delay`. Initialised to a number, not left
     * `undefined` until the constructor: V8 then keeps the field a mutable double, so each assignment
     * writes in place instead of allocating a new heap number that outlives a minor GC (measured: ~15 %
     * of the 10,000-pool engine benchmark).
     */
    nextUseAt = 0;
    /** Order of the last assignment, so equal next-use times rotate. */
    lastAssigned = 0;
    /** `ready`: in rotation; `retiring`: serving its last attempts; `ended`: gone. */
    state: 'ready' | 'retiring' | 'ended' = 'ready';
    endReason: EndReason | undefined;

    constructor(session: Session, poolId: string, proxyUrl: string | undefined, createdAt: number) {
        this.session = session;
        this.poolId = poolId;
        this.proxyUrl = proxyUrl;
        this.#createdAt = createdAt;
        this.nextUseAt = createdAt;
    }

    /** When its init finished (ms), or when another process or an earlier run created it. */
    get createdAt(): number {
        return this.#createdAt;
    }

    /**
     * Brings times saved under another clock back into range (a restored session): created no later
     * than `now`, next use no later than `latestNextUseAt`. A clock skew must not make a session
     * unusable for years nor keep it from ageing.
     */
    clampTimes(now: number, latestNextUseAt: number): void {
        if (!(this.#createdAt <= now)) this.#createdAt = now;
        if (!(this.nextUseAt <= latestNextUseAt)) this.nextUseAt = latestNextUseAt;
    }

    get id(): string {
        return this.session.id;
    }

    /**
     * Takes it out of service for `reason`; `false` when it had already left, so each session ends
     * (and is counted) once. A planned end (`expired`), a close or another process's discard lets
     * the attempts under way finish with it (`retiring`); a failure ends it at once.
     */
    end(reason: EndReason): boolean {
        if (this.state === 'ended' || this.endReason !== undefined) return false;
        this.endReason = reason;
        const finishing = reason === 'expired' || reason === 'closed' || reason === 'discarded-elsewhere';
        this.state = finishing && this.inFlight > 0 ? 'retiring' : 'ended';
        return true;
    }

    /** An attempt using it is over: a retiring session ends with its last attempt. */
    released(): void {
        this.inFlight = Math.max(0, this.inFlight - 1);
        if (this.state === 'retiring' && this.inFlight === 0) this.state = 'ended';
    }
}

/** What Crawlee's `Session` constructor asks of the log it is given. */
const SESSION_LOG_PREFIX = 'Session';
/** Per parent log, the log handed to Crawlee's `Session`: its `child({ prefix: 'Session' })` is shared. */
const sessionLogSources = new WeakMap<Log, Log>();

/**
 * Crawlee's `Session` keeps `log.child({ prefix: 'Session' })`, a new but identical logger per
 * session (about 660 bytes each: 50 MB for 10,000 pools of 8). This gives it a log whose `child()`
 * returns one such logger for every session of `log`; any other `child()` call is passed through.
 */
function sessionLogSource(log: Log): Log {
    let source = sessionLogSources.get(log);
    if (!source) {
        const shared = log.child({ prefix: SESSION_LOG_PREFIX });
        const child = (options: Parameters<Log['child']>[0]): Log =>
            Object.keys(options).length === 1 && options.prefix === SESSION_LOG_PREFIX ? shared : log.child(options);
        source = Object.assign(Object.create(log) as Log, { child });
        sessionLogSources.set(log, source);
    }
    return source;
}

/**
 * A Crawlee `Session` owned by the manager's `hub` (Crawlee's `Session` needs a pool-like emitter).
 * The pool decides when a session ends, so Crawlee's own usage, age and error limits are set out of reach.
 * Sessions of one `log` share their Crawlee logger.
 */
export function createCrawleeSession(
    hub: EventEmitter,
    log: Log,
    saved?: { id: string; userData: Record<string, unknown>; cookieJar?: Record<string, unknown> | undefined },
): Session {
    return new Session({
        sessionPool: hub as never,
        maxUsageCount: Number.MAX_SAFE_INTEGER,
        maxAgeSecs: 10 * 365 * 24 * 3600,
        maxErrorScore: Number.MAX_SAFE_INTEGER,
        log: sessionLogSource(log),
        ...(saved ? { id: saved.id, userData: saved.userData } : {}),
        ...(saved?.cookieJar ? { cookieJar: saved.cookieJar as never } : {}),
    });
}

/** A tough-cookie jar class, reached through a jar (core does not depend on tough-cookie itself). */
interface JarClass {
    deserializeSync(serialized: unknown, store: unknown): unknown;
}

/**
 * Replaces a session's cookies and `userData` in place with `saved` (another process changed
 * them). The `Session` object stays the same, so whatever the adapter keyed on it (the sticky
 * proxy, the header fingerprint) stays with it.
 */
export function replaceSessionState(
    session: Session,
    saved: { userData: Record<string, unknown>; cookieJar?: Record<string, unknown> | undefined },
): void {
    session.userData = saved.userData;
    const jar = session.cookieJar;
    jar.removeAllCookiesSync();
    if (saved.cookieJar) (jar.constructor as unknown as JarClass).deserializeSync(saved.cookieJar, jar.store);
}
