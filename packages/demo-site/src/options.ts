/** What the site serves to a request for a session-protected page that carries no valid session. */
export type Protection = 'forbidden' | 'challenge';

/**
 * Options of {@link startDemoSite}. Every field is optional; defaults live in {@link DEMO_SITE_DEFAULTS}.
 */
export interface DemoSiteOptions {
    /**
     * TCP port on 127.0.0.1; `0` picks a free ephemeral port.
     * @default 0
     */
    port?: number | undefined;
    /**
     * Seed of everything random the site decides (520/521 draws, product names and prices), so two
     * sites with the same seed behave alike for the same sequence of requests. An integer in [0, 2^32).
     * @default 1
     */
    seed?: number | undefined;
    /**
     * How a session-protected page answers a request without a valid session: `'forbidden'` serves
     * a 403, `'challenge'` a 200 page with `<h1 id="challenge">Please enable cookies</h1>`.
     * @default 'forbidden'
     */
    protection?: Protection | undefined;
    /**
     * Server-side session lifetime in uses: after this many uses every protected page of the
     * session is the 200 "expired" page. `undefined`: unlimited.
     * @default undefined
     */
    sessionMaxUses?: number | undefined;
    /**
     * Server-side session lifetime in milliseconds since the session was created (by the site's
     * clock). `undefined`: unlimited.
     * @default undefined
     */
    sessionMaxAgeMs?: number | undefined;
    /**
     * Per-session rate limit: a use sooner than this after the session's previous use is answered
     * with 429 (and does not count as a use). `0` disables it.
     * @default 0
     */
    minReuseIntervalMs?: number | undefined;
    /**
     * Probability in [0, 1] that a request is answered with a random 520 or 521 (equally likely),
     * drawn from the seeded PRNG in arrival order.
     * @default 0
     */
    errorRate?: number | undefined;
    /**
     * No bans and no checks at all (no protection, expiry, rate limit, errors, exit bans, CSRF,
     * form token or login requirement): for measuring the overhead of the crawler alone.
     * @default false
     */
    friendly?: boolean | undefined;
    /**
     * Number of product pages, `/product/1` to `/product/{products}`. A positive integer.
     * @default 1000
     */
    products?: number | undefined;
    /**
     * Product pages and `/api/products/:id` also require a logged-in session (403 otherwise).
     * @default false
     */
    requireLogin?: boolean | undefined;
    /**
     * Accounts accepted by `POST /login`: username → password.
     * @default { alice: 'wonderland' }
     */
    users?: Readonly<Record<string, string>> | undefined;
    /**
     * Proxy exits (see `startProxyExits`) banned from the start: every request through them gets a 403.
     * @default []
     */
    bannedExits?: readonly number[] | undefined;
    /**
     * Milliseconds clock used for session ages and the rate limit; inject one in tests.
     * @default Date.now
     */
    clock?: (() => number) | undefined;
}

/** {@link DemoSiteOptions} with every default applied. */
export interface ResolvedDemoSiteOptions {
    readonly port: number;
    readonly seed: number;
    readonly protection: Protection;
    readonly sessionMaxUses: number | undefined;
    readonly sessionMaxAgeMs: number | undefined;
    readonly minReuseIntervalMs: number;
    readonly errorRate: number;
    readonly friendly: boolean;
    readonly products: number;
    readonly requireLogin: boolean;
    readonly users: Readonly<Record<string, string>>;
    readonly bannedExits: readonly number[];
    readonly clock: () => number;
}

/** The default of every option of {@link startDemoSite}. */
export const DEMO_SITE_DEFAULTS: ResolvedDemoSiteOptions = Object.freeze({
    port: 0,
    seed: 1,
    protection: 'forbidden',
    sessionMaxUses: undefined,
    sessionMaxAgeMs: undefined,
    minReuseIntervalMs: 0,
    errorRate: 0,
    friendly: false,
    products: 1000,
    requireLogin: false,
    users: Object.freeze({ alice: 'wonderland' }),
    bannedExits: Object.freeze([]),
    clock: Date.now,
});

/** An option of {@link startDemoSite} (or of `startProxyExits`) has a wrong type or value. */
export class DemoSiteOptionsError extends Error {
    override name = 'DemoSiteOptionsError';
    readonly code = 'ERR_DEMO_SITE_OPTIONS';

    constructor(
        /** Path of the offending option, e.g. `errorRate` or `bannedExits[0]`. */
        readonly option: string,
        message: string,
    ) {
        super(message);
    }

    /** The p-queue style message: ``Expected `errorRate` to be …, got `2` (number)``. */
    static expected(option: string, expected: string, value: unknown): DemoSiteOptionsError {
        return new DemoSiteOptionsError(option, `Expected \`${option}\` to be ${expected}, got ${describe(value)}`);
    }
}

function describe(value: unknown): string {
    if (Array.isArray(value)) return `an array of length ${value.length}`;
    if (typeof value === 'function') return 'a function';
    if (value === null || typeof value === 'object') return `\`${value === null ? 'null' : 'object'}\``;
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    return `\`${shown}\` (${typeof value})`;
}

/** Throws a {@link DemoSiteOptionsError} unless `value` is an integer in [min, max]. */
export function checkInteger(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
        throw DemoSiteOptionsError.expected(option, `an integer ${range}`, value);
    }
    return value;
}

function checkNumber(option: string, value: unknown, expected: string, ok: (n: number) => boolean): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
        throw DemoSiteOptionsError.expected(option, expected, value);
    }
    return value;
}

function checkBoolean(option: string, value: unknown): boolean {
    if (typeof value !== 'boolean') throw DemoSiteOptionsError.expected(option, 'a boolean', value);
    return value;
}

const KNOWN_OPTIONS = new Set(Object.keys(DEMO_SITE_DEFAULTS));

/**
 * Validates `options` and applies defaults. An unknown key or a wrong value throws one
 * {@link DemoSiteOptionsError} naming the option.
 */
export function resolveDemoSiteOptions(options: DemoSiteOptions = {}): ResolvedDemoSiteOptions {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
        throw DemoSiteOptionsError.expected('options', 'an object', options);
    }
    for (const key of Object.keys(options)) {
        if (!KNOWN_OPTIONS.has(key)) {
            throw new DemoSiteOptionsError(
                key,
                `Unknown option \`${key}\`; known options: ${[...KNOWN_OPTIONS].join(', ')}`,
            );
        }
    }
    const d = DEMO_SITE_DEFAULTS;
    const protection = options.protection ?? d.protection;
    if (protection !== 'forbidden' && protection !== 'challenge') {
        throw DemoSiteOptionsError.expected('protection', "'forbidden' or 'challenge'", protection);
    }
    const clock = options.clock ?? d.clock;
    if (typeof clock !== 'function')
        throw DemoSiteOptionsError.expected('clock', 'a function returning milliseconds', clock);
    const users = options.users ?? d.users;
    if (users === null || typeof users !== 'object' || Array.isArray(users)) {
        throw DemoSiteOptionsError.expected('users', 'an object of username → password', users);
    }
    for (const [name, password] of Object.entries(users)) {
        if (name === '' || typeof password !== 'string' || password === '') {
            throw DemoSiteOptionsError.expected(
                `users.${name}`,
                'a non-empty password for a non-empty username',
                password,
            );
        }
    }
    const bannedExits = options.bannedExits ?? d.bannedExits;
    if (!Array.isArray(bannedExits))
        throw DemoSiteOptionsError.expected('bannedExits', 'an array of exit numbers', bannedExits);
    for (const [i, exit] of (bannedExits as unknown[]).entries()) checkInteger(`bannedExits[${i}]`, exit, 0);

    return {
        port: checkInteger('port', options.port ?? d.port, 0, 65_535),
        seed: checkInteger('seed', options.seed ?? d.seed, 0, 0xffff_ffff),
        protection,
        sessionMaxUses:
            options.sessionMaxUses === undefined
                ? undefined
                : checkInteger('sessionMaxUses', options.sessionMaxUses, 1),
        sessionMaxAgeMs:
            options.sessionMaxAgeMs === undefined
                ? undefined
                : checkNumber('sessionMaxAgeMs', options.sessionMaxAgeMs, 'a finite number > 0', (n) => n > 0),
        minReuseIntervalMs: checkNumber(
            'minReuseIntervalMs',
            options.minReuseIntervalMs ?? d.minReuseIntervalMs,
            'a finite number >= 0',
            (n) => n >= 0,
        ),
        errorRate: checkNumber(
            'errorRate',
            options.errorRate ?? d.errorRate,
            'a number between 0 and 1',
            (n) => n >= 0 && n <= 1,
        ),
        friendly: checkBoolean('friendly', options.friendly ?? d.friendly),
        products: checkInteger('products', options.products ?? d.products, 1, 100_000_000),
        requireLogin: checkBoolean('requireLogin', options.requireLogin ?? d.requireLogin),
        users: { ...users },
        bannedExits: [...bannedExits],
        clock,
    };
}
