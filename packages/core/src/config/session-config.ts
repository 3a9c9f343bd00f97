// A leaf of the engine: the class users subclass imports types, the URL helper and the default-hook
// mark only. What its default hooks need of the engine (init-parameter precedence, the check routing)
// comes through its context, so the engine's modules can import configs without a cycle.
import type { Log, Request, Session } from '@crawlee/core';
import type { ResolvedManagedSessionsOptions } from '../options.js';
import type { Download, InitRequest, Location, PoolConfig, RequestOverrides, SessionResponse } from '../types.js';
import { hostOf } from '../url.js';
import { markDefaultHook } from './default-hook.js';

/**
 * The engine's helpers for the default hooks of {@link SessionConfig}; the manager passes them in the
 * context. Not for user code: override the hooks instead.
 */
export interface SessionConfigEngine {
    /**
     * The init request for a session triggered by `request`, after precedence (`userData.sessionParams`,
     * `userData.sessionLocation`, option `params`, option `location`, `location()`, `params()`).
     */
    initRequestFor(config: SessionConfig, request: Request): Promise<InitRequest>;
    /**
     * Whether an init `response` passes the check that applies to it (option `checker`,
     * `locationCheck()` or `check()`), seen with the init request that produced it (else `trigger`).
     */
    checkInit(config: SessionConfig, response: SessionResponse, trigger: Request, session: Session): Promise<boolean>;
}

/** What the manager passes when it instantiates a config class (once per class). */
export interface SessionConfigContext {
    options: ResolvedManagedSessionsOptions;
    /** Crawlee's logger, scoped to managed sessions. */
    log: Log;
    /** The crawler served, set by the adapter (typed there as BasicCrawler). */
    crawler?: unknown;
    /** Set by the session manager: what the default `initSession()` needs of the engine. */
    engine?: SessionConfigEngine;
}

/** Crawlee's blocked status codes: a response with one of them fails the default check. */
const BLOCKED_STATUS_CODES = new Set([401, 403, 429]);

/**
 * How sessions work for the URLs a config is registered for. Subclass it, override the hooks
 * the site needs and register it with {@link sessionConfig}; the manager creates one instance
 * per class.
 *
 * @example
 * @sessionConfig({ include: 'shop.example' })
 * class ShopSessions extends SessionConfig {
 *     override check(response: SessionResponse) {
 *         return response.statusCode === 200 && !response.body.includes('id="expired"');
 *     }
 * }
 */
export class SessionConfig {
    /** The `Location` fields used in location pool ids, in this order. */
    static ADDRESS_FIELDS: string[] = ['addressCountry', 'addressRegion', 'postalCode', 'streetAddress'];

    readonly options: ResolvedManagedSessionsOptions;
    readonly log: Log;
    readonly crawler: unknown;
    readonly #engine: SessionConfigEngine | undefined;

    constructor(context: SessionConfigContext) {
        this.options = context.options;
        this.log = context.log;
        this.crawler = context.crawler;
        this.#engine = context.engine;
    }

    /** Whether `request` gets a session. Default: `userData.sessionEnabled`, else option `enabled`. */
    enabled(request: Request): boolean {
        const value: unknown = request.userData?.sessionEnabled;
        return typeof value === 'boolean' ? value : this.options.enabled;
    }

    /**
     * The pool that serves `request`: an id, or a {@link PoolConfig} with pool options.
     * Default: the URL's host (hostname plus a non-default port).
     */
    pool(request: Request): string | PoolConfig {
        return hostOf(request.url);
    }

    /** The location sessions for `request` must have. Default: none (`{}`). */
    location(_request: Request): Location {
        return {};
    }

    /**
     * The init request for a session triggered by `request`. Default: visit `request.url`.
     * Plain `SessionConfig` cannot set a location: a location without a location-aware
     * `params()` or `locationParams()` stops the crawl with `unsupported_set_location`.
     */
    params(request: Request): InitRequest | Promise<InitRequest> {
        return { url: request.url };
    }

    /**
     * Whether `response` shows the session still works. Called for init responses (with the init
     * request) and for every use response. Default: `false` for 401, 403 and 429.
     */
    check(response: SessionResponse, _request: Request, _session: Session): boolean | Promise<boolean> {
        return !BLOCKED_STATUS_CODES.has(response.statusCode);
    }

    /**
     * Changes for this attempt only (e.g. a CSRF header the init stored in `session.userData`).
     * Default: none.
     */
    processRequest(_request: Request, _session: Session): RequestOverrides | void | Promise<RequestOverrides | void> {
        return undefined;
    }

    /**
     * Initialises `session` for requests like `request`, calling `download` for each init
     * request (it uses the session's cookies, proxy and fingerprint). Returns whether the
     * session is usable. Default: download the init request from `params()` (after the
     * precedence of `userData` and options) and return `check()` of the response.
     *
     * @example A login chain
     * override async initSession(session: Session, request: Request, download: Download) {
     *     const form = await download({ url: 'https://shop.example/login' });
     *     const token = /name="form_token" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
     *     const done = await download({ url: 'https://shop.example/login', method: 'POST', form: { user, password, form_token: token } });
     *     return done.body.includes('id="user"');
     * }
     */
    async initSession(session: Session, request: Request, download: Download): Promise<boolean> {
        const engine = this.#engine;
        if (!engine) {
            throw new TypeError(
                `${this.constructor.name}.initSession() needs the session engine: configs the manager creates get it ` +
                    'in their context. Override initSession() to use a config on its own.',
            );
        }
        const response = await download(await engine.initRequestFor(this, request));
        return engine.checkInit(this, response, request, session);
    }
}

// `params()` left as is cannot set a location; see `initRequestFor`.
markDefaultHook(SessionConfig.prototype.params);
