import { BasicCrawler } from '@crawlee/basic';
import { CheerioCrawler } from '@crawlee/cheerio';
import type {
    BaseHttpClient,
    HttpRequest,
    HttpResponse,
    RedirectHandler,
    ResponseTypes,
    StreamingHttpResponse,
} from '@crawlee/core';
import { GotScrapingHttpClient } from '@crawlee/core';
import { gotScraping } from '@crawlee/utils';
import { attachManagedSessions, SessionConfig, type SessionResponse, sessionConfig } from '@managed-sessions/crawlee';
import { describe, expect, it } from 'vitest';
import { captureLog, testConfig } from './support/crawlee.js';
import { html, redirect, serverPerTest, sidSite } from './support/server.js';

const serve = serverPerTest();

/**
 * Crawlee 3.13.0 – 3.17.0's `GotScrapingHttpClient.sendRequest`, line for line: it returns
 * `{ ...gotResult, body, request }`, a spread of got's response. A spread copies own properties only,
 * so `headers` (a getter on Node's `IncomingMessage.prototype`) is lost; 3.18.0 (apify/crawlee#3807)
 * copies it explicitly. Streams (HttpCrawler's navigation) are the same in both, so they are reused.
 * test/packaging.test.ts runs the packed packages on a real crawlee@3.13.0 as well.
 */
class Crawlee313HttpClient implements BaseHttpClient {
    readonly #streams = new GotScrapingHttpClient();

    async sendRequest<TResponseType extends keyof ResponseTypes>(
        request: HttpRequest<TResponseType>,
    ): Promise<HttpResponse<TResponseType>> {
        const gotResult = await gotScraping({
            ...request,
            retry: { limit: 0, ...(request.retry as Record<string, unknown> | undefined) },
        } as never);
        return {
            ...(gotResult as object),
            body: (gotResult as { body: unknown }).body as ResponseTypes[TResponseType],
            request: { url: request.url, ...(gotResult as { request: object }).request },
        } as unknown as HttpResponse<TResponseType>;
    }

    stream(request: HttpRequest, handleRedirect?: RedirectHandler): Promise<StreamingHttpResponse> {
        return this.#streams.stream(request, handleRedirect);
    }
}

describe('the HTTP client response of Crawlee 3.13 – 3.17 (no own `headers`)', () => {
    it('is what the old client returns: statusCode, but headers undefined', async () => {
        const server = await serve(sidSite());
        const response = await new Crawlee313HttpClient().sendRequest({ url: `${server.url}/`, responseType: 'text' });
        // The shape the adapter must read: if this starts failing, got or Node changed, not the adapter.
        expect(response.statusCode).toBe(200);
        expect(response.headers).toBeUndefined();
        expect((response as unknown as { rawHeaders: string[] }).rawHeaders).toContain('sid=s1; Path=/');
    });

    it('inits store their cookies and pages pass (CheerioCrawler)', async () => {
        // Sessions start at / only; every other page is 403 without a sid cookie.
        const server = await serve(async (request, response) => {
            if (request.path === '/') return sidSite()(request, response);
            if (!request.cookie?.includes('sid=')) return html(response, 'no session', 403);
            html(response, `<h1>${request.path}</h1>`);
        });
        const { log } = captureLog();
        const titles: string[] = [];
        const crawler = new CheerioCrawler(
            {
                log,
                httpClient: new Crawlee313HttpClient(),
                maxConcurrency: 1,
                maxRequestRetries: 0,
                requestHandler: ({ $ }) => {
                    titles.push($('h1').text());
                },
            },
            testConfig(),
        );
        const sessions = attachManagedSessions(crawler, {
            poolSize: 1,
            params: { url: `${server.url}/` },
            statusIntervalSecs: 0,
        });
        const { requestsFailed } = await crawler.run([`${server.url}/a`, `${server.url}/b`]);

        expect(requestsFailed).toBe(0);
        expect(titles).toEqual(['/a', '/b']);
        expect(server.seen.map((r) => `${r.path} ${r.cookie ?? '-'}`)).toEqual(['/ -', '/a sid=s1', '/b sid=s1']);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 2 });
    });

    it('an initSession() chain sees headers (set-cookie) and redirect hops keep their cookies', async () => {
        const server = await serve(async (request, response) => {
            if (request.path === '/login') return redirect(response, '/home', { 'set-cookie': 'login=1; Path=/' });
            if (request.path === '/home') return html(response, 'home', 200, { 'set-cookie': 'sid=s1; Path=/' });
            html(response, `<p>${request.cookie ?? '-'}</p>`);
        });
        const seenHeaders: SessionResponse['headers'][] = [];
        @sessionConfig({ include: `127.0.0.1:${new URL(server.url).port}` })
        class LoginChain extends SessionConfig {
            override async initSession(
                _session: unknown,
                _request: unknown,
                download: (i: object) => Promise<SessionResponse>,
            ) {
                const response = await download({ url: `${server.url}/login` });
                seenHeaders.push(response.headers);
                return String(response.headers['set-cookie']).startsWith('sid=s1');
            }
        }
        const { log } = captureLog();
        const bodies: string[] = [];
        const crawler = new BasicCrawler(
            {
                log,
                httpClient: new Crawlee313HttpClient(),
                maxRequestRetries: 0,
                requestHandler: async ({ sendRequest }) => {
                    const response = await sendRequest();
                    // ctx.sendRequest's own response has its headers again.
                    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
                    bodies.push(String(response.body));
                },
            },
            testConfig(),
        );
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([`${server.url}/page`]);

        expect(seenHeaders).toHaveLength(1);
        expect(seenHeaders[0]?.['set-cookie']).toEqual(['sid=s1; Path=/']);
        expect(bodies).toEqual(['<html><body><p>login=1; sid=s1</p></body></html>']);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 1 });
        void LoginChain;
    });
});
