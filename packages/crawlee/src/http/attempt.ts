import type { BaseHttpClient, Request } from '@crawlee/core';
import { hostOf, type SessionLease } from '@managed-sessions/core/internal';
import type { ClientResponse } from './response.js';
import { sendSessionRequest } from './session-request.js';
import { type HookOptions, rescopeHeaders, type ScopedHeaders, storeHopCookies } from './url-scope.js';

/**
 * Makes an HTTP crawler's navigation (got options of a pre-navigation hook) one of `lease`'s session:
 * the `processRequest()` URL and headers of this attempt, redirect-hop cookies stored into the
 * session, and every URL's Cookie and scoped headers rebuilt for that exact URL.
 */
export function bindNavigation(gotOptions: Record<string, unknown>, request: Request, lease: SessionLease): void {
    const { overrides, session } = lease;
    if (overrides?.headers) {
        gotOptions.headers = { ...(gotOptions.headers as Record<string, string>), ...overrides.headers };
    }
    if (overrides?.url) gotOptions.url = overrides.url;
    const scoped = scopedHeaders(request.url, overrides);
    // Crawlee builds the first request's Cookie header for request.url after this hook (the session's,
    // the request's and other hooks' cookies), and a redirect hop's only when the session has some for
    // it. Whenever the URL requested is another (a processRequest() URL, every hop), its headers are
    // rebuilt here, last, for that exact URL.
    // Without a processRequest() URL the URL requested is request.url itself: no parse per attempt.
    let rebuild = overrides?.url !== undefined && new URL(overrides.url).href !== new URL(request.url).href;
    const hooks = (gotOptions.hooks ?? {}) as Record<string, unknown[]>;
    gotOptions.hooks = {
        ...hooks,
        beforeRedirect: [
            ...(hooks.beforeRedirect ?? []),
            storeHopCookies(session),
            () => {
                rebuild = true;
            },
        ],
        beforeRequest: [
            ...(hooks.beforeRequest ?? []),
            (options: HookOptions) => {
                if (!rebuild) return;
                rebuild = false;
                rescopeHeaders(options, session, scoped, request.headers ?? {});
            },
        ],
    };
}

/**
 * `ctx.sendRequest()` of an attempt: `request` sent as `lease`'s session (its cookies both ways, proxy
 * and fingerprint) with the attempt's `processRequest()` URL and headers; `extra` are the caller's
 * got options.
 */
export function sendAttemptRequest(
    httpClient: BaseHttpClient,
    request: Request,
    lease: SessionLease,
    extra: Record<string, unknown>,
): Promise<ClientResponse> {
    return sendSessionRequest(httpClient, {
        url: lease.overrides?.url ?? request.url,
        method: request.method,
        headers: { ...request.headers },
        scoped: scopedHeaders(request.url, lease.overrides),
        ...(request.payload !== undefined ? { body: String(request.payload) } : {}),
        session: lease.session,
        proxyUrl: lease.proxyUrl,
        extra,
    });
}

/** An attempt's `processRequest()` headers, bound to the host of the URL the attempt fetches. */
function scopedHeaders(
    requestUrl: string,
    overrides: { url?: string; headers?: Record<string, string> } | undefined,
): ScopedHeaders | undefined {
    if (!overrides?.headers) return undefined;
    return { host: hostOf(overrides.url ?? requestUrl), headers: overrides.headers };
}
