import { EventEmitter } from 'node:events';
import { log as crawleeLog, type Log, type Request } from '@crawlee/core';
import { runCheck } from './check/run-check.js';
import { type Clock, setLongTimeout, systemClock } from './clock.js';
import type { SessionConfig } from './config/session-config.js';
import {
    asError,
    CloseCrawlerError,
    PoolError,
    RequestHookTimeoutError,
    SessionCheckFailedError,
    SessionDownloadError,
    SessionsClosedError,
    type TooManyBadSessionInitsError,
} from './errors.js';
import { configEngine } from './init/config-engine.js';
import type { InitDownloader, SessionPreparer } from './init/initializer.js';
import { isSessionInitRequest } from './init/params.js';
import { InitRunner } from './init/runner.js';
import {
    type AttemptOutcome,
    Lease,
    type LeaseState,
    type ResponseHead,
    type SessionLease,
    type TransportFailure,
} from './lease.js';
import type { ManagedSessionsOptions, ResolvedManagedSessionsOptions } from './options.js';
import { ParkedSessions } from './persist/parked.js';
import { restoreRecord, snapshotRecord } from './persist/record.js';
import type { PersistedState } from './persist/state.js';
import type { PoolBackend, PoolHost, PoolSnapshot } from './pools/backend.js';
import { PoolDirectory } from './pools/directory.js';
import { createCrawleeSession, type EndReason, ManagedSession } from './pools/managed-session.js';
import { readSessionControls } from './pools/pool-id.js';
import { describeError, describeSessionError, redact, safeCause } from './redact.js';
import { renderSessionReport } from './report/html.js';
import { type SessionReportData, SessionTimeline } from './report/timeline.js';
import { bindRequestSession } from './request-session.js';
import { resolveOptions } from './resolve-options.js';
import { SessionStats, type StatName } from './stats.js';
import { memorySessionStore } from './store/memory-store.js';
import type { StoreConnection } from './store/store.js';
import type { RequestOverrides, SessionResponse } from './types.js';

/** What the engine needs from its host (the Crawlee adapter, or a test). */
export interface SessionManagerDeps {
    /** Makes init downloads with the session's cookies, proxy and fingerprint. */
    download: InitDownloader;
    /** Gives a new session its sticky proxy URL. */
    prepareSession?: SessionPreparer;
    /** @default systemClock */
    clock?: Clock;
    /** Random numbers in [0, 1) for delay randomisation. @default Math.random */
    random?: () => number;
    /** @default Crawlee's `log` with prefix `ManagedSessions` */
    log?: Log;
    /** Passed to session configs as `crawler`. */
    crawler?: unknown;
    /** Called once when a hook or a limit stops the crawl, with the close reason. */
    onClose?: (reason: string, error: Error) => void;
}

/** How many requests' failed sessions the manager remembers for their retries. */
const MAX_FAILED_REMEMBERED = 10_000;

/** What `check()` and `judge()` return for a verdict with no error: one shared settled promise. */
const SETTLED: Promise<undefined> = Promise.resolve(undefined);

/** `check()`'s promise rejects with a failed check's error. */
function throwFailed(verdict: SessionCheckFailedError | undefined): void {
    if (verdict) throw verdict;
}

/** The close reason of a `pool()` failure. */
export const POOL_ERROR = 'pool_error';

/**
 * The session engine: picks the pool and session for each attempt, runs inits, checks
 * responses, counts errors, rotates and replaces sessions, and keeps stats. It knows nothing of
 * crawler classes; the adapter wires it into one.
 *
 * Per attempt: {@link acquire} (config, pool, session, `processRequest()`), {@link judge} (the use
 * policy), {@link release}. The parts it wires: the live pools in `pools/directory.ts`, inits in
 * `init/runner.ts`, parked sessions and the saved record in `persist/`, the timeline in `report/`.
 */
export class SessionManager {
    readonly options: ResolvedManagedSessionsOptions;
    readonly log: Log;
    readonly #deps: SessionManagerDeps;
    readonly #clock: Clock;
    readonly #random: () => number;
    readonly #stats: SessionStats;
    readonly #configs = new Map<typeof SessionConfig, SessionConfig>();
    /** The live pools: choice, creation, eviction. */
    readonly #directory: PoolDirectory;
    /** Sessions of pools that are not live (restored, or their pool was evicted). */
    readonly #parked = new ParkedSessions();
    /** Runs the inits pools ask for. */
    readonly #inits: InitRunner;
    /**
     * The session of each request's last failed attempt, by `uniqueKey` (Crawlee hands a retry
     * over as a new `Request` object), so the retry gets another session while the failed one
     * stays in rotation below its limits. Taken by the retry's `acquire()`.
     */
    readonly #failedOn = new Map<string, ManagedSession>();
    readonly #abort = new AbortController();
    /** Crawlee's `Session` emits `sessionRetired` here when the crawler retires one of ours. */
    readonly #hub: EventEmitter & { blockedStatusCodes: number[] };
    #closeReason: string | undefined;
    #closed = false;
    /** Where pools live (option `store`): this engine's connection to it. */
    readonly #store: StoreConnection;
    /** The store's shutdown, started by close(). */
    #disposed: Promise<void> | undefined;
    /** Session lifecycles for the report (capped; plain objects). */
    readonly #timeline = new SessionTimeline();

    /** @throws ManagedSessionsOptionsError for invalid options. */
    constructor(options: ManagedSessionsOptions | undefined, deps: SessionManagerDeps) {
        this.options = resolveOptions(options);
        this.#deps = deps;
        this.#clock = deps.clock ?? systemClock;
        this.#random = deps.random ?? Math.random;
        this.log = deps.log ?? crawleeLog.child({ prefix: 'ManagedSessions' });
        this.#stats = new SessionStats(this.options.statsPerPool);
        // Crawlee's Session needs a pool-like emitter. Nothing listens to its `sessionRetired`: our
        // checks and error counts decide when a session ends, so a SessionError we throw (after which
        // Crawlee retires ctx.session) never ends a session twice or before maxErrors/maxCheckFailures.
        // An empty blockedStatusCodes keeps Crawlee's own retire-on-blocked off our sessions.
        this.#hub = Object.assign(new EventEmitter(), { blockedStatusCodes: [] as number[] });
        const resolved = this.options;
        this.#store = (resolved.store ?? memorySessionStore).open({ log: this.log });
        const poolHost: PoolHost = {
            clock: this.#clock,
            random: this.#random,
            log: this.log,
            waitTimeoutSecs: resolved.waitTimeoutSecs,
            maxUsageCount: resolved.maxUsageCount,
            maxAgeSecs: resolved.maxAgeSecs,
            adaptiveLifetime: resolved.adaptiveLifetime,
            init: (pool, trigger) => this.#inits.run(pool, trigger),
            expired: (pool, session) => {
                this.#timeline.ended(session, 'expired', this.#clock.now());
                this.#count('use/expired', pool);
            },
            badInits: (_pool, error: TooManyBadSessionInitsError) => this.#stop('bad_session_inits', error),
            sessionFrom: (pool, stored) =>
                new ManagedSession(
                    createCrawleeSession(this.#hub, this.log, stored),
                    pool.id,
                    stored.proxyUrl,
                    stored.createdAt,
                ),
        };
        this.#directory = new PoolDirectory({
            options: resolved,
            store: this.#store,
            host: poolHost,
            clock: this.#clock,
            log: this.log,
            parked: this.#parked,
            timeline: this.#timeline,
        });
        this.#inits = new InitRunner({
            options: resolved,
            configFor: (url) => this.configFor(url),
            hub: this.#hub,
            download: deps.download,
            prepare: deps.prepareSession,
            signal: this.#abort.signal,
            stats: this.#stats,
            log: this.log,
            clock: this.#clock,
            timeline: this.#timeline,
            stop: (reason, error) => this.#stop(reason, error),
        });
    }

    /** Counters as CONTRACT names them (`sessions/init/check-passed`, …). */
    get stats(): Record<string, number> {
        return this.#stats.snapshot();
    }

    /** Why the crawl was stopped by the sessions, or `undefined`. */
    get closeReason(): string | undefined {
        return this.#closeReason;
    }

    get closed(): boolean {
        return this.#closed;
    }

    /** A snapshot of every pool. */
    pools(): PoolSnapshot[] {
        return this.#directory.snapshots();
    }

    /** Pools evicted so far (a pool evicted twice counts twice). */
    get evictedPools(): number {
        return this.#directory.evictedTotal;
    }

    /**
     * The session lifecycle so far: per pool, one record per session (the newest
     * 5,000) with init, end and uses, plus init and waiting totals.
     * Sessions still in rotation show as `alive` up to now.
     */
    sessionReport(): SessionReportData {
        return this.#timeline.data(this.#clock.now(), this.#reportPools(), this.#stats.snapshot(), this.#closeReason);
    }

    /** Every pool known (live and evicted), with the acquires the live ones counted. */
    #reportPools(): { id: string; size: number; acquires?: number }[] {
        const acquires = new Map([...this.#directory.live()].map((pool) => [pool.id, pool.acquires]));
        return this.pools().map(({ id, size }) => ({ id, size, acquires: acquires.get(id) ?? 0 }));
    }

    /** {@link sessionReport} as a self-contained HTML page (inline SVG and CSS, no script). */
    renderReport(): string {
        return renderSessionReport(this.sessionReport());
    }

    /** The config instance for `url` (one instance per class). */
    configFor(url: string): SessionConfig {
        // A registry's classes extend SessionConfig (it checks them at registration).
        const cls = this.options.registry.configFor(url) as typeof SessionConfig;
        let config = this.#configs.get(cls);
        if (!config) {
            config = new cls({
                options: this.options,
                log: this.log,
                crawler: this.#deps.crawler,
                engine: configEngine,
            });
            this.#configs.set(cls, config);
        }
        return config;
    }

    /**
     * The session for this attempt of `request`, or `undefined` when sessions are disabled for it.
     * Waits (without polling) for a ready session up to `waitTimeoutSecs`.
     *
     * @throws SessionControlError for malformed `userData` controls (that request only).
     * @throws PoolError when `pool()` fails (the crawl stops with `pool_error`).
     * @throws NoSessionAvailableError when no session becomes ready in time.
     * @throws SessionsClosedError / TooManyBadSessionInitsError when the sessions closed.
     */
    acquire(request: Request): Promise<SessionLease | undefined> {
        // Not an `async` function: when the pool and a free session are at hand (the common case)
        // the lease is made here, with one promise and no async frame per request (bench/README.md).
        try {
            const leased = this.#acquire(request);
            return leased instanceof Promise ? leased : Promise.resolve(leased);
        } catch (error) {
            return Promise.reject(error);
        }
    }

    /** {@link acquire}, settled at once unless the pool's numbering, a session or `processRequest()` is awaited. */
    #acquire(request: Request): SessionLease | undefined | Promise<SessionLease> {
        if (isSessionInitRequest(request)) return undefined;
        const controls = readSessionControls(request);
        const config = this.configFor(request.url);
        let enabled = controls.enabled;
        if (enabled === undefined) {
            try {
                const result: unknown = config.enabled(request);
                // Typed boolean; a promise (truthy) still has its CloseCrawlerError stop the crawl.
                if (result instanceof Promise) void this.#guarded(result);
                enabled = result as boolean;
            } catch (error) {
                this.#onHookError(error);
                throw asError(error, `${config.constructor.name}.enabled()`, request.url);
            }
        }
        if (!enabled) {
            this.#stats.increment('use/disabled', undefined);
            return undefined;
        }
        if (this.#closed) throw new SessionsClosedError('(any)', this.#closeReason);
        let chosen: PoolBackend | Promise<PoolBackend>;
        try {
            chosen = this.#directory.poolFor(config, request, controls);
        } catch (error) {
            throw this.#poolFailed(error);
        }
        if (!(chosen instanceof Promise)) return this.#fromPool(request, config, chosen);
        return this.#guarded(chosen).then(
            (pool) => this.#fromPool(request, config, pool),
            (error: unknown) => {
                throw this.#poolFailed(error);
            },
        );
    }

    /** A `pool()` failure stops the crawl (`pool_error`); returns the error to throw. */
    #poolFailed(error: unknown): unknown {
        this.#onHookError(error);
        if (error instanceof PoolError) this.#stop(POOL_ERROR, error);
        return error;
    }

    /** The session of `pool` for this attempt, and its lease. */
    #fromPool(request: Request, config: SessionConfig, pool: PoolBackend): SessionLease | Promise<SessionLease> {
        const avoid = this.#failedOn.size > 0 ? this.#takeFailed(request) : undefined;
        const waitStart = this.#clock.now();
        this.#directory.enter(pool, waitStart);
        let got: ManagedSession | Promise<ManagedSession>;
        try {
            got = pool.acquire(request, avoid);
        } catch (error) {
            this.#directory.leave(pool);
            throw error;
        }
        if (!(got instanceof Promise)) return this.#lease(request, config, pool, got, waitStart);
        return got.then(
            (managed) => this.#lease(request, config, pool, managed, waitStart),
            (error: unknown) => {
                this.#directory.leave(pool);
                throw error;
            },
        );
    }

    /** Binds `managed` to the attempt, runs `processRequest()`, and makes the lease. */
    #lease(
        request: Request,
        config: SessionConfig,
        pool: PoolBackend,
        managed: ManagedSession,
        waitStart: number,
    ): SessionLease | Promise<SessionLease> {
        pool.acquires++;
        const waited = this.#clock.now() - waitStart;
        if (waited > 0) this.#timeline.waited(pool.id, waited);
        // Bound before processRequest() so the hook can call getRequestSessionId() for this attempt.
        bindRequestSession(request, managed.session);
        let result: RequestOverrides | void | Promise<RequestOverrides | void>;
        try {
            result = config.processRequest(request, managed.session);
        } catch (error) {
            throw this.#processRequestFailed(error, request, config, pool, managed);
        }
        if (!(result instanceof Promise)) return this.#made(request, config, pool, managed, result);
        return this.#deadline(this.#guarded(result), config, 'processRequest()', pool.id, request.url).then(
            (overrides) => this.#made(request, config, pool, managed, overrides),
            (error: unknown) => {
                throw this.#processRequestFailed(error, request, config, pool, managed);
            },
        );
    }

    /** The lease of an attempt whose session is bound and whose `processRequest()` returned `overrides`. */
    #made(
        request: Request,
        config: SessionConfig,
        pool: PoolBackend,
        managed: ManagedSession,
        overrides: RequestOverrides | void,
    ): SessionLease {
        return new Lease(request, { owner: this, managed, pool, config, released: false }, overrides ?? undefined);
    }

    /** A failed `processRequest()` gives the session back; returns the error to throw. */
    #processRequestFailed(
        error: unknown,
        request: Request,
        config: SessionConfig,
        pool: PoolBackend,
        managed: ManagedSession,
    ): Error {
        this.#onHookError(error);
        pool.release(managed);
        this.#directory.leave(pool);
        return asError(error, `${config.constructor.name}.processRequest()`, request.url);
    }

    /**
     * The verdict on one attempt of a leased session, the whole use policy in one call: a transport
     * failure (the adapter classified it: network, timeout, proxy, before any response) or a status in
     * `errorStatusCodes` is a download error (counted, the session discarded at `maxErrors`); a
     * response with its body is checked (`check()` or the option `checker`; a failure is counted, the
     * session discarded at `maxCheckFailures`, or at once when the check threw or never settled).
     * A {@link ResponseHead} (the body not read yet) judges the status only: call again with the body.
     * Returns the `SessionError` for the adapter to throw (so Crawlee retries with another session),
     * or `undefined` when the attempt may go on.
     *
     * @throws CloseCrawlerError when the check stops the crawl.
     * @example
     * const error = await manager.judge(lease, { url, statusCode, headers, body });
     * if (error) throw error;
     */
    judge(lease: SessionLease, outcome: TransportFailure): Promise<SessionDownloadError>;
    judge(
        lease: SessionLease,
        outcome: SessionResponse | ResponseHead,
    ): Promise<SessionCheckFailedError | SessionDownloadError | undefined>;
    judge(
        lease: SessionLease,
        outcome: AttemptOutcome,
    ): Promise<SessionCheckFailedError | SessionDownloadError | undefined> {
        // Not `async`, like check(): a synchronous verdict costs no async frame per response.
        try {
            if (!('statusCode' in outcome)) {
                return Promise.resolve(
                    this.downloadError(lease, outcome.reason ?? describeError(outcome.error), outcome.error),
                );
            }
            if (this.isErrorStatus(outcome.statusCode)) {
                return Promise.resolve(this.downloadError(lease, `status ${outcome.statusCode}`));
            }
            if (typeof (outcome as Partial<SessionResponse>).body !== 'string') return SETTLED;
            const verdict = this.#checked(lease, outcome as SessionResponse);
            if (verdict instanceof Promise) return verdict;
            return verdict === undefined ? SETTLED : Promise.resolve(verdict);
        } catch (error) {
            return Promise.reject(error);
        }
    }

    /**
     * Checks the response of a leased attempt (the check part of {@link judge}). Passes quietly, or
     * counts the failure, discards the session when it reached `maxCheckFailures` (or at once when
     * the check threw) and throws, so Crawlee retries with another session.
     *
     * @throws SessionCheckFailedError
     */
    check(lease: SessionLease, response: SessionResponse): Promise<void> {
        // Not an `async` function: a synchronous check (the common case) settles here and returns
        // a shared settled promise, with no async frame or promise per request (bench/README.md).
        try {
            const verdict = this.#checked(lease, response);
            if (verdict instanceof Promise) return verdict.then(throwFailed);
            return verdict === undefined ? SETTLED : Promise.reject(verdict);
        } catch (error) {
            return Promise.reject(error);
        }
    }

    /**
     * The check of a leased attempt's response, counted: `undefined` when it passed, else the error
     * for the adapter to throw (the session discarded at `maxCheckFailures`, or at once when the
     * check threw or never settled). Settled at once when the check is synchronous; a promise
     * returned by the check is awaited under `hookTimeoutSecs`.
     *
     * @throws CloseCrawlerError (thrown, or as the rejection) when the check stops the crawl.
     */
    #checked(
        lease: SessionLease,
        response: SessionResponse,
    ): SessionCheckFailedError | undefined | Promise<SessionCheckFailedError | undefined> {
        const state = this.#state(lease);
        let result: boolean | Promise<boolean>;
        try {
            result = runCheck(state.config, response, lease.request, lease.session, 'use');
        } catch (error) {
            return this.#checkThrew(state, lease, response, error);
        }
        if (typeof result === 'boolean') return this.#verdict(state, lease, response, result);
        return this.#deadline(this.#guarded(result), state.config, 'check()', state.pool.id, response.url).then(
            (passed) => this.#verdict(state, lease, response, passed),
            (error: unknown) => this.#checkThrew(state, lease, response, error),
        );
    }

    /**
     * A check that threw, or never settled: the session cannot be vouched for, so it goes.
     *
     * @throws CloseCrawlerError when that is what the check threw.
     */
    #checkThrew(
        state: LeaseState,
        lease: SessionLease,
        response: SessionResponse,
        error: unknown,
    ): SessionCheckFailedError {
        const { managed, pool } = state;
        this.#onHookError(error);
        if (error instanceof CloseCrawlerError) throw error;
        // Whatever the check threw (a CheckError, or an error describing a value that is not one).
        const timedOut = error instanceof RequestHookTimeoutError;
        this.#count('use/check-error', pool);
        this.#failed(lease.request, managed);
        this.log.error(describeSessionError(asError(error, 'check()', response.url), lease.session, response.url));
        this.#discard(managed, pool, 'check-error', lease.request);
        return new SessionCheckFailedError(
            response.url,
            pool.id,
            response.statusCode,
            timedOut
                ? `check() did not settle within ${this.options.hookTimeoutSecs} s (option hookTimeoutSecs)`
                : 'check() threw',
        );
    }

    /** Counts a settled check; a failure counts against the session (discarded at `maxCheckFailures`). */
    #verdict(
        state: LeaseState,
        lease: SessionLease,
        response: SessionResponse,
        passed: boolean,
    ): SessionCheckFailedError | undefined {
        const { managed, pool } = state;
        if (passed) {
            this.#count('use/check-passed', pool);
            managed.passes++;
            return undefined;
        }
        this.#count('use/check-failed', pool);
        this.#failed(lease.request, managed);
        if (managed.checkFailures === 0) pool.expiredOnSite(managed, managed.passes);
        if (pool.countFailure(managed, 'checkFailures', this.options.maxCheckFailures, 'check-failed', lease.request)) {
            this.#discarded(managed, pool, 'check-failed');
        }
        return new SessionCheckFailedError(response.url, pool.id, response.statusCode);
    }

    /** Whether `statusCode` counts as a download error (`errorStatusCodes`). */
    isErrorStatus(statusCode: number): boolean {
        return this.options.errorStatusCodes.includes(statusCode);
    }

    /**
     * Counts a download error (an `errorStatusCodes` response, a network or proxy error) against
     * the leased session, discarding it at `maxErrors` (the download part of {@link judge}).
     * Returns the error for the adapter to throw.
     */
    downloadError(lease: SessionLease, reason: string, cause?: unknown): SessionDownloadError {
        const { managed, pool } = this.#state(lease);
        this.#count('use/failed', pool);
        this.#failed(lease.request, managed);
        if (pool.countFailure(managed, 'errors', this.options.maxErrors, 'download-errors', lease.request)) {
            this.#discarded(managed, pool, 'download-errors');
        }
        return new SessionDownloadError(lease.request.url, pool.id, redact(reason), { cause: safeCause(cause) });
    }

    /** The attempt is over (whatever its outcome). Safe to call twice. */
    release(lease: SessionLease): void {
        const state = Lease.stateOf(lease);
        if (!state || state.owner !== this || state.released) return;
        state.released = true;
        state.pool.release(state.managed);
        this.#directory.leave(state.pool);
    }

    /**
     * Stops every pool: pending inits are aborted, waiters are woken with an error, no timer is
     * left. With a `reason`, it becomes `closeReason` (a stop by a hook or a limit). It also starts
     * closing the store's connection (a shared store first finishes its pending writes); await
     * {@link dispose} to know it is closed.
     */
    close(reason?: string): void {
        if (this.#closed) return;
        this.#closed = true;
        if (reason !== undefined) this.#closeReason = reason;
        this.#abort.abort();
        this.#directory.closeAll(reason);
        this.#disposed = this.#store.close().catch((error: unknown) => {
            this.log.warning(`Could not close the session store cleanly: ${describeError(error)}`);
        });
    }

    /**
     * Closes the engine (as {@link close} without a reason, if not closed yet) and resolves once
     * the store's connections are closed: no socket or timer of the engine is left. Never rejects.
     *
     * @example
     * // at the crawler's teardown
     * manager.close();
     * await manager.dispose();
     */
    async dispose(): Promise<void> {
        this.close();
        // Aborted inits settle within moments; wait for them so no socket outlives the crawl and
        // `pools()` shows none in flight. One that ignores the abort must not hold the crawl's
        // teardown (and `run()`) forever: after a short grace, give up on it.
        if (this.#inits.pending > 0) await this.#inits.settle();
        await this.#disposed;
    }

    /**
     * The state to save: every session in rotation (and restored ones not yet needed), with
     * counters, per pool; and the stats. `cookies: false` leaves cookie values out.
     */
    snapshot(cookies: boolean): PersistedState {
        const directory = this.#directory;
        return snapshotRecord(
            {
                pools: directory.live(),
                fingerprintOf: (id) => directory.fingerprintOf(id),
                parked: this.#parked,
                pairings: directory.pairings(),
                stats: this.#stats.snapshot(),
                now: this.#clock.now(),
            },
            cookies,
        );
    }

    /**
     * Restores a record written by {@link snapshot}: stats continue, and each pool's saved
     * sessions join it, without an init, when the pool is first used. Restored sessions obey the
     * current options: at most `size` per pool, none older than `maxAgeSecs`. Anything unreadable
     * gives one warning and a fresh start. Returns how many sessions were restored.
     */
    restore(value: unknown, key = 'state'): number {
        return restoreRecord(value, key, {
            log: this.log,
            hub: this.#hub,
            stats: this.#stats,
            store: this.#store,
            parked: this.#parked,
            restorePairings: (pairings) => this.#directory.restorePairings(pairings),
        });
    }

    /** A user hook threw `error`: a `CloseCrawlerError` stops the crawl with its reason (the caller rethrows). */
    #onHookError(error: unknown): void {
        if (error instanceof CloseCrawlerError) this.#stop(error.reason, error);
    }

    /** A user hook's promise: its `CloseCrawlerError` stops the crawl before it propagates. */
    #guarded<T>(promise: Promise<T>): Promise<T> {
        return promise.catch((error: unknown) => {
            this.#onHookError(error);
            throw error;
        });
    }

    /**
     * `promise`, or a {@link RequestHookTimeoutError} once `hookTimeoutSecs` passed: a hook that never
     * settles must not hold its attempt (and its session lease) forever. Only promises get one: a
     * hook that returned a value has settled.
     */
    #deadline<T>(promise: Promise<T>, config: SessionConfig, hook: string, poolId: string, url: string): Promise<T> {
        const secs = this.options.hookTimeoutSecs;
        return new Promise<T>((resolve, reject) => {
            // A long timer: a huge hookTimeoutSecs must not overflow setTimeout and fire at once.
            const cancel = setLongTimeout(
                this.#clock,
                () => reject(new RequestHookTimeoutError(`${config.constructor.name}.${hook}`, poolId, url, secs)),
                secs * 1000,
            );
            promise.then(
                (value) => {
                    cancel();
                    resolve(value);
                },
                (error: unknown) => {
                    cancel();
                    reject(error);
                },
            );
        });
    }

    #stop(reason: string, error: Error): void {
        if (this.#closed) return;
        this.log.error(`Stopping the crawl (${reason}): ${redact(error.message)}`);
        this.close(reason);
        this.#deps.onClose?.(reason, error);
    }

    #discard(managed: ManagedSession, pool: PoolBackend, reason: EndReason, trigger: Request): void {
        if (pool.discard(managed, reason, trigger)) this.#discarded(managed, pool, reason);
    }

    #discarded(managed: ManagedSession, pool: PoolBackend, reason: EndReason): void {
        this.#timeline.ended(managed, reason, this.#clock.now());
        this.log.debug(`Discarded session ${managed.id} of pool ${pool.id} (${reason}).`);
    }

    /** The session `request`'s last failed attempt had, forgotten as its retry takes it. */
    #takeFailed(request: Request): ManagedSession | undefined {
        const key = request.uniqueKey;
        const avoid = this.#failedOn.get(key);
        if (avoid !== undefined) this.#failedOn.delete(key);
        return avoid;
    }

    #failed(request: Request, managed: ManagedSession): void {
        const key = request.uniqueKey;
        this.#failedOn.delete(key);
        this.#failedOn.set(key, managed);
        // Requests that are never retried leave entries behind: keep the newest only.
        if (this.#failedOn.size > MAX_FAILED_REMEMBERED) {
            this.#failedOn.delete(this.#failedOn.keys().next().value!);
        }
    }

    #state(lease: SessionLease): LeaseState {
        const state = Lease.stateOf(lease);
        if (!state || state.owner !== this)
            throw new TypeError('Unknown session lease: pass the lease that acquire() returned.');
        return state;
    }

    #count(name: StatName, pool: PoolBackend): void {
        this.#stats.increment(name, pool.id);
    }
}
