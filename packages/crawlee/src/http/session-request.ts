import { type BaseHttpClient, type HttpRequestOptions, processHttpRequestOptions, type Session } from '@crawlee/core';
import type { SessionResponse } from '@managed-sessions/core';

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
    /** Extra got options (`sendRequest` overrides); cookies and session binding still apply. */
    extra?: Partial<HttpRequestOptions>;
}

/**
 * Sends one request with `httpClient` as `session`. Crawlee 3.x's got-scraping client drops the
 * `cookieJar` option (crawlee#3117), so the Cookie header is set here and `Set-Cookie` of every
 * response, redirect hops included, is stored back into the session. Never retried by the client.
 */
export async function sendSessionRequest(
    httpClient: BaseHttpClient,
    options: SessionRequestOptions,
): Promise<Awaited<ReturnType<BaseHttpClient['sendRequest']>>> {
    const { session, extra = {} } = options;
    const url = String(extra.url ?? options.url);
    const headers: Record<string, string> = { ...options.headers, ...(extra.headers as Record<string, string>) };
    mergeCookieHeader(headers, session.getCookieString(url));
    const { hooks: extraHooks, ...rest } = extra as Partial<HttpRequestOptions> & { hooks?: Record<string, unknown[]> };
    const request = processHttpRequestOptions({
        method: (options.method ?? 'GET') as 'GET',
        ...(options.body !== undefined ? { body: options.body } : {}),
        ...rest,
        url,
        headers,
        proxyUrl: options.proxyUrl,
        sessionToken: session,
        responseType: 'text',
        throwHttpErrors: false,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeoutMillis ? { timeout: { request: options.timeoutMillis } } : {}),
        retry: { limit: 0 },
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
    const response = await httpClient.sendRequest(request);
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
    const response = await sendSessionRequest(httpClient, options);
    return {
        url: response.url,
        statusCode: response.statusCode,
        headers: response.headers as SessionResponse['headers'],
        body: typeof response.body === 'string' ? response.body : String(response.body ?? ''),
    };
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
