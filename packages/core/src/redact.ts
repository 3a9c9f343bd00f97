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

/**
 * An error's message, redacted, for logs. Hooks may throw anything: `null`, a `Symbol`, an object
 * without a prototype or with a `message` getter that throws. Every value gets a text, and this
 * never throws.
 */
export function describeError(error: unknown): string {
    return redact(textOf(error));
}

function textOf(value: unknown): string {
    try {
        if (typeof value === 'string') return value;
        if (typeof value === 'symbol') return value.toString();
        if (typeof value !== 'object' && typeof value !== 'function') return String(value);
        if (value === null) return 'null';
        const { message } = value as { message?: unknown };
        if (typeof message === 'string') return message;
    } catch {
        // A getter or a Proxy trap threw: fall back to the value's tag below.
    }
    try {
        return String(value);
    } catch {
        // No toString (a null-prototype object) or one that throws.
    }
    try {
        return Object.prototype.toString.call(value);
    } catch {
        return '(a thrown value that cannot be shown)';
    }
}

/**
 * A stand-in for an error kept as another error's `cause`: the redacted message, name and code
 * only. HTTP clients' errors carry their request options (cookies, authorization headers, the
 * proxy URL with its password), which a user who logs an error whole would print.
 */
export function safeCause(error: unknown): Error | undefined {
    if (error === undefined) return undefined;
    const safe = new Error(describeError(error));
    try {
        if (error instanceof Error) {
            const { name, code } = error as { name: unknown; code?: unknown };
            if (typeof name === 'string') safe.name = name;
            if (typeof code === 'string') Object.assign(safe, { code });
        }
    } catch {
        // A getter or a Proxy trap threw: the message alone will do.
    }
    safe.stack = `${safe.name}: ${safe.message}`;
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
