/**
 * What the site has served since it started or since `resetCounters()`. Every field is exact,
 * so tests can assert on it. Records are plain objects with string keys.
 */
export interface DemoSiteCounters {
    /** Every request received. */
    readonly requests: number;
    /** Sessions created (by `GET /`, `GET /start` or `GET /login` without a valid session). */
    readonly inits: number;
    /** Requests per session id, counting requests that carried that session's `sid` cookie. */
    readonly requestsPerSession: Readonly<Record<string, number>>;
    /** 403 responses, whatever the reason (no session, banned exit, CSRF, form token, login required). */
    readonly bans: number;
    /** Challenge pages served (status 200, `protection: 'challenge'`). */
    readonly challenges: number;
    /** Expired pages served (status 200). */
    readonly expired: number;
    /** 429 responses. */
    readonly rateLimited: number;
    readonly errors520: number;
    readonly errors521: number;
    /** Successful (200) catalogue and product pages. */
    readonly pages: number;
    /** Successful (200) `/api/products/:id` responses. */
    readonly api: number;
    /** Successful logins (`POST /login` answered with the redirect to `/account`). */
    readonly logins: number;
    /** Requests per path (without the query string), e.g. `/product/12`. */
    readonly byPath: Readonly<Record<string, number>>;
    /** Responses per status code, e.g. `{ '200': 10, '403': 2 }`. */
    readonly byStatus: Readonly<Record<string, number>>;
    /** Requests per proxy exit number (requests that came through `startProxyExits` proxies). */
    readonly exits: Readonly<Record<string, number>>;
    /** Most requests in flight at once. */
    readonly maxConcurrentRequests: number;
    /** Most distinct sessions (by `sid` cookie of a known session) with a request in flight at once. */
    readonly maxConcurrentSessions: number;
}

type Mutable<T> = {
    -readonly [K in keyof T]: T[K] extends Readonly<Record<string, number>> ? Record<string, number> : T[K];
};

/** The site's live counters; only the site writes them. */
export class SiteCounters {
    #c: Mutable<DemoSiteCounters> = SiteCounters.#fresh();
    #inFlight = 0;
    readonly #inFlightBySession = new Map<string, number>();

    static #fresh(): Mutable<DemoSiteCounters> {
        return {
            requests: 0,
            inits: 0,
            requestsPerSession: {},
            bans: 0,
            challenges: 0,
            expired: 0,
            rateLimited: 0,
            errors520: 0,
            errors521: 0,
            pages: 0,
            api: 0,
            logins: 0,
            byPath: {},
            byStatus: {},
            exits: {},
            maxConcurrentRequests: 0,
            maxConcurrentSessions: 0,
        };
    }

    /** The live object, for increments on the hot path. */
    get live(): Mutable<DemoSiteCounters> {
        return this.#c;
    }

    /** Counts `key` in one of the records. */
    count(record: Record<string, number>, key: string): void {
        record[key] = (record[key] ?? 0) + 1;
    }

    /** A request starts; `sessionId` is the known session it carries. Call {@link leave} when it ends. */
    enter(sessionId: string | undefined): void {
        this.#inFlight++;
        if (this.#inFlight > this.#c.maxConcurrentRequests) this.#c.maxConcurrentRequests = this.#inFlight;
        if (sessionId === undefined) return;
        const n = this.#inFlightBySession.get(sessionId) ?? 0;
        this.#inFlightBySession.set(sessionId, n + 1);
        if (this.#inFlightBySession.size > this.#c.maxConcurrentSessions) {
            this.#c.maxConcurrentSessions = this.#inFlightBySession.size;
        }
    }

    leave(sessionId: string | undefined): void {
        this.#inFlight--;
        if (sessionId === undefined) return;
        const n = this.#inFlightBySession.get(sessionId) ?? 1;
        if (n <= 1) this.#inFlightBySession.delete(sessionId);
        else this.#inFlightBySession.set(sessionId, n - 1);
    }

    snapshot(): DemoSiteCounters {
        const c = this.#c;
        return Object.freeze({
            ...c,
            requestsPerSession: Object.freeze({ ...c.requestsPerSession }),
            byPath: Object.freeze({ ...c.byPath }),
            byStatus: Object.freeze({ ...c.byStatus }),
            exits: Object.freeze({ ...c.exits }),
        });
    }

    /** Zeroes every counter; requests in flight keep counting toward the new maxima. */
    reset(): void {
        this.#c = SiteCounters.#fresh();
    }
}
