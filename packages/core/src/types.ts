import type { Page } from 'playwright-core';

/**
 * A postal address that a location-aware session config sets on the site, e.g.
 * `{ addressCountry: 'US', postalCode: '10001' }`.
 */
export type Location = Record<string, string>;

/**
 * One session-initialisation request. Every field is optional: `url` defaults to the URL of
 * the request that triggered the init, `method` to `GET`.
 */
export interface InitRequest {
    /** @default the URL of the request that triggered the init */
    url?: string;
    /** @default 'GET' */
    method?: string;
    headers?: Record<string, string>;
    /** Raw request body; at most one of `body`, `json` and `form`. */
    body?: string;
    /** Sent as JSON with `content-type: application/json`. */
    json?: unknown;
    /** Sent URL-encoded with `content-type: application/x-www-form-urlencoded`. */
    form?: Record<string, string>;
    /**
     * Browser crawlers only: open `url` in a page of the session (its cookies and proxy), then run this.
     * The page's content afterwards is the init response.
     *
     * `page` is Playwright's `Page` (a type from `playwright-core`, an optional peer dependency:
     * projects without Playwright never call this and still compile).
     *
     * @example
     * params: {
     *     url: 'https://shop.example/',
     *     pageActions: async (page) => {
     *         await page.fill('#postal-code', '10001');
     *         await page.click('button[type=submit]');
     *     },
     * }
     */
    pageActions?: (page: Page) => Promise<void>;
}

/** What `SessionConfig.pool()` may return instead of a bare pool id. */
export interface PoolConfig {
    id: string;
    /** Working sessions wanted in the pool. */
    size?: number;
    /** Minimum seconds between two assignments of one session. */
    delay?: number;
    randomizeDelay?: boolean;
    /** Consecutive failed inits before the crawl stops with `bad_session_inits`. */
    maxBadInits?: number;
    /** A session serves one request at a time. */
    exclusive?: boolean;
}

/** The options a pool runs with, after precedence (`pools[id]` > `pool()` > global options). */
export interface ResolvedPoolOptions {
    size: number;
    delay: number;
    randomizeDelay: boolean;
    maxBadInits: number;
    exclusive: boolean;
}

/** What `check()` sees, for init and for use responses alike. */
export interface SessionResponse {
    /** The final URL, after redirects. */
    url: string;
    statusCode: number;
    headers: Record<string, string | string[] | undefined>;
    /** Decoded text (for browser crawlers: the rendered page content). */
    body: string;
}

/** Makes one init request with the cookie jar, proxy and fingerprint of the session being initialised. */
export type Download = (init: InitRequest) => Promise<SessionResponse>;

/** Changes that `processRequest()` applies to the current attempt only; they never leak into retries. */
export interface RequestOverrides {
    url?: string;
    headers?: Record<string, string>;
}
