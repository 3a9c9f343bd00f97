import {
    createServer,
    type IncomingMessage,
    type OutgoingHttpHeaders,
    type Server,
    type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { productName, productPrice } from './catalogue.js';
import { type DemoSiteCounters, SiteCounters } from './counters.js';
import { checkInteger, type DemoSiteOptions, type ResolvedDemoSiteOptions, resolveDemoSiteOptions } from './options.js';
import {
    accountPage,
    CHALLENGE_PAGE,
    cataloguePage,
    EXPIRED_PAGE,
    type ForbiddenReason,
    forbiddenPage,
    guestAccountPage,
    homePage,
    locationPage,
    loginPage,
    NOT_FOUND_PAGE,
    originErrorPage,
    PAGE_SIZE,
    productPage,
    RATE_LIMITED_PAGE,
} from './pages.js';
import { mulberry32 } from './random.js';
import { BadBodyError, readCookie, readFields } from './request.js';
import { type DemoSessionSnapshot, randomToken, type ServerSession, SessionStore } from './sessions.js';

const HOST = '127.0.0.1';
const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
/** Name of the session cookie. */
export const SESSION_COOKIE = 'sid';
/** Header through which a forwarding proxy exit identifies itself to the site. */
export const EXIT_HEADER = 'x-demo-exit';
const POSTAL_CODE = /^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$/;
const PRODUCT_ID = /^[1-9][0-9]{0,8}$/;
/** `#admit` answered the request itself. */
const REJECTED = Symbol('rejected');

/** Hooks for `startProxyExits`; deliberately not exported from the package entry. */
export interface SiteInternals {
    readonly server: Server;
    listen(): Promise<void>;
    /** Reserves `count` exit numbers, unique for this site. */
    allocateExits(count: number): number[];
    /** Requests arriving on `socket` (a CONNECT tunnel handed to {@link server}) come through `exit`. */
    markTunnel(socket: Socket, exit: number): void;
}

/** @internal */
export const siteInternals = new WeakMap<DemoSite, SiteInternals>();

/**
 * A running demo shop on 127.0.0.1, from {@link startDemoSite}. Call {@link close} when done.
 *
 * Routes (`:id` is 1 to `products`):
 * - `GET /` creates a session unless the request carries a valid one (`Set-Cookie: sid=…; Path=/; HttpOnly`)
 *   and shows its CSRF token in `<meta name="csrf-token" content="…">`.
 * - `GET /start?next=/path` creates a session the same way and redirects (302) to `next` (default `/`).
 * - `GET /login` creates a session the same way and serves a form with a one-time hidden `form_token`.
 * - `GET /go/:id` redirects (302) to `/product/:id`.
 *
 * Session-protected routes; each admitted request is one *use* of its session:
 * - `GET /catalogue?page=N` (50 product links per page), `GET /product/:id`,
 * - `GET /api/products/:id` (JSON; needs header `x-csrf-token`),
 * - `POST /location` (`postalCode`, form or JSON), `POST /login` (`username`, `password`, `form_token`),
 *   `GET /account`.
 *
 * Unless `friendly`, a protected route checks, in order: a valid session (else 403 or the challenge
 * page), expiry (else the 200 expired page), the rate limit (else 429); then the use is counted.
 * Before any route, a banned exit gets 403 and `errorRate` may answer 520/521.
 */
export class DemoSite {
    readonly #options: ResolvedDemoSiteOptions;
    readonly #server: Server;
    readonly #sessions: SessionStore;
    readonly #counters = new SiteCounters();
    readonly #errorRandom: () => number;
    readonly #bannedExits: Set<number>;
    readonly #tunnels = new WeakMap<Socket, number>();
    readonly #cataloguePages = new Map<number, string>();
    #nextExit = 0;
    #port = 0;
    #closing: Promise<void> | undefined;

    /** Use {@link startDemoSite}. */
    constructor(options: ResolvedDemoSiteOptions) {
        this.#options = options;
        this.#sessions = new SessionStore(options.sessionMaxUses, options.sessionMaxAgeMs);
        this.#errorRandom = mulberry32(options.seed);
        this.#bannedExits = new Set(options.bannedExits);
        this.#server = createServer((req, res) => {
            this.#handle(req, res).catch(() => {
                if (res.headersSent) res.destroy();
                else this.#send(res, 500, '<h1 id="server-error">Internal error</h1>');
            });
        });
        siteInternals.set(this, {
            server: this.#server,
            listen: () => this.#listen(),
            allocateExits: (count) => Array.from({ length: count }, () => this.#nextExit++),
            markTunnel: (socket, exit) => this.#tunnels.set(socket, exit),
        });
    }

    /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
    get url(): string {
        return `http://${HOST}:${this.#port}`;
    }

    get port(): number {
        return this.#port;
    }

    /** The options in force, defaults applied. */
    get options(): ResolvedDemoSiteOptions {
        return this.#options;
    }

    /** A snapshot of the counters at the time of the call; later requests do not change it. */
    get counters(): DemoSiteCounters {
        return this.#counters.snapshot();
    }

    /** Zeroes every counter. Sessions, bans and the 520/521 draw sequence are kept. */
    resetCounters(): void {
        this.#counters.reset();
    }

    /** Sessions created since the start (expired ones included). */
    get sessionCount(): number {
        return this.#sessions.size;
    }

    /** A copy of the server-side state of session `id` (the `sid` cookie value), if it exists. */
    getSession(id: string): DemoSessionSnapshot | undefined {
        const session = this.#sessions.get(id);
        if (session === undefined) return undefined;
        const { formToken: _, ...rest } = session;
        return Object.freeze(rest);
    }

    /** Exit numbers currently banned. */
    get bannedExits(): number[] {
        return [...this.#bannedExits].sort((a, b) => a - b);
    }

    /** From now on every request through proxy exit `exit` gets a 403 (unless `friendly`). */
    banExit(exit: number): void {
        this.#bannedExits.add(checkInteger('exit', exit, 0));
    }

    unbanExit(exit: number): void {
        this.#bannedExits.delete(exit);
    }

    /** Stops listening and closes every connection, including keep-alive ones, so the process can exit. */
    close(): Promise<void> {
        this.#closing ??= new Promise<void>((resolve, reject) => {
            if (!this.#server.listening) {
                resolve();
                return;
            }
            this.#server.close((error) => (error ? reject(error) : resolve()));
            this.#server.closeAllConnections();
        });
        return this.#closing;
    }

    #listen(): Promise<void> {
        return new Promise((resolve, reject) => {
            this.#server.once('error', reject);
            this.#server.listen(this.#options.port, HOST, () => {
                this.#server.off('error', reject);
                const address = this.#server.address();
                this.#port = typeof address === 'object' && address !== null ? address.port : this.#options.port;
                resolve();
            });
        });
    }

    async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const options = this.#options;
        const counters = this.#counters;
        const c = counters.live;
        const now = options.clock();

        let target = req.url ?? '/';
        if (!target.startsWith('/')) target = absoluteToOrigin(target);
        const q = target.indexOf('?');
        const path = q === -1 ? target : target.slice(0, q);
        const query = q === -1 ? '' : target.slice(q + 1);
        c.requests++;
        counters.count(c.byPath, path);

        const sid = readCookie(req.headers.cookie, SESSION_COOKIE);
        const session = sid === undefined ? undefined : this.#sessions.get(sid);
        const sessionId = session?.id;
        if (sessionId !== undefined) counters.count(c.requestsPerSession, sessionId);
        counters.enter(sessionId);
        res.once('close', () => counters.leave(sessionId));

        const exit = this.#exitOf(req);
        if (exit !== undefined) counters.count(c.exits, String(exit));
        if (!options.friendly) {
            if (exit !== undefined && this.#bannedExits.has(exit)) return this.#forbidden(res, 'exit-banned');
            if (options.errorRate > 0 && this.#errorRandom() < options.errorRate) {
                const status = this.#errorRandom() < 0.5 ? 520 : 521;
                if (status === 520) c.errors520++;
                else c.errors521++;
                return this.#send(res, status, originErrorPage(status));
            }
        }

        const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
        switch (path) {
            case '/':
                if (method !== 'GET') return this.#notAllowed(res, 'GET');
                return this.#send(res, 200, homePage(this.#ensureSession(res, session, now).csrf));
            case '/start':
                if (method !== 'GET') return this.#notAllowed(res, 'GET');
                this.#ensureSession(res, session, now);
                return this.#redirect(res, safeNext(new URLSearchParams(query).get('next')));
            case '/login':
                if (method === 'GET') return this.#loginForm(res, session, now);
                if (method === 'POST') return this.#login(req, res, session, now);
                return this.#notAllowed(res, 'GET, POST');
            case '/catalogue':
                if (method !== 'GET') return this.#notAllowed(res, 'GET');
                return this.#catalogue(res, session, now, query);
            case '/account':
                if (method !== 'GET') return this.#notAllowed(res, 'GET');
                return this.#account(res, session, now);
            case '/location':
                if (method !== 'POST') return this.#notAllowed(res, 'POST');
                return this.#location(req, res, session, now);
        }
        if (path.startsWith('/product/')) {
            const id = parseProductId(path.slice('/product/'.length));
            if (id === undefined) return this.#send(res, 404, NOT_FOUND_PAGE);
            if (method !== 'GET') return this.#notAllowed(res, 'GET');
            return this.#product(res, session, now, id);
        }
        if (path.startsWith('/api/products/')) {
            const id = parseProductId(path.slice('/api/products/'.length));
            if (id === undefined) return this.#send(res, 404, '{"error":"not found"}', JSON_TYPE);
            if (method !== 'GET') return this.#notAllowed(res, 'GET');
            return this.#apiProduct(req, res, session, now, id);
        }
        if (path.startsWith('/go/')) {
            const id = parseProductId(path.slice('/go/'.length));
            if (id === undefined) return this.#send(res, 404, NOT_FOUND_PAGE);
            return this.#redirect(res, `/product/${id}`);
        }
        return this.#send(res, 404, NOT_FOUND_PAGE);
    }

    #exitOf(req: IncomingMessage): number | undefined {
        const tunneled = this.#tunnels.get(req.socket);
        if (tunneled !== undefined) return tunneled;
        const header = req.headers[EXIT_HEADER];
        if (typeof header !== 'string') return undefined;
        const exit = Number(header);
        return Number.isInteger(exit) && exit >= 0 ? exit : undefined;
    }

    /** Returns the request's session if it is valid, else creates one and sets its cookie. */
    #ensureSession(res: ServerResponse, session: ServerSession | undefined, now: number): ServerSession {
        if (session !== undefined && (this.#options.friendly || !this.#sessions.isExpired(session, now))) {
            return session;
        }
        const created = this.#sessions.create(now);
        this.#counters.live.inits++;
        res.setHeader('set-cookie', `${SESSION_COOKIE}=${created.id}; Path=/; HttpOnly`);
        return created;
    }

    /**
     * The gate of every protected route. Returns the session to serve (`undefined` only when
     * friendly and there is none) after counting the use, or {@link REJECTED} when it answered.
     */
    #admit(
        res: ServerResponse,
        session: ServerSession | undefined,
        now: number,
    ): ServerSession | undefined | typeof REJECTED {
        const options = this.#options;
        const c = this.#counters.live;
        if (session === undefined) {
            if (options.friendly) return undefined;
            if (options.protection === 'challenge') {
                c.challenges++;
                this.#send(res, 200, CHALLENGE_PAGE);
            } else {
                this.#forbidden(res, 'no-session');
            }
            return REJECTED;
        }
        if (!options.friendly) {
            if (this.#sessions.isExpired(session, now)) {
                c.expired++;
                this.#send(res, 200, EXPIRED_PAGE);
                return REJECTED;
            }
            const sinceLastUse = session.lastUseAt === undefined ? Number.POSITIVE_INFINITY : now - session.lastUseAt;
            if (sinceLastUse < options.minReuseIntervalMs) {
                c.rateLimited++;
                const retryAfter = Math.max(1, Math.ceil((options.minReuseIntervalMs - sinceLastUse) / 1000));
                this.#send(res, 429, RATE_LIMITED_PAGE, HTML, { 'retry-after': String(retryAfter) });
                return REJECTED;
            }
        }
        session.uses++;
        session.lastUseAt = now;
        return session;
    }

    #catalogue(res: ServerResponse, session: ServerSession | undefined, now: number, query: string): void {
        if (this.#admit(res, session, now) === REJECTED) return;
        const pages = Math.ceil(this.#options.products / PAGE_SIZE);
        const raw = query === '' ? null : new URLSearchParams(query).get('page');
        const page = raw === null ? 1 : parseProductId(raw);
        if (page === undefined || page > pages) {
            this.#send(res, 404, NOT_FOUND_PAGE);
            return;
        }
        let html = this.#cataloguePages.get(page);
        if (html === undefined) {
            const first = (page - 1) * PAGE_SIZE + 1;
            const last = Math.min(page * PAGE_SIZE, this.#options.products);
            const products = [];
            for (let id = first; id <= last; id++) products.push({ id, name: productName(this.#options.seed, id) });
            html = cataloguePage(page, pages, products);
            this.#cataloguePages.set(page, html);
        }
        this.#counters.live.pages++;
        this.#send(res, 200, html);
    }

    #product(res: ServerResponse, session: ServerSession | undefined, now: number, id: number): void {
        const admitted = this.#admit(res, session, now);
        if (admitted === REJECTED) return;
        const { seed, products, friendly, requireLogin } = this.#options;
        if (!friendly && requireLogin && admitted?.user === undefined) {
            this.#forbidden(res, 'login-required');
        } else if (id > products) {
            this.#send(res, 404, NOT_FOUND_PAGE);
        } else {
            const postalCode = admitted?.postalCode;
            this.#counters.live.pages++;
            this.#send(
                res,
                200,
                productPage(id, productName(seed, id), productPrice(seed, id, postalCode), postalCode),
            );
        }
    }

    #apiProduct(
        req: IncomingMessage,
        res: ServerResponse,
        session: ServerSession | undefined,
        now: number,
        id: number,
    ): void {
        const admitted = this.#admit(res, session, now);
        if (admitted === REJECTED) return;
        const { seed, products } = this.#options;
        const denied = this.#apiDenial(req, admitted);
        if (denied !== undefined) {
            this.#forbidden(res, denied, true);
            return;
        }
        if (id > products) {
            this.#send(res, 404, '{"error":"not found"}', JSON_TYPE);
            return;
        }
        const postalCode = admitted?.postalCode ?? null;
        const body = {
            id,
            name: productName(seed, id),
            price: productPrice(seed, id, postalCode ?? undefined),
            currency: 'USD',
            postalCode,
        };
        this.#counters.live.api++;
        this.#send(res, 200, JSON.stringify(body), JSON_TYPE);
    }

    /** Why an admitted API request is refused, if it is. */
    #apiDenial(req: IncomingMessage, session: ServerSession | undefined): ForbiddenReason | undefined {
        const { friendly, requireLogin } = this.#options;
        if (friendly) return undefined;
        if (session === undefined || req.headers['x-csrf-token'] !== session.csrf) return 'csrf';
        return requireLogin && session.user === undefined ? 'login-required' : undefined;
    }

    async #location(
        req: IncomingMessage,
        res: ServerResponse,
        session: ServerSession | undefined,
        now: number,
    ): Promise<void> {
        const admitted = this.#admit(res, session, now);
        if (admitted === REJECTED) return;
        const body = await this.#readFields(req, res);
        if (body === undefined) return;
        const postalCode = body.fields.get('postalCode');
        if (postalCode === undefined || !POSTAL_CODE.test(postalCode)) {
            const message = 'postalCode must be 2 to 12 letters, digits, spaces or dashes';
            return body.json
                ? this.#send(res, 400, JSON.stringify({ error: message }), JSON_TYPE)
                : this.#send(res, 400, `<h1 id="bad-request">${message}</h1>`);
        }
        if (admitted !== undefined) admitted.postalCode = postalCode;
        return body.json
            ? this.#send(res, 200, JSON.stringify({ postalCode }), JSON_TYPE)
            : this.#send(res, 200, locationPage(postalCode));
    }

    #loginForm(res: ServerResponse, session: ServerSession | undefined, now: number): void {
        const current = this.#ensureSession(res, session, now);
        current.formToken = randomToken();
        this.#send(res, 200, loginPage(current.formToken));
    }

    async #login(
        req: IncomingMessage,
        res: ServerResponse,
        session: ServerSession | undefined,
        now: number,
    ): Promise<void> {
        const admitted = this.#admit(res, session, now);
        if (admitted === REJECTED) return;
        const body = await this.#readFields(req, res);
        if (body === undefined) return;
        // Only a friendly site gets here without a session; it starts one rather than refuse.
        const current = admitted ?? this.#ensureSession(res, undefined, now);
        if (!this.#options.friendly) {
            const expected = current.formToken;
            current.formToken = undefined;
            if (expected === undefined || body.fields.get('form_token') !== expected) {
                return this.#forbidden(res, 'form-token');
            }
        }
        const username = body.fields.get('username') ?? '';
        const users = this.#options.users;
        if (!Object.hasOwn(users, username) || users[username] !== body.fields.get('password')) {
            current.formToken = randomToken();
            return this.#send(res, 401, loginPage(current.formToken, 'Invalid username or password'));
        }
        current.user = username;
        this.#counters.live.logins++;
        this.#redirect(res, '/account');
    }

    #account(res: ServerResponse, session: ServerSession | undefined, now: number): void {
        const admitted = this.#admit(res, session, now);
        if (admitted === REJECTED) return;
        if (admitted?.user !== undefined) this.#send(res, 200, accountPage(admitted.user));
        else if (this.#options.friendly) this.#send(res, 200, guestAccountPage());
        else this.#forbidden(res, 'login-required');
    }

    async #readFields(
        req: IncomingMessage,
        res: ServerResponse,
    ): Promise<{ fields: Map<string, string>; json: boolean } | undefined> {
        try {
            return await readFields(req);
        } catch (error) {
            if (!(error instanceof BadBodyError)) throw error;
            this.#send(res, error.status, JSON.stringify({ error: error.message }), JSON_TYPE);
            return undefined;
        }
    }

    #forbidden(res: ServerResponse, reason: ForbiddenReason, json = false): void {
        this.#counters.live.bans++;
        if (json) this.#send(res, 403, JSON.stringify({ error: 'forbidden', reason }), JSON_TYPE);
        else this.#send(res, 403, forbiddenPage(reason));
    }

    #redirect(res: ServerResponse, location: string): void {
        this.#send(res, 302, '', HTML, { location });
    }

    #notAllowed(res: ServerResponse, allow: string): void {
        this.#send(res, 405, '<h1 id="method-not-allowed">Method not allowed</h1>', HTML, { allow });
    }

    #send(res: ServerResponse, status: number, body: string, type = HTML, extra?: OutgoingHttpHeaders): void {
        const c = this.#counters;
        c.count(c.live.byStatus, String(status));
        const headers: OutgoingHttpHeaders = { 'content-type': type, 'content-length': Buffer.byteLength(body) };
        res.writeHead(status, extra === undefined ? headers : { ...headers, ...extra });
        res.end(body);
    }
}

function parseProductId(text: string): number | undefined {
    return PRODUCT_ID.test(text) ? Number(text) : undefined;
}

/** Only same-site paths: `//evil.example` would be an open redirect. */
function safeNext(next: string | null): string {
    return next?.startsWith('/') && !next.startsWith('//') ? next : '/';
}

/** A request-target in absolute form (sent by a client that treats the site as a proxy). */
function absoluteToOrigin(target: string): string {
    try {
        const url = new URL(target);
        return url.pathname + url.search;
    } catch {
        return '/';
    }
}

/**
 * Starts a demo shop on 127.0.0.1 (an ephemeral port unless `port` is set).
 *
 * @example
 * ```ts
 * const site = await startDemoSite({ seed: 7, sessionMaxUses: 5, protection: 'challenge' });
 * try {
 *     const home = await fetch(`${site.url}/`); // Set-Cookie: sid=…
 *     // …
 *     expect(site.counters.inits).toBe(1);
 * } finally {
 *     await site.close();
 * }
 * ```
 * @throws DemoSiteOptionsError for an unknown option or a wrong value.
 */
export async function startDemoSite(options?: DemoSiteOptions): Promise<DemoSite> {
    const site = new DemoSite(resolveDemoSiteOptions(options));
    await siteInternals.get(site)!.listen();
    return site;
}
