import type { BasicCrawler } from '@crawlee/basic';
import type {
    BaseHttpClient,
    Configuration,
    Log,
    ProxyConfiguration,
    ProxyInfo,
    Request,
    Session,
    SessionPool,
} from '@crawlee/core';

/** The crawling context fields the adapter reads or replaces. */
export interface AttemptContext {
    /** Unique per attempt; BrowserCrawler opens the attempt's page under this id. */
    id?: string;
    request: Request;
    session?: Session;
    proxyInfo?: ProxyInfo;
    sendRequest: (overrideOptions?: Record<string, unknown>) => Promise<unknown>;
    /** HttpCrawler: the response stream; BrowserCrawler: the navigation's Playwright/Puppeteer `Response`. */
    response?: HttpNavigationResponse | BrowserNavigationResponse;
    body?: string | Buffer;
    /** BrowserCrawler: the attempt's page. */
    page?: BrowserPage;
}

/** What HttpCrawler's `ctx.response` (a got response stream) offers the adapter. */
export interface HttpNavigationResponse {
    statusCode?: number;
    url?: string;
    headers?: Record<string, string | string[] | undefined>;
    destroy?: () => void;
}

/** What a Playwright (or Puppeteer) `Response` offers the adapter. */
export interface BrowserNavigationResponse {
    status(): number;
    url(): string;
    headers(): Record<string, string>;
    /** Playwright only: every header, `set-cookie` included. */
    allHeaders?(): Promise<Record<string, string>>;
    request(): { isNavigationRequest(): boolean };
    frame(): unknown;
}

/** The Playwright (or Puppeteer) `Page` members the adapter uses; typed here so the adapter needs neither library. */
export interface BrowserPage {
    url(): string;
    content(): Promise<string>;
    goto(url: string, options?: { timeout?: number }): Promise<BrowserNavigationResponse | null>;
    close(): Promise<void>;
    isClosed(): boolean;
    on(event: 'response', listener: (response: BrowserNavigationResponse) => void): unknown;
    mainFrame(): unknown;
    setDefaultTimeout(timeout: number): void;
    setDefaultNavigationTimeout(timeout: number): void;
    setExtraHTTPHeaders(headers: Record<string, string>): Promise<void>;
    /** Playwright only. */
    route?(url: string, handler: (route: BrowserRoute) => Promise<void>): Promise<void>;
}

/** A Playwright `Route`. */
export interface BrowserRoute {
    continue(overrides?: {
        method?: string;
        postData?: string | Buffer;
        headers?: Record<string, string>;
    }): Promise<void>;
    request(): { headers(): Record<string, string> };
}

type Hook = (context: AttemptContext, options: Record<string, unknown>) => unknown;

/**
 * The Crawlee 3.x members the adapter touches, in one place. Most are protected in Crawlee's
 * types; the integration tests fail if a Crawlee update moves them.
 *
 * - `_runRequestHandler`: called per attempt after the request is known and before anything
 *   reads `ctx.session` (proxy, cookies, fingerprint, redirects). The only point where the
 *   session can be chosen per request and honoured everywhere.
 * - `requestHandler` / `userRequestHandler`: the user's handler, wrapped so the use-check sees
 *   the parsed body before user code runs.
 * - `preNavigationHooks` / `postNavigationHooks`: per-attempt overrides and sticky proxy before
 *   the download; `errorStatusCodes` seen before Crawlee's own 5xx error.
 * - `sessionPoolOptions`: Crawlee's own pool shrinks to one placeholder session; `sessionPool` is
 *   the emitter of the empty sessions that serve requests without a managed session.
 * - `isRequestBlocked`: with `retryOnBlocked`, the use-check runs before Crawlee's own verdict.
 * - `httpClient`, `navigationTimeoutMillis`, `proxyConfiguration`: how init requests are made.
 * - `teardown`, `_init`: the end and start of each `run()` (restore and save the pool state).
 * - `config`: the storage and events (`persistState`) the crawler uses; its class tells which copy of
 *   `@crawlee/core` the crawler runs on (`crawlee-copies.ts`: a second copy is refused at attach).
 *
 * Crawlee's HTTP client (`BaseHttpClient`, the crawler's `httpClient`), read in `http/response.ts` only:
 * `sendRequest()` resolves to got's response with `statusCode`, `headers` and `url` own properties from
 * 3.18.0 on; 3.13.0 – 3.17.0 return a spread of it without `headers`, completed there from `rawHeaders` /
 * `request.response`. `stream()` (HttpCrawler's navigation) has them on every 3.x. got hooks passed in the
 * request options (`beforeRedirect`, `beforeRequest`) reach got through got-scraping on every 3.x.
 *
 * BrowserCrawler (PlaywrightCrawler) adds the members of {@link BrowserCrawlerInternals}.
 */
export interface CrawlerInternals {
    running: boolean;
    useSessionPool: boolean;
    sessionPoolOptions: Record<string, unknown>;
    /** Crawlee's own pool; created in `_init`, it only hands out a placeholder session. */
    sessionPool?: SessionPool;
    log: Log;
    /** The crawler's configuration: its storage (key-value store) and event manager. */
    config: Configuration;
    httpClient: BaseHttpClient;
    proxyConfiguration?: ProxyConfiguration;
    navigationTimeoutMillis?: number;
    requestHandler: (context: AttemptContext) => unknown;
    preNavigationHooks?: Hook[];
    postNavigationHooks?: Hook[];
    _runRequestHandler(context: AttemptContext): Promise<void>;
    /** Crawlee's blocked detection, called only with `retryOnBlocked` (HttpCrawler, BrowserCrawler). */
    isRequestBlocked?(context: AttemptContext): Promise<string | false>;
    _init(): Promise<void>;
    teardown(): Promise<void>;
    stop(message?: string): void;
    /** Session errors a request may meet before Crawlee fails it (BasicCrawler option). */
    maxSessionRotations?: number;
}

/**
 * The BrowserCrawler (PlaywrightCrawler) members the adapter touches on top of {@link CrawlerInternals}.
 *
 * - `launchContext.useIncognitoPages`: only incognito pages get a proxy of their own (browser-pool
 *   `_createPageForBrowser` applies `proxyUrl` to incognito or container pages only), and without them
 *   `_enhanceCrawlingContextWithPageInfo` replaces `ctx.session` by the browser's launch session.
 * - `userProvidedRequestHandler`: the user's handler (`requestHandler` is Crawlee's page-opening
 *   wrapper), wrapped so the use-check sees the rendered page before user code runs.
 * - `browserPool.newPage`: wrapped so each attempt's page opens with its session's sticky proxy, and used
 *   for browser inits (`InitRequest.pageActions`); `getBrowserControllerByPage` sets and reads page cookies.
 * - `_navigationHandler`: wrapped so `processRequest()` URL and header overrides reach `page.goto`.
 */
export interface BrowserCrawlerInternals extends CrawlerInternals {
    launchContext: { useIncognitoPages?: boolean; experimentalContainers?: boolean };
    browserPool: BrowserPoolInternals;
    userProvidedRequestHandler: (context: AttemptContext) => unknown;
    _navigationHandler(context: AttemptContext, gotoOptions: Record<string, unknown>): Promise<unknown>;
    navigationTimeoutMillis: number;
}

/** A cookie as browser-pool passes it to and from pages. */
export interface BrowserCookie {
    name: string;
    value: string;
    domain?: string;
    path?: string;
    expires?: number;
    secure?: boolean;
    httpOnly?: boolean;
    url?: string;
}

/** The browser-pool `BrowserPool` members the adapter uses. */
export interface BrowserPoolInternals {
    newPage(options?: {
        id?: string;
        proxyUrl?: string | undefined;
        proxyTier?: number | undefined;
        pageOptions?: Record<string, unknown>;
    }): Promise<unknown>;
    getBrowserControllerByPage(page: unknown):
        | {
              setCookies(page: unknown, cookies: BrowserCookie[]): Promise<void>;
              getCookies(page: unknown): Promise<BrowserCookie[]>;
          }
        | undefined;
}

/** The crawler as a BrowserCrawler, or `undefined` for the HTTP crawlers. */
export function browserInternalsOf(crawler: CrawlerInternals): BrowserCrawlerInternals | undefined {
    const candidate = crawler as Partial<BrowserCrawlerInternals>;
    return typeof candidate.browserPool?.newPage === 'function' &&
        typeof candidate.userProvidedRequestHandler === 'function' &&
        typeof candidate._navigationHandler === 'function'
        ? (crawler as BrowserCrawlerInternals)
        : undefined;
}

/** Runtime access to a crawler's internals, after checking it is a Crawlee 3.x crawler. */
export function internalsOf(crawler: BasicCrawler<any>): CrawlerInternals {
    const internals = crawler as unknown as CrawlerInternals;
    if (typeof internals?._runRequestHandler !== 'function' || typeof internals.teardown !== 'function') {
        throw new TypeError(
            'attachManagedSessions(crawler) needs a Crawlee 3.x crawler (BasicCrawler, HttpCrawler, CheerioCrawler, ' +
                'JSDOMCrawler or PlaywrightCrawler instance).',
        );
    }
    return internals;
}
