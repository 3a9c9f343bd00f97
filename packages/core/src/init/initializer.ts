import type { EventEmitter } from 'node:events';
import type { Log, Request, Session } from '@crawlee/core';
import { CheckError } from '../check/run-check.js';
import type { Clock } from '../clock.js';
import { SessionConfig } from '../config/session-config.js';
import { CloseCrawlerError, InitHookTimeoutError } from '../errors.js';
import { createCrawleeSession, ManagedSession } from '../pools/managed-session.js';
import { describeSessionError } from '../redact.js';
import type { SessionStats, StatName } from '../stats.js';
import type { InitRequest, SessionResponse } from '../types.js';
import { InitScope } from './hooks.js';
import { createInitRequest, InitParamError, rememberInitRequest } from './params.js';

/** How long a user hook of an init may take when the manager does not say (option `hookTimeoutSecs`). */
export const DEFAULT_HOOK_TIMEOUT_MS = 120_000;

/** What the adapter's init download receives: one Crawlee `Request` to make with `session`. */
export interface InitDownloadArgs {
    /** The init request (`isSessionInitRequest(request)` is true). */
    request: Request;
    init: InitRequest;
    session: Session;
    /** The session's sticky proxy, if the crawler has a proxy configuration. */
    proxyUrl: string | undefined;
    /** Aborted when the sessions close: stop the download. */
    signal: AbortSignal;
}

/** Makes one init download with the session's cookie jar, proxy and fingerprint. */
export type InitDownloader = (args: InitDownloadArgs) => Promise<SessionResponse>;

/** Gives a new session its sticky proxy URL before its init (the adapter asks the crawler). */
export type SessionPreparer = (session: Session, trigger: Request) => Promise<string | undefined> | string | undefined;

/** Thrown inside the download when an init response has a status in `errorStatusCodes`. */
class InitStatusError extends Error {
    override name = 'InitStatusError';
}

/** Everything one init needs, supplied by the manager. */
export interface InitContext {
    config: SessionConfig;
    poolId: string;
    trigger: Request;
    hub: EventEmitter;
    download: InitDownloader;
    prepare: SessionPreparer | undefined;
    errorStatusCodes: readonly number[];
    signal: AbortSignal;
    stats: SessionStats;
    log: Log;
    clock: Clock;
    /**
     * How long each user hook of the init (`params()`, `initSession()`, `check()`, the proxy's
     * `newUrlFunction` through `prepare`) may take; option `hookTimeoutSecs` in ms.
     * @default 120_000
     */
    hookTimeoutMs?: number;
    /** Records the session serving an init request, for `getRequestSessionId()`. */
    bindRequest(request: Request, session: Session): void;
}

/**
 * Creates a session and runs the config's `initSession()` with a download bound to it.
 * Counts exactly one init outcome (none when `close()` cancelled it). Returns the session, or
 * `undefined` when the init failed.
 *
 * @throws CloseCrawlerError when a hook asked to stop the crawl.
 */
export async function initializeSession(context: InitContext): Promise<ManagedSession | undefined> {
    const timeoutMs = context.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
    const scope = new InitScope(context.clock, timeoutMs, context.poolId, context.signal);
    try {
        return await scope.enter(() => runInit(context, scope));
    } finally {
        scope.finish();
    }
}

async function runInit(context: InitContext, scope: InitScope): Promise<ManagedSession | undefined> {
    const { config, poolId, trigger, stats, log } = context;
    const session = createCrawleeSession(context.hub, log);
    const count = (name: StatName) => stats.increment(name, poolId);
    let proxyUrl: string | undefined;
    try {
        const { prepare } = context;
        if (prepare) {
            proxyUrl =
                (await scope.run("the proxy configuration's newUrlFunction", 'init', () =>
                    prepare(session, trigger),
                )) ?? undefined;
        }
    } catch (error) {
        // Cancelled by close(): the stop, not the site, ended it, so no outcome is counted.
        if (context.signal.aborted) return undefined;
        count('init/failed');
        log.warning(
            `Session init for pool ${poolId} failed: no proxy for the session (${describeSessionError(error, session, trigger.url)}).`,
        );
        return undefined;
    }

    const download = async (init: InitRequest): Promise<SessionResponse> => {
        if (scope.signal.aborted) throw new Error('sessions are closing');
        const request = createInitRequest(init, trigger);
        context.bindRequest(request, session);
        const response = await context.download({ request, init, session, proxyUrl, signal: scope.signal });
        if (context.errorStatusCodes.includes(response.statusCode)) {
            throw new InitStatusError(`init response ${response.statusCode} from ${response.url}`);
        }
        rememberInitRequest(response, request);
        return response;
    };

    let passed: boolean;
    try {
        // The built-in initSession() is not a user hook: the params() and check() it calls get their
        // own deadlines, and its download is bounded by the crawler's navigationTimeoutSecs. It still
        // settles at once when the sessions close.
        const builtIn = config.initSession === SessionConfig.prototype.initSession;
        passed = await scope.run(
            'initSession()',
            'init',
            () => config.initSession(session, trigger, download),
            !builtIn,
        );
    } catch (error) {
        if (error instanceof CloseCrawlerError) throw error;
        // Cancelled by close(): the stop, not the site, ended it, so no outcome is counted.
        if (context.signal.aborted) return undefined;
        const phase = error instanceof InitHookTimeoutError ? error.phase : undefined;
        if (error instanceof InitParamError || phase === 'params') {
            count('init/param-error');
            log.error(`Session init for pool ${poolId}: ${describeSessionError(error, session, trigger.url)}`);
        } else if (error instanceof CheckError || phase === 'check') {
            count('init/check-error');
            log.error(`Session init for pool ${poolId}: ${describeSessionError(error, session, trigger.url)}`);
        } else {
            count('init/failed');
            log.warning(`Session init for pool ${poolId} failed: ${describeSessionError(error, session, trigger.url)}`);
        }
        return undefined;
    }
    if (!passed) {
        count('init/check-failed');
        return undefined;
    }
    count('init/check-passed');
    return new ManagedSession(session, poolId, proxyUrl, context.clock.now());
}
