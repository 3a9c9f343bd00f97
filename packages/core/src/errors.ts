import { NonRetryableError, SessionError } from '@crawlee/core';
import { describeThrown, redact, safeCause } from './redact.js';

/** Stable machine-readable codes carried by every error this package throws. */
export type ManagedSessionsErrorCode =
    | 'ERR_SESSION_CHECK_FAILED'
    | 'ERR_SESSION_DOWNLOAD'
    | 'ERR_NO_SESSION_AVAILABLE'
    | 'ERR_POOL'
    | 'ERR_TOO_MANY_BAD_SESSION_INITS'
    | 'ERR_CLOSE_CRAWLER'
    | 'ERR_OPTIONS'
    | 'ERR_SESSION_CONTROL'
    | 'ERR_SESSIONS_CLOSED'
    | 'ERR_HOOK_TIMEOUT'
    | 'ERR_HOOK_THREW';

/**
 * Base class of the errors that do not steer Crawlee's retries. Errors that must make Crawlee
 * rotate the session extend Crawlee's `SessionError` instead, and carry the same `code` field.
 */
export class ManagedSessionsError extends Error {
    override name = 'ManagedSessionsError';
    readonly code: ManagedSessionsErrorCode;

    constructor(code: ManagedSessionsErrorCode, message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.code = code;
    }
}

/**
 * The use-check rejected a response: the session is no longer honoured by the site. Extends
 * Crawlee's `SessionError`, so Crawlee retries the request (within `maxSessionRotations`) and
 * the retry gets a different session.
 */
export class SessionCheckFailedError extends SessionError {
    override name = 'SessionCheckFailedError';
    readonly code = 'ERR_SESSION_CHECK_FAILED' as const;

    constructor(
        readonly url: string,
        readonly pool: string,
        readonly statusCode: number,
        detail = 'the session check rejected the response',
    ) {
        super(
            `Session check failed for ${url} (pool ${pool}, status ${statusCode}): ${detail}. ` +
                'The request is retried with another session; if every response fails, fix check() or the init.',
        );
    }
}

/**
 * A download error that counts against the session (a status in `errorStatusCodes`, a network
 * or proxy error). Extends Crawlee's `SessionError` so the request is retried on another session.
 */
export class SessionDownloadError extends SessionError {
    override name = 'SessionDownloadError';
    readonly code = 'ERR_SESSION_DOWNLOAD' as const;

    constructor(
        readonly url: string,
        readonly pool: string,
        readonly reason: string,
        options?: { cause?: unknown },
    ) {
        super(
            `Download error for ${url} (pool ${pool}): ${reason}. It counts against the session ` +
                '(option maxErrors) and the request is retried with another session.',
        );
        if (options?.cause !== undefined) this.cause = options.cause;
    }
}

/** No session of the pool became ready within `waitTimeoutSecs`. */
export class NoSessionAvailableError extends ManagedSessionsError {
    override name = 'NoSessionAvailableError';

    constructor(
        readonly url: string,
        readonly pool: string,
        detail: { waitedSecs: number; ready: number; initializing: number; badInits: number; size: number },
    ) {
        super(
            'ERR_NO_SESSION_AVAILABLE',
            `No session of pool ${pool} became ready for ${url} within ${detail.waitedSecs}s ` +
                `(size ${detail.size}, ready ${detail.ready}, initializing ${detail.initializing}, ` +
                `consecutive failed inits ${detail.badInits}). Raise waitTimeoutSecs or the pool size, ` +
                'lower delay, or check why inits are slow or failing.',
        );
    }
}

/**
 * `SessionConfig.pool()` threw or returned something that is not a pool id. Stops the crawl with
 * `pool_error`. Its message and `cause` are redacted (cookies, proxy passwords).
 */
export class PoolError extends ManagedSessionsError {
    override name = 'PoolError';

    constructor(
        readonly url: string,
        message: string,
        options?: { cause?: unknown },
    ) {
        // The message quotes what the user's pool() threw, which may hold cookies or a proxy password.
        super(
            'ERR_POOL',
            redact(`Cannot choose a session pool for ${url}: ${message}`),
            options?.cause !== undefined ? { cause: safeCause(options.cause) } : undefined,
        );
    }
}

/** A pool reached `maxBadInits` consecutive failed inits. Stops the crawl with `bad_session_inits`. */
export class TooManyBadSessionInitsError extends ManagedSessionsError {
    override name = 'TooManyBadSessionInitsError';

    constructor(
        readonly pool: string,
        readonly badInits: number,
    ) {
        super(
            'ERR_TOO_MANY_BAD_SESSION_INITS',
            `Pool ${pool} had ${badInits} consecutive failed session inits; stopping the crawl (bad_session_inits). ` +
                'Check the init request and check() against the site, or raise maxBadInits for this pool.',
        );
    }
}

/**
 * Throw it from any session config hook to stop the crawl gracefully with `reason` as
 * `sessions.closeReason`. Requests not yet handled stay in the request queue.
 *
 * @example
 * check(response) {
 *     if (response.body.includes('account suspended')) throw new CloseCrawlerError('account_suspended');
 *     return true;
 * }
 */
export class CloseCrawlerError extends Error {
    override name = 'CloseCrawlerError';
    readonly code = 'ERR_CLOSE_CRAWLER' as const;

    constructor(readonly reason: string) {
        super(`Crawl stopped by a session config: ${reason}`);
    }
}

/** Invalid options passed to `attachManagedSessions()` or the session manager. */
export class ManagedSessionsOptionsError extends ManagedSessionsError {
    override name = 'ManagedSessionsOptionsError';

    constructor(
        message: string,
        readonly issues: readonly { path: string; message: string }[] = [],
    ) {
        super('ERR_OPTIONS', message);
    }
}

/**
 * A request's `userData` session control (`sessionPool`, `sessionLocation`, `sessionParams`,
 * `sessionEnabled`) is malformed. The request fails without retries (its `userData` would not
 * change); other requests go on.
 */
export class SessionControlError extends NonRetryableError {
    override name = 'SessionControlError';
    readonly code = 'ERR_SESSION_CONTROL' as const;

    constructor(
        readonly url: string,
        readonly key: string,
        problem: string,
    ) {
        super(`Invalid request.userData.${key} for ${url}: ${problem}`);
    }
}

/** The session manager closed (crawl stopping) while a request waited for or used a session. */
export class SessionsClosedError extends ManagedSessionsError {
    override name = 'SessionsClosedError';

    constructor(
        readonly pool: string,
        reason: string | undefined,
    ) {
        super(
            'ERR_SESSIONS_CLOSED',
            `Sessions are closed${reason ? ` (${reason})` : ''}; pool ${pool} serves no more requests. ` +
                'The request stays in the queue for a later run.',
        );
    }
}

/** Where a hook that timed out ran: in a session init (`params()`, a check, `initSession()`), or in an attempt. */
export type HookPhase = 'params' | 'check' | 'init' | 'request';

/**
 * A user hook did not settle within `hookTimeoutSecs`: a hook that never settles must not hold a
 * session, an init or an attempt forever. Thrown as one of its subclasses.
 */
export class HookTimeoutError extends ManagedSessionsError {
    override name = 'HookTimeoutError';
    declare readonly code: 'ERR_HOOK_TIMEOUT';

    constructor(
        readonly hook: string,
        readonly phase: HookPhase,
        readonly pool: string,
        readonly timeoutSecs: number,
        message: string,
    ) {
        super('ERR_HOOK_TIMEOUT', message);
    }
}

/**
 * A user hook of a session init (`params()`, `check()`, `initSession()`, a proxy `newUrlFunction`)
 * did not settle within `hookTimeoutSecs`: the init is abandoned and counted as its outcome.
 */
export class InitHookTimeoutError extends HookTimeoutError {
    override name = 'InitHookTimeoutError';
    declare readonly phase: Exclude<HookPhase, 'request'>;

    constructor(hook: string, phase: Exclude<HookPhase, 'request'>, pool: string, timeoutMs: number) {
        super(
            hook,
            phase,
            pool,
            timeoutMs / 1000,
            `${hook} did not settle within ${timeoutMs / 1000}s (option hookTimeoutSecs) in a session init of ` +
                `pool ${pool}; the init was abandoned. Make the hook resolve or reject, or raise hookTimeoutSecs.`,
        );
    }
}

/**
 * A hook of an attempt (`processRequest()`, `check()`) did not settle within `hookTimeoutSecs`: the
 * attempt fails with this (an ordinary error, so Crawlee retries the request) and its session lease
 * is released.
 */
export class RequestHookTimeoutError extends HookTimeoutError {
    override name = 'RequestHookTimeoutError';

    constructor(
        hook: string,
        pool: string,
        readonly url: string,
        timeoutSecs: number,
    ) {
        super(
            hook,
            'request',
            pool,
            timeoutSecs,
            `${hook} did not settle within ${timeoutSecs} s for ${url} (pool ${pool}); the attempt failed and ` +
                'its session was released. Make the hook settle, or raise the option hookTimeoutSecs.',
        );
    }
}

/**
 * A hook threw something that is not an `Error`. Crawlee (and user code) reads `message` and `stack`
 * of what a request handler throws; a bare `null` or Symbol would break its retry bookkeeping and
 * lose the request, so the engine throws this instead. The original value is its `cause`.
 */
export class HookThrewError extends ManagedSessionsError {
    override name = 'HookThrewError';
    declare readonly code: 'ERR_HOOK_THREW';

    constructor(
        readonly hook: string,
        value: unknown,
        url: string,
    ) {
        super('ERR_HOOK_THREW', `${hook} threw ${describeThrown(value)} instead of an Error (for ${url}).`, {
            cause: value,
        });
    }
}

/** `value` when it is an `Error`, else a {@link HookThrewError} that names `hook` and `url`. */
export function asError(value: unknown, hook: string, url: string): Error {
    return value instanceof Error ? value : new HookThrewError(hook, value, url);
}
