import { type BaseHttpClient, type HttpRequestOptions, processHttpRequestOptions, type Session } from '@crawlee/core';
import type { SessionResponse } from '@managed-sessions/core';
import { hostOf } from '@managed-sessions/core/internal';
import { type ClientResponse, completeResponse, toSessionResponse } from './response.js';
import {
    type HookOptions,
    mergeCookies,
    type RedirectLike,
    rescopeHeaders,
    type ScopedHeaders,
    storeHopCookies,
} from './url-scope.js';

/** One HTTP request made as a session: its cookies, its sticky proxy, its header fingerprint. */
export interface SessionRequestOptions {
    url: string;
    method?: string;
    /** Headers for every URL (the request's own). */
    headers?: Record<string, string>;
    /** `processRequest()` headers: sent only to their host, on the first request and on redirect hops. */
    scoped?: ScopedHeaders | undefined;
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
    const { session, scoped, extra = {} } = options;
    const url = String(extra.url ?? options.url);
    const pinned = (extra.headers ?? {}) as Record<string, string>;
    const headers: Record<string, string> = {
        ...options.headers,
        ...(scoped && hostOf(url) === scoped.host ? scoped.headers : {}),
        ...pinned,
    };
    setCookieHeader(headers, mergeCookies(cookieHeaderOf(headers), session.getCookieString(url)));
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
    // got passes its hooks through got-scraping. Each redirect hop stores its cookies in the session, then
    // its headers are rebuilt for the next URL: that URL's cookies, processRequest() headers on their host only.
    (request as Record<string, unknown>).hooks = {
        ...extraHooks,
        beforeRedirect: [
            storeHopCookies(session),
            (next: HookOptions) => rescopeHeaders(next, session, scoped, options.headers, pinned),
            ...((extraHooks?.beforeRedirect as unknown[]) ?? []),
        ],
    };
    const response = completeResponse(await httpClient.sendRequest(request));
    session.setCookiesFromResponse(response as unknown as RedirectLike);
    return response;
}

/** Sends one request as `session` and returns what checks see. */
export async function downloadAsSession(
    httpClient: BaseHttpClient,
    options: SessionRequestOptions,
): Promise<SessionResponse> {
    return toSessionResponse(await sendSessionRequest(httpClient, options));
}

function cookieHeaderOf(headers: Record<string, string>): string {
    const key = Object.keys(headers).find((name) => name.toLowerCase() === 'cookie');
    return key === undefined ? '' : headers[key]!;
}

/** Sets the one Cookie header (whatever case the request used), or removes it when there is no cookie. */
function setCookieHeader(headers: Record<string, string>, cookie: string): void {
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'cookie') delete headers[name];
    if (cookie) headers.cookie = cookie;
}
