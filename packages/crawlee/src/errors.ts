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
