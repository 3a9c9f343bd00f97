import { SessionError } from '@crawlee/core';
import { SessionCheckFailedError, SessionDownloadError } from '@managed-sessions/core';

/** Error codes of network and proxy failures that count against the session (`maxErrors`). */
const NETWORK_CODES = new Set([
    'ECONNREFUSED',
    'ECONNRESET',
    'ECONNABORTED',
    'EPIPE',
    'ETIMEDOUT',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'EPROTO',
    'ERR_GOT_REQUEST_ERROR',
    'ERR_STREAM_PREMATURE_CLOSE',
    'UND_ERR_SOCKET',
]);

const NETWORK_MESSAGE = /timed? ?out|socket hang up|proxy|tunnel|ECONN|EPIPE|ETIMEDOUT|premature close|Parse Error/i;

/**
 * Browser navigation failures of the connection or the proxy (Chromium `net::ERR_…`, Firefox `NS_ERROR_…`), as
 * Playwright reports them. Not `net::ERR_ABORTED` (a navigation the page itself replaced) nor certificate errors.
 */
const BROWSER_NETWORK_MESSAGE =
    /net::ERR_(CONNECTION_\w+|EMPTY_RESPONSE|ADDRESS_UNREACHABLE|NAME_NOT_RESOLVED|NETWORK_CHANGED|TIMED_OUT|PROXY_\w+|TUNNEL_\w+|SOCKS_\w+|INTERNET_DISCONNECTED|INVALID_HTTP_RESPONSE)|NS_ERROR_(NET_\w+|CONNECTION_REFUSED|PROXY_\w+|UNKNOWN_HOST)/;

/**
 * Whether `error`, thrown before a response arrived, is a network, timeout or proxy failure:
 * something the session (its proxy exit) may be to blame for, so it counts as a download error.
 */
export function isNetworkError(error: unknown): boolean {
    if (!(error instanceof Error)) return false;
    for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; depth++) {
        const code = (current as { code?: unknown }).code;
        if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
        if (current.name === 'TimeoutError' || current.name === 'RequestError') return true;
        if (NETWORK_MESSAGE.test(current.message) || BROWSER_NETWORK_MESSAGE.test(current.message)) return true;
        current = current.cause;
    }
    return false;
}

const EXHAUSTED = Symbol('managed-sessions.rotationsExhausted');

/**
 * The final error of a request whose session rotations ran out. It is the last attempt's own error
 * class, {@link SessionCheckFailedError} or {@link SessionDownloadError} (so still Crawlee's
 * `SessionError`, and `instanceof` tests in a `failedRequestHandler` keep working), with a message
 * that says Crawlee will not retry it and names the option to raise. `cause` is the last attempt's
 * original error.
 *
 * `error instanceof SessionRotationsExhaustedError` is true for it; the class itself is never
 * constructed (its instances are made by the adapter).
 *
 * @example
 * failedRequestHandler({ request }, error) {
 *     if (error instanceof SessionRotationsExhaustedError) log.warning(`no session worked for ${request.url}`);
 *     if (error instanceof SessionCheckFailedError) … // also true for a check failure that ran out of rotations
 * }
 */
export abstract class SessionRotationsExhaustedError extends SessionError {
    declare readonly url: string;
    declare readonly pool: string;
    /** The crawler's `maxSessionRotations` that ran out. */
    declare readonly maxSessionRotations: number;
    declare readonly code: SessionCheckFailedError['code'] | SessionDownloadError['code'];

    static override [Symbol.hasInstance](value: unknown): boolean {
        return value instanceof Error && (value as unknown as Record<symbol, unknown>)[EXHAUSTED] === true;
    }
}

class CheckFailedRotationsExhausted extends SessionCheckFailedError {
    override name = 'SessionRotationsExhaustedError';

    constructor(
        readonly maxSessionRotations: number,
        last: SessionCheckFailedError,
    ) {
        super(last.url, last.pool, last.statusCode);
        exhausted(this, last, `Session check failed for ${last.url} (pool ${last.pool}, status ${last.statusCode})`);
    }
}

class DownloadRotationsExhausted extends SessionDownloadError {
    override name = 'SessionRotationsExhaustedError';

    constructor(
        readonly maxSessionRotations: number,
        last: SessionDownloadError,
    ) {
        super(last.url, last.pool, last.reason, { cause: last });
        exhausted(this, last, `Download error for ${last.url} (pool ${last.pool}): ${last.reason}`);
    }
}

function exhausted(
    error: (CheckFailedRotationsExhausted | DownloadRotationsExhausted) & Error,
    last: Error,
    what: string,
): void {
    Object.defineProperty(error, EXHAUSTED, { value: true });
    error.cause = last;
    error.message =
        `${what}. Session errors used up maxSessionRotations (${error.maxSessionRotations}) and the request failed: ` +
        'every attempt got a different session. If the site rejects them all, fix the init or check() for ' +
        'this pool; otherwise raise maxSessionRotations in the crawler options.';
    // The stack was captured with the base class's message and name: its first line says what it is now.
    const frames = error.stack?.split('\n').slice(1).join('\n');
    error.stack = `${error.name}: ${error.message}${frames ? `\n${frames}` : ''}`;
}

/**
 * The error a request fails with once `maxSessionRotations` ran out: the last session error, as the same
 * class, with a message that does not promise another session.
 */
export function rotationsExhausted(
    last: SessionCheckFailedError | SessionDownloadError,
    maxSessionRotations: number,
): SessionCheckFailedError | SessionDownloadError {
    return last instanceof SessionDownloadError
        ? new DownloadRotationsExhausted(maxSessionRotations, last)
        : new CheckFailedRotationsExhausted(maxSessionRotations, last);
}
