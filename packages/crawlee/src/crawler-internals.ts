import type { BasicCrawler } from '@crawlee/basic';
import type { BaseHttpClient, Configuration, Log, ProxyConfiguration, ProxyInfo, Request, Session, SessionPool } from '@crawlee/core';

/** The crawling context fields the adapter reads or replaces. */
export interface AttemptContext {
    request: Request;
    session?: Session;
    proxyInfo?: ProxyInfo;
    sendRequest: (overrideOptions?: Record<string, unknown>) => Promise<unknown>;
    response?: {
        statusCode?: number;
        url?: string;
        headers?: Record<string, string | string[] | undefined>;
        destroy?: () => void;
    };
    body?: string | Buffer;
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
 * - `config`: the storage and events (`persistState`) the crawler uses.
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
    launchContext?: { useIncognitoPages?: boolean; experimentalContainers?: boolean };
    browserPool?: unknown;
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
