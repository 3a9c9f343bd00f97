import { cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
import { Configuration, GotScrapingHttpClient } from '@crawlee/core';
import { gotScraping } from '@crawlee/utils';
import {
    attachManagedSessions,
    ManagedSessionsOptionsError,
    SessionConfig,
    type SessionResponse,
    sessionConfig,
} from '@managed-sessions/crawlee';
import { afterAll, describe, expect, it } from 'vitest';
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

/**
 * A second, real copy of `@crawlee/core` 3.18.1 loaded from a temporary folder (its own files; its
 * dependencies linked to the workspace's), as a package manager makes when a project's crawlee and the
 * adapter's peer range disagree. test/packaging.test.ts covers the installed-package layouts.
 */
function loadSecondCrawleeCore(): { Configuration: typeof Configuration; path: string } {
    const require = createRequire(import.meta.url);
    const original = realpathSync(dirname(require.resolve('@crawlee/core/package.json')));
    const root = mkdtempSync(join(tmpdir(), 'ms-second-crawlee-'));
    const modules = join(root, 'node_modules');
    const copy = join(modules, '@crawlee', 'core');
    mkdirSync(join(modules, '@crawlee'), { recursive: true });
    cpSync(original, copy, { recursive: true, dereference: false });
    // Its dependencies: the siblings pnpm gave the original.
    const siblings = dirname(dirname(original));
    for (const name of readdirSync(siblings)) {
        const entries = name.startsWith('@') ? readdirSync(join(siblings, name)).map((n) => `${name}/${n}`) : [name];
        for (const entry of entries) {
            if (entry === '@crawlee/core') continue;
            mkdirSync(dirname(join(modules, entry)), { recursive: true });
            symlinkSync(realpathSync(join(siblings, entry)), join(modules, entry));
        }
    }
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const second = createRequire(join(root, 'index.js'))('@crawlee/core') as { Configuration: typeof Configuration };
    return { Configuration: second.Configuration, path: copy };
}

describe('two copies of @crawlee/core', () => {
    it('attachManagedSessions() throws and names both copies and how to align them', () => {
        const second = loadSecondCrawleeCore();
        expect(second.Configuration).not.toBe(Configuration);
        const require = createRequire(import.meta.url);
        const ours = realpathSync(dirname(require.resolve('@crawlee/core/package.json')));
        const crawler = new CheerioCrawler(
            { requestHandler: () => undefined },
            new second.Configuration({ persistStorage: false }) as Configuration,
        );

        let thrown: unknown;
        try {
            attachManagedSessions(crawler);
        } catch (error) {
            thrown = error;
        }
        expect(thrown).toBeInstanceOf(ManagedSessionsOptionsError);
        expect((thrown as Error).message).toBe(
            `attachManagedSessions(): the crawler uses @crawlee/core 3.18.1 at ${second.path}, but ` +
                `@managed-sessions/crawlee loaded @crawlee/core 3.18.1 at ${ours}. Two copies of Crawlee cannot ` +
                'share sessions, errors or storages. Install one version of every Crawlee package: ' +
                '`npm install @crawlee/core@3.18.1 @crawlee/basic@3.18.1` (or align your crawlee package with them), ' +
                'or pin it for the whole tree with "overrides": { "@crawlee/core": "3.18.1", "@crawlee/basic": ' +
                '"3.18.1" } in package.json (pnpm: "pnpm": { "overrides": … }; yarn: "resolutions"), then reinstall.',
        );
    });

    it('a crawler on the adapter’s own copy attaches', () => {
        const crawler = new CheerioCrawler({ requestHandler: () => undefined }, testConfig());
        expect(() => attachManagedSessions(crawler, { statusIntervalSecs: 0 })).not.toThrow();
    });
});
