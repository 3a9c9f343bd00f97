import { EventEmitter } from 'node:events';
import { log as crawleeLog, type Log, type Request, type Session } from '@crawlee/core';
import { checkResponse } from './check/run-check.js';
import { type Clock, setLongTimeout, systemClock, type TimerHandle } from './clock.js';
import type { SessionConfig } from './config/session-config.js';
import {
    CloseCrawlerError,
    PoolError,
    SessionCheckFailedError,
    SessionDownloadError,
    SessionsClosedError,
    type TooManyBadSessionInitsError,
} from './errors.js';
import { asError, RequestHookTimeoutError } from './hook-error.js';
import { configEngine } from './init/config-engine.js';
import { type InitDownloader, initializeSession, type SessionPreparer } from './init/initializer.js';
import { isSessionInitRequest } from './init/params.js';
import type { ManagedSessionsOptions, ResolvedManagedSessionsOptions } from './options.js';
import {
    type PersistedState,
    persistSession,
    readState,
    restoreSession,
    STATE_FORMAT,
    STATE_VERSION,
} from './persist/state.js';
import { createCrawleeSession, type EndReason, ManagedSession } from './pools/managed-session.js';
import type { PoolHost, PoolSnapshot } from './pools/pool.js';
import { choosePool, ParamsPoolIds, type PoolChoice, paramsPoolId, readSessionControls } from './pools/pool-id.js';
import { describeError, describeSessionError, redact, safeCause } from './redact.js';
import { renderSessionReport } from './report/html.js';
import { type SessionReportData, SessionTimeline } from './report/timeline.js';
import { bindRequestSession } from './request-session.js';
import { resolveOptions } from './resolve-options.js';
import { SessionStats, type StatName } from './stats.js';
import { memorySessionStore, type PoolBackend, type StoreConnection } from './store/store.js';
import type { PoolConfig, RequestOverrides, ResolvedPoolOptions, SessionResponse } from './types.js';

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

/** One attempt's session: what to apply to the request, and the handle to report its outcome. */
export interface SessionLease {
    readonly request: Request;
    readonly session: Session;
    readonly poolId: string;
    /** The session's sticky proxy URL, if any. */
    readonly proxyUrl: string | undefined;
    /** `processRequest()` changes for this attempt only. */
    readonly overrides: RequestOverrides | undefined;
}

/** The status line and headers of a response whose body was not read yet. */
export type ResponseHead = Omit<SessionResponse, 'body'>;

/** A download that failed before any response came (network, timeout, proxy), as the adapter classified it. */
export interface TransportFailure {
    readonly error: unknown;
    /** What went wrong, for the error message. @default describeError(error) */
    readonly reason?: string;
}

/** What one attempt came to, for {@link SessionManager.judge}. */
export type AttemptOutcome = SessionResponse | ResponseHead | TransportFailure;

interface LeaseState {
    /** The manager that issued the lease: another manager's lease is rejected. */
    owner: SessionManager;
    managed: ManagedSession;
    pool: PoolBackend;
    config: SessionConfig;
    released: boolean;
}

/**
 * A lease carries the engine's state about its attempt in a private field: a WeakMap insert per
 * attempt cost a fifth of the engine's time per request and doubled its GC work (bench/README.md),
 * and a private field, unlike a property, does not survive a copy of the lease.
 */
class Lease implements SessionLease {
    readonly request: Request;
    readonly session: Session;
    readonly poolId: string;
    readonly proxyUrl: string | undefined;
    readonly overrides: RequestOverrides | undefined;
    readonly #state: LeaseState;

    constructor(request: Request, state: LeaseState, overrides: RequestOverrides | undefined) {
        this.request = request;
        this.session = state.managed.session;
        this.poolId = state.pool.id;
        this.proxyUrl = state.managed.proxyUrl;
        this.overrides = overrides;
        this.#state = state;
    }

    static stateOf(lease: SessionLease): LeaseState | undefined {
        return #state in lease ? (lease as Lease).#state : undefined;
    }
}

/** A saved session waiting for its pool, with the params fingerprint it was initialised for. */
interface RestoredSession {
    managed: ManagedSession;
    paramsFingerprint: string | undefined;
}

/** How many requests' failed sessions the manager remembers for their retries. */
const MAX_FAILED_REMEMBERED = 10_000;

/** A pool unused this long, with no lease out, no waiter and no init under way, is evicted. */
export const POOL_IDLE_EVICT_MS = 5 * 60_000;
/** Live pools above this count evict their least recently used idle ones, down to nine tenths of it. */
export const MAX_LIVE_POOLS = 1_000;
/**
 * Sessions kept for pools that are not live (evicted, or restored and not used yet): they come back
 * with their pool, and the persisted record holds them. Above this, the oldest pools' go.
 */
export const MAX_PARKED_SESSIONS = 1_000;
/** Snapshots of evicted pools that `pools()` still lists (the most recent ones). */
export const MAX_EVICTED_SNAPSHOTS = 1_000;

/** How long `dispose()` waits for aborted inits to settle before it gives up on them. */
const DISPOSE_GRACE_MS = 3_000;

/** The close reason of a `pool()` failure. */
export const POOL_ERROR = 'pool_error';

/**
 * The session engine: picks the pool and session for each attempt, runs inits, checks
 * responses, counts errors, rotates and replaces sessions, and keeps stats. It knows nothing of
 * crawler classes; the adapter wires it into one.
 */
export class SessionManager {
    readonly options: ResolvedManagedSessionsOptions;
    readonly log: Log;
    readonly #deps: SessionManagerDeps;
    readonly #clock: Clock;
    readonly #random: () => number;
    readonly #stats: SessionStats;
    readonly #pools = new Map<string, PoolBackend>();
    readonly #configs = new Map<typeof SessionConfig, SessionConfig>();
    readonly #paramsIds = new ParamsPoolIds();
    /** The `sessionParams` fingerprint of each pool numbered for params (`host[N]`). */
    readonly #poolParams = new Map<string, string>();
    /** Pairings asked of a shared store and not answered yet, so concurrent requests ask once. */
    readonly #pendingParams = new Map<string, Promise<number>>();
    /** Params pools whose pairing was logged in this run. */
    readonly #loggedParams = new Set<string>();
    /** Saved sessions by pool id, waiting for their pool's first use. */
    readonly #restored = new Map<string, RestoredSession[]>();
    /** Sessions in {@link #restored}. */
    #parkedCount = 0;
    /** When each live pool was last asked for a session (the clock's ms). */
    readonly #lastUsed = new Map<string, number>();
    /** Acquires under way plus leases out, per live pool: a pool with any is never evicted. */
    readonly #busy = new Map<string, number>();
    /** The last snapshot of evicted pools (the newest {@link MAX_EVICTED_SNAPSHOTS}). */
    readonly #evicted = new Map<string, PoolSnapshot>();
    #evictedTotal = 0;
    #lastSweep = 0;
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

    readonly #poolHost: PoolHost;
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
        this.#poolHost = {
            clock: this.#clock,
            random: this.#random,
            log: this.log,
            waitTimeoutSecs: resolved.waitTimeoutSecs,
            maxUsageCount: resolved.maxUsageCount,
            maxAgeSecs: resolved.maxAgeSecs,
            adaptiveLifetime: resolved.adaptiveLifetime,
            init: (pool, trigger) => this.#init(pool, trigger),
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
        const live = [...this.#pools.values()].map((pool) => pool.snapshot());
        if (this.#evicted.size === 0) return live;
        // Evicted pools show as they were when evicted, unless they came back (then live wins).
        return [...live, ...[...this.#evicted.values()].filter((snapshot) => !this.#pools.has(snapshot.id))];
    }

    /**
     * The session lifecycle so far: per pool, one record per session (the newest
     * 5,000) with init, end and uses, plus init and waiting totals.
     * Sessions still in rotation show as `alive` up to now.
     */
    sessionReport(): SessionReportData {
        return this.#timeline.data(
            this.#clock.now(),
            this.pools().map(({ id, size }) => ({ id, size })),
            this.#stats.snapshot(),
            this.#closeReason,
        );
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
    async acquire(request: Request): Promise<SessionLease | undefined> {
        if (isSessionInitRequest(request)) return undefined;
        const controls = readSessionControls(request);
        const config = this.configFor(request.url);
        let enabled = controls.enabled;
        if (enabled === undefined) {
            try {
                enabled = this.#guard(() => config.enabled(request));
            } catch (error) {
                throw asError(error, `${config.constructor.name}.enabled()`, request.url);
            }
        }
        if (!enabled) {
            this.#stats.increment('use/disabled', undefined);
            return undefined;
        }
        if (this.#closed) throw new SessionsClosedError('(any)', this.#closeReason);
        let pool: PoolBackend;
        try {
            const chosen = this.#guard(() => this.#poolFor(config, request, controls));
            pool = chosen instanceof Promise ? await chosen : chosen;
        } catch (error) {
            if (error instanceof PoolError) this.#stop(POOL_ERROR, error);
            throw error;
        }
        const avoid = this.#failedOn.get(request.uniqueKey);
        this.#failedOn.delete(request.uniqueKey);
        const waitStart = this.#clock.now();
        this.#lastUsed.set(pool.id, waitStart);
        this.#busy.set(pool.id, (this.#busy.get(pool.id) ?? 0) + 1);
        let managed: ManagedSession;
        try {
            managed = await pool.acquire(request, avoid);
        } catch (error) {
            this.#idle(pool.id);
            throw error;
        }
        this.#timeline.acquired(pool.id, this.#clock.now() - waitStart);
        // Bound before processRequest() so the hook can call getRequestSessionId() for this attempt.
        bindRequestSession(request, managed.session);
        let overrides: RequestOverrides | undefined;
        const hook = `${config.constructor.name}.processRequest()`;
        try {
            const result = this.#guard(() => config.processRequest(request, managed.session));
            overrides =
                (result instanceof Promise ? await this.#deadline(result, hook, pool.id, request.url) : result) ??
                undefined;
        } catch (error) {
            pool.release(managed);
            this.#idle(pool.id);
            throw asError(error, hook, request.url);
        }
        return new Lease(request, { owner: this, managed, pool, config, released: false }, overrides);
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
    async judge(
        lease: SessionLease,
        outcome: AttemptOutcome,
    ): Promise<SessionCheckFailedError | SessionDownloadError | undefined> {
        if (!('statusCode' in outcome)) {
            return this.downloadError(lease, outcome.reason ?? describeError(outcome.error), outcome.error);
        }
        if (this.isErrorStatus(outcome.statusCode)) {
            return this.downloadError(lease, `status ${outcome.statusCode}`);
        }
        if (typeof (outcome as Partial<SessionResponse>).body !== 'string') return undefined;
        return this.#check(lease, outcome as SessionResponse);
    }

    /**
     * Checks the response of a leased attempt (the check part of {@link judge}). Passes quietly, or
     * counts the failure, discards the session when it reached `maxCheckFailures` (or at once when
     * the check threw) and throws, so Crawlee retries with another session.
     *
     * @throws SessionCheckFailedError
     */
    async check(lease: SessionLease, response: SessionResponse): Promise<void> {
        const failed = await this.#check(lease, response);
        if (failed) throw failed;
    }

    async #check(lease: SessionLease, response: SessionResponse): Promise<SessionCheckFailedError | undefined> {
        const state = this.#state(lease);
        const { managed, pool, config } = state;
        let passed: boolean;
        try {
            passed = await this.#deadline(
                this.#guard(() => checkResponse(config, response, lease.request, lease.session, 'use')),
                `${config.constructor.name}.check()`,
                pool.id,
                response.url,
            );
        } catch (error) {
            if (error instanceof CloseCrawlerError) throw error;
            // Whatever the check threw (a CheckError, or an error describing a value that is not
            // one), or if it never settled: the session cannot be vouched for, so it goes.
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
        this.#idle(state.pool.id);
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
        for (const pool of this.#pools.values()) pool.close(reason);
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
        if (this.#inits.size > 0) await this.#settleInits();
        await this.#disposed;
    }

    /** Runs user code; a `CloseCrawlerError` stops the crawl with its reason before it propagates. */
    #guard<T>(fn: () => T): T {
        try {
            const result = fn();
            if (result instanceof Promise) {
                return result.catch((error: unknown) => {
                    if (error instanceof CloseCrawlerError) this.#stop(error.reason, error);
                    throw error;
                }) as T;
            }
            return result;
        } catch (error) {
            if (error instanceof CloseCrawlerError) this.#stop(error.reason, error);
            throw error;
        }
    }

    /**
     * `promise`, or a {@link RequestHookTimeoutError} once `hookTimeoutSecs` passed: a hook that never
     * settles must not hold its attempt (and its session lease) forever.
     */
    #deadline<T>(promise: Promise<T>, hook: string, poolId: string, url: string): Promise<T> {
        const secs = this.options.hookTimeoutSecs;
        return new Promise<T>((resolve, reject) => {
            // A long timer: a huge hookTimeoutSecs must not overflow setTimeout and fire at once.
            const cancel = setLongTimeout(
                this.#clock,
                () => reject(new RequestHookTimeoutError(hook, poolId, url, secs)),
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

    #poolFor(
        config: SessionConfig,
        request: Request,
        controls: ReturnType<typeof readSessionControls>,
    ): PoolBackend | Promise<PoolBackend> {
        const choice = choosePool(config, request, controls);
        if (!choice.params) return this.#pool(choice.id, choice.config, undefined);
        const params = choice.params;
        const { host, fingerprint } = params;
        const known = this.#paramsIds.indexOf(host, fingerprint);
        if (known !== undefined) return this.#paramsPool(params, known, request);
        const store = this.#store;
        if (!store.paramsIndex) return this.#paramsPool(params, this.#paramsIds.assign(host, fingerprint), request);
        // A shared store numbers params for every process: ask it once per pairing.
        const key = `${host}\n${fingerprint}`;
        let pending = this.#pendingParams.get(key);
        if (!pending) {
            pending = store
                .paramsIndex(host, fingerprint)
                .then((index) => {
                    if (!Number.isInteger(index) || index < 0) {
                        throw new TypeError(
                            `The session store numbered sessionParams of ${host} as ${String(index)}; paramsIndex() must resolve to an integer >= 0.`,
                        );
                    }
                    return this.#paramsIds.assign(host, fingerprint, index);
                })
                .finally(() => this.#pendingParams.delete(key));
            this.#pendingParams.set(key, pending);
        }
        return pending.then((index) => this.#paramsPool(params, index, request));
    }

    /** The `host[N]` pool of one params value; its pairing is logged once per run. */
    #paramsPool(params: NonNullable<PoolChoice['params']>, index: number, request: Request): PoolBackend {
        const id = paramsPoolId(params.host, index);
        if (!this.#loggedParams.has(id)) {
            this.#loggedParams.add(id);
            const { url, method } = params.init;
            this.log.info(
                `Pool ${id} serves requests with userData.sessionParams ${method ?? 'GET'} ${redact(url ?? request.url)}.`,
            );
        }
        const pool = this.#pool(id, undefined, params.fingerprint);
        const paired = this.#poolParams.get(id);
        // Defence in depth: a pool paired with other params never serves this request.
        if (paired !== undefined && paired !== params.fingerprint) {
            throw new Error(
                `Pool ${id} holds sessions initialised with other userData.sessionParams than ${request.url} carries; ` +
                    'set userData.sessionPool explicitly for one of them.',
            );
        }
        return pool;
    }

    #pool(
        id: string,
        fromConfig: Omit<PoolConfig, 'id'> | undefined,
        paramsFingerprint: string | undefined,
    ): PoolBackend {
        let pool = this.#pools.get(id);
        if (!pool) {
            this.#sweep();
            pool = this.#store.createPool(id, this.#poolOptions(id, fromConfig), this.#poolHost);
            this.#pools.set(id, pool);
            if (paramsFingerprint !== undefined) this.#poolParams.set(id, paramsFingerprint);
            this.#adoptRestored(pool);
        }
        return pool;
    }

    /**
     * The state to save: every session in rotation (and restored ones not yet needed), with
     * counters, per pool; and the stats. `cookies: false` leaves cookie values out.
     */
    snapshot(cookies: boolean): PersistedState {
        const pools: PersistedState['pools'] = [];
        for (const pool of this.#pools.values()) {
            const fingerprint = this.#poolParams.get(pool.id);
            pools.push({
                id: pool.id,
                badInits: pool.badInits,
                sessions: pool.persistable().map((managed) => persistSession(managed, cookies, fingerprint)),
            });
        }
        for (const [id, sessions] of this.#restored) {
            pools.push({
                id,
                badInits: 0,
                sessions: sessions.map(({ managed, paramsFingerprint }) =>
                    persistSession(managed, cookies, paramsFingerprint),
                ),
            });
        }
        const paramsPools = this.#paramsIds.pairings();
        return {
            format: STATE_FORMAT,
            version: STATE_VERSION,
            savedAt: this.#clock.now(),
            stats: this.#stats.snapshot(),
            pools,
            ...(paramsPools.length > 0 ? { paramsPools } : {}),
        };
    }

    /**
     * Restores a record written by {@link snapshot}: stats continue, and each pool's saved
     * sessions join it, without an init, when the pool is first used. Restored sessions obey the
     * current options: at most `size` per pool, none older than `maxAgeSecs`. Anything unreadable
     * gives one warning and a fresh start. Returns how many sessions were restored.
     */
    restore(value: unknown, key = 'state'): number {
        const state = readState(value, this.log, key);
        if (!state) return 0;
        this.#stats.restore(state.stats);
        // Before any pool is chosen: the same params get the same host[N] as in the saved run. A
        // shared store numbers params itself.
        if (state.paramsPools && !this.#store.paramsIndex) this.#paramsIds.restore(state.paramsPools);
        // A store that keeps sessions itself (shared between processes) is their source of truth.
        if (this.#store.keepsSessions) return 0;
        let count = 0;
        const unreadable: string[] = [];
        let unusable = 0;
        for (const record of state.pools) {
            const sessions: RestoredSession[] = [];
            for (const saved of record.sessions) {
                const managed = restoreSession(saved, record.id, this.#hub, this.log);
                if (managed instanceof ManagedSession) {
                    sessions.push({ managed, paramsFingerprint: saved.paramsFingerprint });
                } else if (managed.kind === 'unreadable') {
                    unreadable.push(`pool ${record.id}: ${managed.what}`);
                } else {
                    unusable++;
                }
            }
            if (sessions.length > 0) this.#park(record.id, sessions);
            count += sessions.length;
        }
        if (unreadable.length > 0) {
            // Pool ids and what was wrong only: the entries themselves hold cookies and proxy passwords.
            const shown =
                unreadable.slice(0, 5).join('; ') + (unreadable.length > 5 ? `; … ${unreadable.length - 5} more` : '');
            this.log.warning(
                `Dropped ${unreadable.length} saved session(s) of the record under ${key} that could not be read (${redact(shown)}); new sessions replace them.`,
            );
        }
        if (unusable > 0) {
            this.log.info(
                `${unusable} saved session(s) were not restored: their proxy password was not saved (persistState.cookies: false).`,
            );
        }
        return count;
    }

    #adoptRestored(pool: PoolBackend): void {
        const saved = this.#restored.get(pool.id);
        if (!saved) return;
        this.#restored.delete(pool.id);
        this.#parkedCount -= saved.length;
        const now = this.#clock.now();
        const maxAgeMs =
            this.options.maxAgeSecs === undefined ? Number.POSITIVE_INFINITY : this.options.maxAgeSecs * 1000;
        // A session initialised with other params than the pool is paired with (or saved before
        // pairings were stable) must not serve its requests: another account's session.
        const paired = this.#poolParams.get(pool.id);
        const matching = saved.filter(({ paramsFingerprint }) => paramsFingerprint === paired);
        if (matching.length < saved.length) {
            this.log.info(
                `Dropped ${saved.length - matching.length} saved sessions of pool ${pool.id}: they were initialised for other userData.sessionParams.`,
            );
        }
        // Too old for the current maxAgeSecs: dropped quietly (not a planned expiry of this run).
        const usable = matching.filter(({ managed }) => now - managed.createdAt < maxAgeMs).slice(0, pool.options.size);
        for (const { managed } of usable) {
            pool.adopt(managed);
            this.#timeline.restored(pool.id, managed, now);
        }
    }

    /** Keeps sessions of a pool that is not live, within {@link MAX_PARKED_SESSIONS} (the oldest pools' go first). */
    #park(id: string, sessions: RestoredSession[]): void {
        const before = this.#restored.get(id);
        if (before) this.#parkedCount -= before.length;
        this.#restored.delete(id);
        this.#restored.set(id, sessions);
        this.#parkedCount += sessions.length;
        for (const [oldest, dropped] of this.#restored) {
            if (this.#parkedCount <= MAX_PARKED_SESSIONS || oldest === id) break;
            this.#restored.delete(oldest);
            this.#parkedCount -= dropped.length;
        }
    }

    /** One acquire or lease of pool `id` is over. */
    #idle(id: string): void {
        const busy = (this.#busy.get(id) ?? 1) - 1;
        if (busy > 0) this.#busy.set(id, busy);
        else this.#busy.delete(id);
    }

    /**
     * Evicts idle pools (no lease out, no acquire or init under way, no waiter): those unused for
     * {@link POOL_IDLE_EVICT_MS}, and, above {@link MAX_LIVE_POOLS}, the least recently used. Their
     * sessions are parked and come back with the pool; their stats stay. Runs when a pool is
     * created, at most once per tenth of the idle time unless the live pools are over the cap.
     * Pools of a shared store are left alone: the store keeps their state and their subscriptions.
     */
    #sweep(): void {
        if (this.#store.keepsSessions) return;
        const now = this.#clock.now();
        const over = this.#pools.size >= MAX_LIVE_POOLS;
        if (!over && now - this.#lastSweep < POOL_IDLE_EVICT_MS / 10) return;
        this.#lastSweep = now;
        const idle: [PoolBackend, number][] = [];
        for (const pool of this.#pools.values()) {
            if (this.#busy.has(pool.id)) continue;
            const snapshot = pool.snapshot();
            if (snapshot.waiting > 0 || snapshot.initializing > 0) continue;
            idle.push([pool, this.#lastUsed.get(pool.id) ?? 0]);
        }
        idle.sort((a, b) => a[1] - b[1]);
        let excess = over ? this.#pools.size - Math.floor(MAX_LIVE_POOLS * 0.9) : 0;
        for (const [pool, lastUsed] of idle) {
            if (excess <= 0 && now - lastUsed < POOL_IDLE_EVICT_MS) break;
            this.#evict(pool);
            excess--;
        }
    }

    #evict(pool: PoolBackend): void {
        const id = pool.id;
        const snapshot = pool.snapshot();
        const fingerprint = this.#poolParams.get(id);
        const sessions = pool
            .persistable()
            .filter((managed) => managed.state === 'ready')
            .map((managed) => ({ managed, paramsFingerprint: fingerprint }));
        pool.close(undefined);
        this.#pools.delete(id);
        this.#lastUsed.delete(id);
        // Their bars end here (`closed`); a session that comes back with its pool gets a new one. The
        // timeline must not hold parked sessions: it would keep thousands of evicted sessions alive.
        const now = this.#clock.now();
        for (const { managed } of sessions) this.#timeline.ended(managed, 'closed', now);
        if (sessions.length > 0) this.#park(id, sessions);
        this.#evicted.delete(id);
        this.#evicted.set(id, snapshot);
        this.#evictedTotal++;
        if (this.#evicted.size > MAX_EVICTED_SNAPSHOTS) this.#evicted.delete(this.#evicted.keys().next().value!);
    }

    /** Pools evicted so far (a pool evicted twice counts twice). */
    get evictedPools(): number {
        return this.#evictedTotal;
    }

    #poolOptions(id: string, fromConfig: Omit<PoolConfig, 'id'> | undefined): ResolvedPoolOptions {
        const fromOption = this.options.pools[id] ?? {};
        const o = this.options;
        return {
            size: fromOption.size ?? fromConfig?.size ?? o.poolSize,
            delay: fromOption.delay ?? fromConfig?.delay ?? o.delay,
            randomizeDelay: fromOption.randomizeDelay ?? fromConfig?.randomizeDelay ?? o.randomizeDelay,
            maxBadInits: fromOption.maxBadInits ?? fromConfig?.maxBadInits ?? o.maxBadInits,
            exclusive: fromOption.exclusive ?? fromConfig?.exclusive ?? o.exclusive,
        };
    }

    /** Inits under way, with their pool id, so `dispose()` can wait for the cancelled ones to settle. */
    readonly #inits = new Map<Promise<unknown>, string>();

    #init(pool: PoolBackend, trigger: Request): Promise<ManagedSession | undefined> {
        const init = this.#runInit(pool, trigger);
        this.#inits.set(init, pool.id);
        void init.finally(() => this.#inits.delete(init));
        return init;
    }

    /** Waits for the inits under way, at most {@link DISPOSE_GRACE_MS}; then logs which pools still had some. */
    async #settleInits(): Promise<void> {
        let timer: TimerHandle | undefined;
        const grace = new Promise<void>((resolve) => {
            timer = this.#clock.setTimeout(resolve, DISPOSE_GRACE_MS);
            // The system clock's timers do not hold the process; this one must, or a `run()` awaited
            // at the top level would end with the process before it resolves.
            (timer as { ref?: () => void }).ref?.();
        });
        await Promise.race([Promise.allSettled([...this.#inits.keys()]), grace]);
        this.#clock.clearTimeout(timer);
        if (this.#inits.size === 0) return;
        const pools = [...new Set(this.#inits.values())];
        this.log.warning(
            `${this.#inits.size} session init(s) did not settle within ${DISPOSE_GRACE_MS / 1000} s after the sessions ` +
                `closed (pools: ${pools.slice(0, 10).join(', ')}${pools.length > 10 ? `, … ${pools.length - 10} more` : ''}); ` +
                'giving up on them. A hook that never returns (initSession(), params(), a proxy newUrlFunction) or a ' +
                'download that ignores its abort signal keeps them open.',
        );
        this.#inits.clear();
    }

    async #runInit(pool: PoolBackend, trigger: Request): Promise<ManagedSession | undefined> {
        const config = this.configFor(trigger.url);
        const started = this.#clock.now();
        try {
            const managed = await initializeSession({
                config,
                poolId: pool.id,
                trigger,
                hub: this.#hub,
                download: this.#deps.download,
                prepare: this.#deps.prepareSession,
                errorStatusCodes: this.options.errorStatusCodes,
                hookTimeoutMs: this.options.hookTimeoutSecs * 1000,
                signal: this.#abort.signal,
                stats: this.#stats,
                log: this.log,
                clock: this.#clock,
                bindRequest: bindRequestSession,
            });
            // A cancelled init is the stop's doing, not an init cost of the site.
            if (managed || !this.#abort.signal.aborted) {
                this.#timeline.initFinished(pool.id, started, this.#clock.now(), managed);
            }
            return managed;
        } catch (error) {
            if (error instanceof CloseCrawlerError) this.#stop(error.reason, error);
            else this.log.exception(error as Error, `Unexpected error in a session init of pool ${pool.id}`);
            return undefined;
        }
    }

    #discard(managed: ManagedSession, pool: PoolBackend, reason: EndReason, trigger: Request): void {
        if (pool.discard(managed, reason, trigger)) this.#discarded(managed, pool, reason);
    }

    #discarded(managed: ManagedSession, pool: PoolBackend, reason: EndReason): void {
        this.#timeline.ended(managed, reason, this.#clock.now());
        this.log.debug(`Discarded session ${managed.id} of pool ${pool.id} (${reason}).`);
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
