import { NonRetryableError } from '@crawlee/core';
import { type SessionCheckFailedError, SessionDownloadError } from '@managed-sessions/core';

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

/**
 * The last session error of a request whose session rotations ran out: Crawlee will not retry it,
 * so the message says so, names the option, and does not promise another session.
 */
export class SessionRotationsExhaustedError extends NonRetryableError {
    override name = 'SessionRotationsExhaustedError';
    readonly code = 'ERR_SESSION_ROTATIONS_EXHAUSTED' as const;

    constructor(
        readonly url: string,
        readonly pool: string,
        readonly maxSessionRotations: number,
        lastError: SessionCheckFailedError | SessionDownloadError,
    ) {
        const what =
            lastError instanceof SessionDownloadError
                ? `Download error for ${url} (pool ${pool}): ${lastError.reason}`
                : `Session check failed for ${url} (pool ${pool}, status ${lastError.statusCode})`;
        super(
            `${what}. Session errors used up maxSessionRotations (${maxSessionRotations}) and the request failed: ` +
                'every attempt got a different session. If the site rejects them all, fix the init or check() for ' +
                'this pool; otherwise raise maxSessionRotations in the crawler options.',
        );
        this.cause = lastError;
    }
}
