import type { Session } from '@crawlee/core';

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi;
// A header value is a quoted or bare string, or a JSON array of them (`"set-cookie":["a=1","b=2"]`).
const SECRET_HEADER =
    /\b(cookie|set-cookie|authorization|proxy-authorization)(["']?\s*[:=]\s*)(\[[^\]]*\]|"[^"]*"|'[^']*'|[^"'\r\n,}]+)/gi;

/**
 * Removes credentials from text bound for logs or error messages: `user:password@` in URLs
 * (proxy passwords) and values of cookie and authorization headers.
 */
export function redact(text: string): string {
    return text.replace(URL_CREDENTIALS, '$1***:***@').replace(SECRET_HEADER, '$1$2***');
}

/** An error's message, redacted, for logs. */
export function describeError(error: unknown): string {
    return redact(error instanceof Error ? error.message : String(error));
}

/**
 * A stand-in for an error kept as another error's `cause`: the redacted message, name and code
 * only. HTTP clients' errors carry their request options (cookies, authorization headers, the
 * proxy URL with its password), which a user who logs an error whole would print.
 */
export function safeCause(error: unknown): Error | undefined {
    if (error === undefined) return undefined;
    const safe = new Error(describeError(error));
    if (error instanceof Error) {
        safe.name = error.name;
        const { code } = error as { code?: unknown };
        if (typeof code === 'string') Object.assign(safe, { code });
        safe.stack = `${safe.name}: ${safe.message}`;
    }
    return safe;
}

/**
 * An error's message, redacted, with every cookie value `session` holds for `url` masked too: a
 * user's check error may quote `session.getCookieString()` bare, without a header name to spot.
 */
export function describeSessionError(error: unknown, session: Session, url: string): string {
    let text = describeError(error);
    for (const cookie of session.getCookies(url)) {
        // Very short values would mask unrelated text and are hardly secrets.
        if (cookie.value.length >= 4) text = text.split(cookie.value).join('***');
    }
    return text;
}
