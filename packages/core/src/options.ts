import type { Request, Session } from '@crawlee/core';
import { z } from 'zod';
import { ManagedSessionsOptionsError } from './errors.js';
import { fn, initRequestSchema, stringRecord } from './init/schema.js';
import { redact } from './redact.js';
import type { SessionConfigRegistry } from './registry/registry.js';
import { sessionConfigRegistry } from './registry/registry.js';
import type { SessionStore } from './store/store.js';
import { suggest } from './suggest.js';
import type { InitRequest, Location, SessionResponse } from './types.js';

/** Replaces `SessionConfig.check()` for every response, init and use alike. */
export type Checker = (response: SessionResponse, request: Request, session: Session) => boolean | Promise<boolean>;

/** Per-pool overrides in the `pools` option. They win over what `pool()` returns and over the global options. */
export interface PoolOptions {
    /** @default option `poolSize` */
    size?: number;
    /** @default option `delay` */
    delay?: number;
    /** @default option `randomizeDelay` */
    randomizeDelay?: boolean;
    /** @default option `maxBadInits` */
    maxBadInits?: number;
    /** @default option `exclusive` */
    exclusive?: boolean;
}

/** Where and how pool state is saved in the crawler's key-value store. */
export interface PersistStateOptions {
    /** @default true */
    enabled?: boolean;
    /** @default 'MANAGED_SESSIONS_STATE' */
    key?: string;
    /** Save cookie values; `false` leaves them out of the record. @default true */
    cookies?: boolean;
}

/** Options of `attachManagedSessions()` (and of the engine behind it). Every field is optional. */
export interface ManagedSessionsOptions {
    /** Give sessions to every request unless a config or `userData.sessionEnabled` says otherwise. @default true */
    enabled?: boolean;
    /** Working sessions wanted per pool. @default 8 */
    poolSize?: number;
    /** Per pool id overrides. @default {} */
    pools?: Record<string, PoolOptions>;
    /** A session serves one request at a time. @default false */
    exclusive?: boolean;
    /** Minimum seconds between two assignments of one session. @default 0 */
    delay?: number;
    /** Multiply each delay by a random factor in [0.5, 1.5]. @default true */
    randomizeDelay?: boolean;
    /** Download errors (520/521, network, proxy) before a session is discarded. @default 1 */
    maxErrors?: number;
    /** Failed use-checks before a session is discarded. @default 1 */
    maxCheckFailures?: number;
    /** Consecutive failed inits in one pool before the crawl stops with `bad_session_inits`. @default 8 */
    maxBadInits?: number;
    /** How long a request may wait for a ready session before it fails. @default 60 */
    waitTimeoutSecs?: number;
    /** Response codes that count as download errors. @default [520, 521] */
    errorStatusCodes?: number[];
    /** Default location for every pool (below `userData.sessionLocation` and option `params`). */
    location?: Location;
    /** Default init request for every pool (below `userData.sessionParams` and `userData.sessionLocation`). */
    params?: InitRequest;
    /** Used instead of `SessionConfig.check()`. */
    checker?: Checker;
    /** Also count stats under `sessions/pools/{pool}/…`. @default false */
    statsPerPool?: boolean;
    /** Retire a session after that many uses, replacing it ahead of need. */
    maxUsageCount?: number;
    /** Retire a session after that many seconds, replacing it ahead of need. */
    maxAgeSecs?: number;
    /** Where session configs are looked up. @default sessionConfigRegistry */
    registry?: SessionConfigRegistry;
    /** Pool state in the crawler's key-value store. @default { enabled: true, key: 'MANAGED_SESSIONS_STATE', cookies: true } */
    persistState?: PersistStateOptions;
    /**
     * Learn each pool's session lifetime (uses or seconds until the site expires a session) from
     * failed use-checks, and retire sessions just before it, replacing them ahead of need. Off
     * when `maxUsageCount` or `maxAgeSecs` is set, and it learns nothing while expiries look random.
     * @default true
     */
    adaptiveLifetime?: boolean;
    /**
     * Seconds a user hook (`params()`, `initSession()`, `processRequest()`, `check()`, the proxy's
     * `newUrlFunction`) may take before it counts as failed: an init that exceeds it counts
     * `init/failed`, a `processRequest()` or `check()` that exceeds it fails that attempt. A hook
     * that never settles can then neither hang the crawl nor hold a session forever.
     * @default 120
     */
    hookTimeoutSecs?: number;
    /** Seconds between two status lines per pool in the crawler's log; 0 turns them off. @default 60 */
    statusIntervalSecs?: number;
    /**
     * Write the session report (`SESSIONS_REPORT.html`: per-pool timeline of sessions, init cost,
     * waiting time) to the crawler's default key-value store at the end of each crawl.
     * `sessions.report()` writes it on demand either way. @default true
     */
    report?: boolean;
    /**
     * Where pool state lives. The default keeps pools in this process's memory; a shared store
     * lets several crawler processes share pools (size, delay, leases, discards, bad-init limit).
     *
     * @example
     * import { RedisSessionStore } from '@managed-sessions/redis';
     * attachManagedSessions(crawler, { store: new RedisSessionStore({ url: 'redis://127.0.0.1:6379', prefix: 'shop' }) });
     * @default in-memory
     */
    store?: SessionStore;
}

const COUNT = 'an integer >= 1';
const count = () => z.number({ error: COUNT }).int({ error: COUNT }).min(1, { error: COUNT });
const DELAY = 'a finite number >= 0';
const delay = () => z.number({ error: DELAY }).min(0, { error: DELAY }).finite({ error: DELAY });
const POSITIVE = 'a finite number > 0';
const positive = () => z.number({ error: POSITIVE }).positive({ error: POSITIVE }).finite({ error: POSITIVE });
const bool = () => z.boolean({ error: 'a boolean' });
const STATUS = 'an HTTP status code (an integer 100-599)';
const poolOptionsSchema = z.strictObject(
    {
        size: count().optional(),
        delay: delay().optional(),
        randomizeDelay: bool().optional(),
        maxBadInits: count().optional(),
        exclusive: bool().optional(),
    },
    { error: 'an object { size?, delay?, randomizeDelay?, maxBadInits?, exclusive? }' },
);

const persistStateSchema = z.strictObject(
    {
        enabled: bool().default(true),
        key: z
            .string({ error: 'a non-empty string' })
            .min(1, { error: 'a non-empty string' })
            .default('MANAGED_SESSIONS_STATE'),
        cookies: bool().default(true),
    },
    { error: 'an object { enabled?, key?, cookies? }' },
);

const optionsSchema = z.strictObject(
    {
        enabled: bool().default(true),
        poolSize: count().default(8),
        pools: z.record(z.string(), poolOptionsSchema, { error: 'an object keyed by pool id' }).default({}),
        exclusive: bool().default(false),
        delay: delay().default(0),
        randomizeDelay: bool().default(true),
        maxErrors: count().default(1),
        maxCheckFailures: count().default(1),
        maxBadInits: count().default(8),
        waitTimeoutSecs: positive().default(60),
        errorStatusCodes: z
            .array(
                z
                    .number({ error: STATUS })
                    .int({ error: STATUS })
                    .min(100, { error: STATUS })
                    .max(599, { error: STATUS }),
                {
                    error: 'an array of HTTP status codes (100-599)',
                },
            )
            .default([520, 521]),
        location: stringRecord().optional(),
        params: initRequestSchema.optional(),
        checker: fn('a function (response, request, session) => boolean').optional(),
        statsPerPool: bool().default(false),
        maxUsageCount: count().optional(),
        maxAgeSecs: positive().optional(),
        registry: z
            .custom<SessionConfigRegistry>(
                (value) => typeof (value as SessionConfigRegistry | null)?.configFor === 'function',
                { error: 'a SessionConfigRegistry' },
            )
            .optional(),
        persistState: persistStateSchema.default({ enabled: true, key: 'MANAGED_SESSIONS_STATE', cookies: true }),
        adaptiveLifetime: bool().default(true),
        hookTimeoutSecs: positive().default(120),
        statusIntervalSecs: delay().default(60),
        // No zod default: `undefined` means true, so resolved options keep their documented shape.
        report: bool().optional(),
        store: z
            .custom<SessionStore>(
                (value) =>
                    typeof value === 'object' &&
                    value !== null &&
                    typeof (value as Partial<SessionStore>).open === 'function',
                { error: 'a session store, e.g. `new RedisSessionStore({ url, prefix })` (an object with open())' },
            )
            .optional(),
    },
    { error: 'an options object' },
);

/** Options after validation, with every default filled in. */
export interface ResolvedManagedSessionsOptions
    extends Omit<z.output<typeof optionsSchema>, 'registry' | 'checker' | 'params' | 'pools' | 'store'> {
    registry: SessionConfigRegistry;
    /** `undefined`: the in-memory default. */
    store: SessionStore | undefined;
    checker: Checker | undefined;
    params: InitRequest | undefined;
    pools: Record<string, PoolOptions>;
}

/**
 * Validates options once, at the public entry, and fills in defaults.
 *
 * @throws ManagedSessionsOptionsError naming every wrong option path, what was expected and what came.
 */
export function resolveOptions(input: ManagedSessionsOptions | undefined = {}): ResolvedManagedSessionsOptions {
    const parsed = optionsSchema.safeParse(input ?? {}, { reportInput: true });
    if (!parsed.success) {
        const issues = parsed.error.issues.flatMap(describeIssue);
        throw new ManagedSessionsOptionsError(
            `Invalid managed-sessions options:\n${issues.map((i) => `- ${i.message}`).join('\n')}`,
            issues,
        );
    }
    const data = parsed.data;
    return {
        ...data,
        registry: data.registry ?? sessionConfigRegistry,
        checker: data.checker as Checker | undefined,
        params: data.params as InitRequest | undefined,
        pools: data.pools as Record<string, PoolOptions>,
    } as ResolvedManagedSessionsOptions;
}

/** The keys an object at `path` may have, for "did you mean" hints. */
function knownKeysAt(path: readonly PropertyKey[]): readonly string[] {
    if (path.length === 0) return Object.keys(optionsSchema.shape);
    if (path.length === 1 && path[0] === 'persistState') return Object.keys(persistStateSchema.shape);
    if (path.length === 1 && path[0] === 'params') return Object.keys(initRequestSchema.shape);
    if (path.length === 2 && path[0] === 'pools') return Object.keys(poolOptionsSchema.shape);
    return [];
}

/** One entry per wrong value or unknown key, each naming the full option path. */
const SECRET_PATH = /(^|\.)headers\.(cookie|set-cookie|authorization|proxy-authorization)(\.|$)/i;

function describeIssue(issue: z.core.$ZodIssue): { path: string; message: string }[] {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
        const known = knownKeysAt(issue.path);
        return issue.keys.map((key) => {
            const where = path ? `${path}.${key}` : key;
            return {
                path: where,
                message: `Unknown option \`${where}\`${suggest(key, known)}; remove it or fix its spelling.`,
            };
        });
    }
    const input = (issue as { input?: unknown }).input;
    // A wrong value under a secret header is not quoted at all: it is still a secret.
    const got = SECRET_PATH.test(path)
        ? `a value of type ${Array.isArray(input) ? 'array' : typeof input}`
        : formatValue(input);
    return [{ path, message: `Expected \`${path || 'options'}\` to be ${issue.message}, got ${got}.` }];
}

function formatValue(value: unknown): string {
    if (typeof value === 'function') return '`[function]` (function)';
    let text: string;
    try {
        // JSON writes NaN and Infinity as null, and drops undefined.
        text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
    } catch {
        text = String(value);
    }
    text = redact(text);
    if (text.length > 60) text = `${text.slice(0, 57)}...`;
    const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    return `\`${text}\` (${type})`;
}
