import type { SessionResponse } from '@managed-sessions/core';
import type { AttemptContext, BrowserNavigationResponse, HttpNavigationResponse } from './crawler-internals.js';

/** The response of an attempt's navigation, as checks see it before its body. */
export interface NavigationResult {
    statusCode: number;
    url: string;
    headers: SessionResponse['headers'];
}

/**
 * The status, final URL and headers of the attempt's navigation: HttpCrawler's response stream or
 * BrowserCrawler's Playwright/Puppeteer `Response`. `undefined` when there is none (a skipped navigation).
 */
export async function readNavigation(context: AttemptContext): Promise<NavigationResult | undefined> {
    const response = context.response;
    if (!response) return undefined;
    if (isBrowserResponse(response)) {
        return {
            statusCode: response.status(),
            url: response.url() || context.request.url,
            headers: await browserHeaders(response),
        };
    }
    return {
        statusCode: response.statusCode ?? 0,
        url: response.url || context.request.url,
        headers: response.headers ?? {},
    };
}

/** Drops the unread body of an HTTP response that will not be parsed (a browser has read it already). */
export function discardBody(context: AttemptContext): void {
    const response = context.response;
    if (response && !isBrowserResponse(response)) response.destroy?.();
}

/**
 * The body checks see: the parsed text of HTTP crawlers, or the rendered page of browser crawlers
 * (`page.content()` after navigation, so content written by the page's scripts is included).
 */
export async function readBody(context: AttemptContext): Promise<string> {
    const { body, page } = context;
    if (typeof body === 'string') return body;
    if (body) return body.toString();
    if (page) return page.content();
    return '';
}

/** Every header of a browser response: Playwright's `allHeaders()` includes `set-cookie`, `headers()` does not. */
export async function browserHeaders(response: BrowserNavigationResponse): Promise<SessionResponse['headers']> {
    return typeof response.allHeaders === 'function' ? response.allHeaders() : response.headers();
}

function isBrowserResponse(
    response: HttpNavigationResponse | BrowserNavigationResponse,
): response is BrowserNavigationResponse {
    return typeof (response as BrowserNavigationResponse).status === 'function';
}
