import type { InitRequest, SessionResponse } from '@managed-sessions/core';
import type { InitDownloadArgs } from '@managed-sessions/core/internal';
import type {
    BrowserCookie,
    BrowserNavigationResponse,
    BrowserPage,
    BrowserPoolInternals,
} from '../crawler-internals.js';
import { browserHeaders } from '../navigation.js';

/** How a browser init runs: which pool opens its page, and its time budget. */
export interface PageInitOptions {
    browserPool: BrowserPoolInternals;
    /** Budget of the whole init (navigation and `pageActions`): the crawler's `navigationTimeoutSecs`. */
    timeoutMillis: number;
    /** A man-in-the-middle proxy re-signs TLS, so the page must accept its certificates (as BrowserCrawler does). */
    ignoreHTTPSErrors: boolean;
}

/**
 * Runs an init in a browser page of the session: a new incognito page (its own browser context) with
 * the session's proxy and cookies opens the init URL, runs `init.pageActions(page)`, and the cookies
 * the context then holds go back into the session. The response is the page after the actions: its
 * URL, the status and headers of its last main-frame navigation, and its rendered content.
 *
 * `pageActions` run only on a page that loaded: a navigation status of 400 or more fails the init
 * (`init/failed`) without running them, as actions on an error page could only wait for elements that
 * never come. The page is closed when the init ends, times out or the sessions close.
 */
export async function downloadInPage(args: InitDownloadArgs, options: PageInitOptions): Promise<SessionResponse> {
    const { init, proxyUrl, signal } = args;
    const pageActions = init.pageActions;
    if (!pageActions) throw new TypeError('downloadInPage() needs init.pageActions');
    const { browserPool, timeoutMillis } = options;

    // Closing the page is how a pending navigation or action is interrupted; `ended` says why.
    let page: BrowserPage | undefined;
    let ended: 'timeout' | 'closing' | undefined;
    const interrupt = (why: 'timeout' | 'closing') => {
        ended ??= why;
        if (page) void closePage(page);
    };
    const onAbort = () => interrupt('closing');
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => interrupt('timeout'), timeoutMillis);
    try {
        if (signal.aborted) throw new Error('sessions are closing');
        page = (await browserPool.newPage({
            ...(proxyUrl ? { proxyUrl } : {}),
            // The options BrowserCrawler gives its own pages behind such a proxy (Playwright, Puppeteer).
            ...(options.ignoreHTTPSErrors
                ? { pageOptions: { ignoreHTTPSErrors: true, acceptInsecureCerts: true } }
                : {}),
        })) as BrowserPage;
        if (ended) throw new Error(`the browser init was interrupted (${ended})`);
        return await initInPage(page, args, pageActions, options);
    } catch (error) {
        if (ended === 'timeout') {
            throw new Error(`the browser init of ${args.request.url} timed out after ${timeoutMillis / 1000} seconds`, {
                cause: error,
            });
        }
        if (ended === 'closing') throw new Error('sessions are closing', { cause: error });
        throw error;
    } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (page) await closePage(page);
    }
}

/** The steps of a browser init in its page: cookies in, navigation, actions, cookies out. */
async function initInPage(
    page: BrowserPage,
    { request, session }: InitDownloadArgs,
    pageActions: NonNullable<InitRequest['pageActions']>,
    { browserPool, timeoutMillis }: PageInitOptions,
): Promise<SessionResponse> {
    const url = request.url;
    page.setDefaultTimeout(timeoutMillis);
    page.setDefaultNavigationTimeout(timeoutMillis);
    const controller = browserPool.getBrowserControllerByPage(page);
    if (!controller) throw new Error('the browser of the init page closed');
    const cookies = session.getCookies(url) as BrowserCookie[];
    if (cookies.length > 0) {
        await controller.setCookies(
            page,
            cookies.map((cookie) => ({ ...cookie, url: cookie.domain ? undefined : url }) as BrowserCookie),
        );
    }

    // The status that counts is that of the page's last document: a form submitted by the actions
    // navigates, and its answer is the init's answer.
    let last: BrowserNavigationResponse | undefined;
    page.on('response', (response) => {
        if (isMainDocument(response, page)) last = response;
    });
    const first = await openPage(page, request, timeoutMillis);
    if (!first) throw new Error(`the init page ${url} gave no response`);
    if (first.status() >= 400) {
        throw new Error(`the init page ${first.url()} answered ${first.status()}, so its pageActions did not run`);
    }
    // `BrowserPage` is the adapter's view of the Playwright `Page` that browser-pool opened.
    await pageActions(page as unknown as Parameters<typeof pageActions>[0]);

    const response = last ?? first;
    const body = await page.content();
    const finalUrl = page.url();
    storeCookies(session, await controller.getCookies(page));
    return { url: finalUrl, statusCode: response.status(), headers: await browserHeaders(response), body };
}

/**
 * Navigates to the init request, as Crawlee's `gotoExtended` does: headers as extra HTTP headers, or,
 * for another method or a body, on the first request only, through Playwright's `page.route`.
 */
async function openPage(
    page: BrowserPage,
    request: InitDownloadArgs['request'],
    timeoutMillis: number,
): Promise<BrowserNavigationResponse | null> {
    const headers = request.headers ?? {};
    const { method, payload } = request;
    if (method === 'GET' && payload === undefined) {
        if (Object.keys(headers).length > 0) await page.setExtraHTTPHeaders(headers);
        return page.goto(request.url, { timeout: timeoutMillis });
    }
    if (!page.route) {
        throw new Error(`a ${method} init with pageActions needs Playwright (page.route); use GET or an HTTP init`);
    }
    let sent = false;
    await page.route('**/*', async (route) => {
        if (sent) return route.continue();
        sent = true;
        await route.continue({
            method,
            ...(payload !== undefined ? { postData: payload as string | Buffer } : {}),
            headers: { ...route.request().headers(), ...headers },
        });
    });
    return page.goto(request.url, { timeout: timeoutMillis });
}

/** A final (not redirecting) response to a navigation of the page's main frame. */
function isMainDocument(response: BrowserNavigationResponse, page: BrowserPage): boolean {
    try {
        const status = response.status();
        if (status >= 300 && status < 400) return false;
        return response.request().isNavigationRequest() && response.frame() === page.mainFrame();
    } catch {
        // Service-worker responses have no frame.
        return false;
    }
}

/**
 * Stores every cookie of the page's context in the session, each under its own domain: an init may
 * pass through other hosts (a login domain, a redirect), whose cookies later requests need too.
 * (Crawlee's own `session.setCookies(cookies, url)` keeps only those that `url` may set.)
 */
function storeCookies(session: InitDownloadArgs['session'], cookies: BrowserCookie[]): void {
    for (const cookie of cookies) {
        if (!cookie.domain) continue;
        const host = cookie.domain.startsWith('.') ? cookie.domain.slice(1) : cookie.domain;
        const origin = `${cookie.secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}`;
        session.setCookies([cookie], `${origin}${cookie.path ?? '/'}`);
    }
}

async function closePage(page: BrowserPage): Promise<void> {
    if (page.isClosed()) return;
    await page.close().catch(() => undefined);
}
