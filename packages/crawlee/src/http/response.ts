import type { BaseHttpClient } from '@crawlee/core';
import type { SessionResponse } from '@managed-sessions/core';

/** What `BaseHttpClient.sendRequest()` resolves to. */
export type ClientResponse = Awaited<ReturnType<BaseHttpClient['sendRequest']>>;

/**
 * The one place that reads `BaseHttpClient.sendRequest()` responses, whatever Crawlee 3.x made them.
 *
 * Crawlee 3.13.0 – 3.17.0's `GotScrapingHttpClient` returns `{ ...gotResponse, body, request }`: a
 * spread of got's response, an `IncomingMessage`, which copies own properties only. `headers` is a
 * getter on `IncomingMessage.prototype`, so it is lost (and on some Node versions `statusCode` too);
 * 3.18.0 (apify/crawlee#3807) copies them explicitly. The spread keeps `rawHeaders`, `url` and
 * `request.response` (got's request holds the original response), from which they are read back.
 *
 * The response is completed in place, so `ctx.sendRequest()` callers and Crawlee's own
 * `Session.setCookiesFromResponse()` see `headers` and `statusCode` on every version.
 */
export function completeResponse<T extends ClientResponse>(response: T): T {
    const loose = response as unknown as LooseResponse;
    const original = loose.request?.response;
    if (loose.headers === undefined || loose.headers === null) {
        loose.headers = original?.headers ?? headersFromRaw(loose.rawHeaders ?? original?.rawHeaders);
    }
    if (typeof loose.statusCode !== 'number' && typeof original?.statusCode === 'number') {
        loose.statusCode = original.statusCode;
    }
    if (typeof loose.url !== 'string' || loose.url === '') {
        const url = original?.url ?? loose.request?.url;
        if (url !== undefined) loose.url = String(url);
    }
    return response;
}

/** What checks see of a response: its body as text, whatever `responseType` parsed it into. */
export function toSessionResponse(response: ClientResponse): SessionResponse {
    const complete = completeResponse(response);
    return {
        url: complete.url,
        statusCode: complete.statusCode,
        headers: complete.headers as SessionResponse['headers'],
        body: bodyText(complete as { body: unknown; rawBody?: unknown }),
    };
}

interface HeadersLike {
    headers?: Record<string, string | string[] | undefined> | null;
    rawHeaders?: string[];
    statusCode?: number;
    url?: string | URL;
}

interface LooseResponse extends HeadersLike {
    request?: { url?: string | URL; response?: HeadersLike };
}

/** Node's `IncomingMessage.headers` from its `rawHeaders`: lower-case names, `set-cookie` as an array, others joined. */
function headersFromRaw(raw: string[] | undefined): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = {};
    if (!Array.isArray(raw)) return headers;
    for (let i = 0; i + 1 < raw.length; i += 2) {
        const name = raw[i]!.toLowerCase();
        const value = raw[i + 1]!;
        const previous = headers[name];
        if (name === 'set-cookie') headers[name] = [...((previous as string[] | undefined) ?? []), value];
        else headers[name] = previous === undefined ? value : `${previous}, ${value}`;
    }
    return headers;
}

function bodyText({ body, rawBody }: { body: unknown; rawBody?: unknown }): string {
    if (typeof body === 'string') return body;
    if (Buffer.isBuffer(rawBody)) return rawBody.toString();
    if (Buffer.isBuffer(body)) return body.toString();
    return body === undefined || body === null ? '' : (JSON.stringify(body) ?? '');
}
