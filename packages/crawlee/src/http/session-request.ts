import { type BaseHttpClient, type HttpRequestOptions, processHttpRequestOptions, type Session } from '@crawlee/core';
import type { SessionResponse } from '@managed-sessions/core';
import { type ClientResponse, completeResponse, toSessionResponse } from './response.js';

/** One HTTP request made as a session: its cookies, its sticky proxy, its header fingerprint. */
export interface SessionRequestOptions {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    session: Session;
    proxyUrl: string | undefined;
    timeoutMillis?: number;
    signal?: AbortSignal;
    /**
     * `ctx.sendRequest()` overrides. They win over the defaults (text body, no client retry, no throw
     * on error statuses, the timeout), as in Crawlee's own `sendRequest`; the session binding (its
     * cookies, proxy and fingerprint) and the abort signal always apply.
     */
    extra?: Partial<HttpRequestOptions>;
}

/**
 * Sends one request with `httpClient` as `session`. Crawlee 3.x's got-scraping client drops the
 * `cookieJar` option (crawlee#3117), so the Cookie header is set here and `Set-Cookie` of every
 * response, redirect hops included, is stored back into the session. The client never retries it
 * (init downloads: a 520 must reach the session's error count once) unless `extra.retry` asks.
 */
export async function sendSessionRequest(
    httpClient: BaseHttpClient,
    options: SessionRequestOptions,
): Promise<ClientResponse> {
    const { session, extra = {} } = options;
    const url = String(extra.url ?? options.url);
    const headers: Record<string, string> = { ...options.headers, ...(extra.headers as Record<string, string>) };
    mergeCookieHeader(headers, session.getCookieString(url));
    const { hooks: extraHooks, ...rest } = extra as Partial<HttpRequestOptions> & { hooks?: Record<string, unknown[]> };
    const request = processHttpRequestOptions({
        method: (options.method ?? 'GET') as 'GET',
        ...(options.body !== undefined ? { body: options.body } : {}),
        // Defaults that `sendRequest` overrides may change, as with Crawlee's own `sendRequest`.
        responseType: 'text',
        throwHttpErrors: false,
        ...(options.timeoutMillis ? { timeout: { request: options.timeoutMillis } } : {}),
        retry: { limit: 0 },
        // A 301/302/303 after a POST (a login form) continues as GET, as browsers do; got keeps POST.
        methodRewriting: true,
        ...rest,
        // The session binding, which they may not.
        url,
        headers,
        proxyUrl: options.proxyUrl,
        sessionToken: session,
        ...(options.signal ? { signal: options.signal } : {}),
        cookieJar: undefined,
    } as unknown as HttpRequestOptions);
    // got passes its hooks through got-scraping; the redirect hook is how hop cookies reach the session.
    (request as Record<string, unknown>).hooks = {
        ...extraHooks,
        beforeRedirect: [
            (next: { url: URL | string; headers: Record<string, string | undefined> }, response: RedirectLike) => {
                session.setCookiesFromResponse(response);
                const target = String(next.url);
                delete next.headers.cookie;
                delete next.headers.Cookie;
                const cookie = session.getCookieString(target);
                if (cookie) next.headers.cookie = cookie;
            },
            ...((extraHooks?.beforeRedirect as unknown[]) ?? []),
        ],
    };
    const response = completeResponse(await httpClient.sendRequest(request));
    session.setCookiesFromResponse(response as unknown as RedirectLike);
    return response;
}

interface RedirectLike {
    headers: Record<string, string | string[] | undefined>;
    url: string;
}

/** Sends one request as `session` and returns what checks see. */
export async function downloadAsSession(
    httpClient: BaseHttpClient,
    options: SessionRequestOptions,
): Promise<SessionResponse> {
    return toSessionResponse(await sendSessionRequest(httpClient, options));
}

/** Adds the session's cookies to a Cookie header the request may already carry (request cookies win). */
function mergeCookieHeader(headers: Record<string, string>, sessionCookies: string): void {
    if (!sessionCookies) return;
    const key = Object.keys(headers).find((name) => name.toLowerCase() === 'cookie');
    if (!key) {
        headers.cookie = sessionCookies;
        return;
    }
    const own = headers[key]!;
    const ownNames = new Set(own.split(';').map((part) => part.split('=')[0]!.trim()));
    const extra = sessionCookies
        .split(';')
        .map((part) => part.trim())
        .filter((part) => part && !ownNames.has(part.split('=')[0]!.trim()));
    headers[key] = [own, ...extra].filter(Boolean).join('; ');
}
