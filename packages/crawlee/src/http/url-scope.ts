import type { Session } from '@crawlee/core';
import { hostOf } from '@managed-sessions/core/internal';

/** `processRequest()` headers and the host they were produced for: the host the attempt fetches. */
export interface ScopedHeaders {
    host: string;
    headers: Record<string, string>;
}

/** A got `Options` object as hooks see it: the URL about to be requested and its headers. */
export interface HookOptions {
    url: URL | string;
    headers: Record<string, string | string[] | undefined>;
}

/** What a redirect response offers `Session.setCookiesFromResponse()`. */
export interface RedirectLike {
    headers: Record<string, string | string[] | undefined>;
    url: string;
}

/**
 * The headers of one outgoing request of an attempt, rebuilt for the exact `url` it goes to (the first
 * request when its URL is not the one its headers were made for, and every redirect hop):
 *
 * - Cookie: the session's cookies for `url`, as tough-cookie's `getCookieString(url)` selects them
 *   (domain, path, Secure), plus a cookie header of `scoped` when `url` is on its host (its own names win);
 * - each other header name of `scoped`: its value on its host; elsewhere the `fallback` value
 *   (`request.headers`) or nothing. `pinned` names (headers the caller set for every URL) are left alone, except Cookie.
 */
export function rescopeHeaders(
    options: HookOptions,
    session: Session,
    scoped: ScopedHeaders | undefined,
    fallback: Record<string, string> = {},
    pinned: Record<string, unknown> = {},
): void {
    const url = String(options.url);
    const onHost = scoped !== undefined && hostOf(url) === scoped.host;
    const pinnedNames = new Set(Object.keys(pinned).map((name) => name.toLowerCase()));
    for (const [name, value] of Object.entries(scoped?.headers ?? {})) {
        const lower = name.toLowerCase();
        if (lower === 'cookie' || pinnedNames.has(lower)) continue;
        deleteHeader(options.headers, lower);
        const next = onHost ? value : headerValue(fallback, lower);
        if (next !== undefined) options.headers[lower] = next;
    }
    deleteHeader(options.headers, 'cookie');
    const own = onHost ? headerValue(scoped.headers, 'cookie') : undefined;
    const cookie = mergeCookies(own ?? '', session.getCookieString(url));
    if (cookie) options.headers.cookie = cookie;
}

/** A got `beforeRedirect` hook that stores each hop's `Set-Cookie` in the session before the next hop. */
export function storeHopCookies(session: Session) {
    return (_next: HookOptions, response: RedirectLike): void => {
        session.setCookiesFromResponse(response);
    };
}

/**
 * Adds the session's cookies to a Cookie header the request already has: the request's own cookies win,
 * session cookies of other names follow.
 */
export function mergeCookies(own: string, sessionCookies: string): string {
    if (!own) return sessionCookies;
    const ownNames = new Set(own.split(';').map((part) => part.split('=')[0]!.trim()));
    const extra = sessionCookies
        .split(';')
        .map((part) => part.trim())
        .filter((part) => part && !ownNames.has(part.split('=')[0]!.trim()));
    return [own, ...extra].filter(Boolean).join('; ');
}

export function headerValue(headers: Record<string, unknown>, lowerName: string): string | undefined {
    const key = Object.keys(headers).find((name) => name.toLowerCase() === lowerName);
    const value = key === undefined ? undefined : headers[key];
    return value === undefined || value === null ? undefined : String(value);
}

function deleteHeader(headers: Record<string, unknown>, lowerName: string): void {
    for (const name of Object.keys(headers)) if (name.toLowerCase() === lowerName) delete headers[name];
}
