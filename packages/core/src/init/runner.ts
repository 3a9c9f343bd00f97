import type { EventEmitter } from 'node:events';
import type { Log, Request } from '@crawlee/core';
import type { Clock, TimerHandle } from '../clock.js';
import type { SessionConfig } from '../config/session-config.js';
import { CloseCrawlerError } from '../errors.js';
import type { ResolvedManagedSessionsOptions } from '../options.js';
import type { PoolBackend } from '../pools/backend.js';
import type { ManagedSession } from '../pools/managed-session.js';
import type { SessionTimeline } from '../report/timeline.js';
import { bindRequestSession } from '../request-session.js';
import type { SessionStats } from '../stats.js';
import { type InitDownloader, initializeSession, type SessionPreparer } from './initializer.js';

/** How long the engine's dispose waits for aborted inits to settle before it gives up on them. */
export const DISPOSE_GRACE_MS = 3_000;

/** What the init runner works with. */
export interface InitRunnerDeps {
    options: ResolvedManagedSessionsOptions;
    /** The config instance for a URL (one per class). */
    configFor(url: string): SessionConfig;
    /** The emitter that owns every session of the engine. */
    hub: EventEmitter;
    download: InitDownloader;
    prepare: SessionPreparer | undefined;
    /** Aborted when the engine closes: pending inits are cancelled. */
    signal: AbortSignal;
    stats: SessionStats;
    log: Log;
    clock: Clock;
    timeline: SessionTimeline;
    /** Stops the crawl (a hook's `CloseCrawlerError`). */
    stop(reason: string, error: Error): void;
}

/**
 * Runs the inits pools ask for (each one: a Crawlee session, its proxy, the config's
 * `initSession()`; see `initializer.ts`), records them in the timeline, and keeps the ones under way
 * so the engine's dispose can wait for the cancelled ones.
 */
export class InitRunner {
    readonly #deps: InitRunnerDeps;
    /** Inits under way, with their pool id. */
    readonly #inits = new Map<Promise<unknown>, string>();

    constructor(deps: InitRunnerDeps) {
        this.#deps = deps;
    }

    /** Inits under way. */
    get pending(): number {
        return this.#inits.size;
    }

    /** Initialises a new session of `pool` for `trigger`; `undefined` when the init failed or was cancelled. */
    run(pool: PoolBackend, trigger: Request): Promise<ManagedSession | undefined> {
        const init = this.#run(pool, trigger);
        this.#inits.set(init, pool.id);
        void init.finally(() => this.#inits.delete(init));
        return init;
    }

    /** Waits for the inits under way, at most {@link DISPOSE_GRACE_MS}; then logs which pools still had some. */
    async settle(): Promise<void> {
        const { clock, log } = this.#deps;
        let timer: TimerHandle | undefined;
        const grace = new Promise<void>((resolve) => {
            timer = clock.setTimeout(resolve, DISPOSE_GRACE_MS);
            // The system clock's timers do not hold the process; this one must, or a `run()` awaited
            // at the top level would end with the process before it resolves.
            (timer as { ref?: () => void }).ref?.();
        });
        await Promise.race([Promise.allSettled([...this.#inits.keys()]), grace]);
        clock.clearTimeout(timer);
        if (this.#inits.size === 0) return;
        const pools = [...new Set(this.#inits.values())];
        log.warning(
            `${this.#inits.size} session init(s) did not settle within ${DISPOSE_GRACE_MS / 1000} s after the sessions ` +
                `closed (pools: ${pools.slice(0, 10).join(', ')}${pools.length > 10 ? `, … ${pools.length - 10} more` : ''}); ` +
                'giving up on them. A hook that never returns (initSession(), params(), a proxy newUrlFunction) or a ' +
                'download that ignores its abort signal keeps them open.',
        );
        this.#inits.clear();
    }

    async #run(pool: PoolBackend, trigger: Request): Promise<ManagedSession | undefined> {
        const deps = this.#deps;
        const config = deps.configFor(trigger.url);
        const started = deps.clock.now();
        try {
            const managed = await initializeSession({
                config,
                poolId: pool.id,
                trigger,
                hub: deps.hub,
                download: deps.download,
                prepare: deps.prepare,
                errorStatusCodes: deps.options.errorStatusCodes,
                hookTimeoutMs: deps.options.hookTimeoutSecs * 1000,
                signal: deps.signal,
                stats: deps.stats,
                log: deps.log,
                clock: deps.clock,
                bindRequest: bindRequestSession,
            });
            // A cancelled init is the stop's doing, not an init cost of the site.
            if (managed || !deps.signal.aborted) {
                deps.timeline.initFinished(pool.id, started, deps.clock.now(), managed);
            }
            return managed;
        } catch (error) {
            if (error instanceof CloseCrawlerError) deps.stop(error.reason, error);
            else deps.log.exception(error as Error, `Unexpected error in a session init of pool ${pool.id}`);
            return undefined;
        }
    }
}
