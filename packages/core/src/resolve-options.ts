import { z } from 'zod';
import { ManagedSessionsOptionsError } from './errors.js';
import { fn, initRequestSchema, safeRecord, stringRecord } from './init/schema.js';
import {
    type Checker,
    MAX_TIMER_SECS,
    type ManagedSessionsOptions,
    OPTION_DEFAULTS,
    type PersistStateOptions,
    type PoolOptions,
    type ResolvedManagedSessionsOptions,
    type ResolvedPersistStateOptions,
} from './options.js';
import { redact } from './redact.js';
import { type SessionConfigRegistry, sessionConfigRegistry } from './registry/registry.js';
import type { SessionStore } from './store/store.js';
import { suggest } from './suggest.js';
import type { InitRequest } from './types.js';

const COUNT = 'an integer >= 1';
const count = () => z.number({ error: COUNT }).int({ error: COUNT }).min(1, { error: COUNT });
const DELAY = 'a finite number >= 0';
const POSITIVE = 'a finite number > 0';
const TIMER = `a number of seconds <= ${MAX_TIMER_SECS} (Node.js timers cannot wait longer than 2^31-1 ms, about 24.8 days)`;
/** A timer's seconds, >= 0; each check stops the next, so one wrong value gives one message. */
const delay = () =>
    z.number({ error: DELAY }).min(0, { error: DELAY, abort: true }).max(MAX_TIMER_SECS, { error: TIMER, abort: true });
/** A timer's seconds, > 0. */
const positiveTimer = () => positive().max(MAX_TIMER_SECS, { error: TIMER, abort: true });
const positive = () => z.number({ error: POSITIVE }).positive({ error: POSITIVE, abort: true });
const STATUS_INTERVAL =
    'a number of seconds >= 1, or 0 to turn status lines off (one line per pool more often than each second would flood the log)';
const bool = () => z.boolean({ error: 'a boolean' });
const STATUS = 'an HTTP status code (an integer 100-599)';
/**
 * Crawlee's rule for key-value store keys (`KEY_VALUE_STORE_KEY_REGEX` of `@apify/consts`, checked by
 * `KeyValueStore.setValue`): a key it rejects would fail the first save, mid-crawl.
 */
const STORE_KEY = /^[a-zA-Z0-9!\-_.'()]{1,256}$/;
const STORE_KEY_RULE =
    "a key-value store key: at most 256 characters, each a letter, digit or one of ! - _ . ' ( ) (Crawlee's rule; e.g. replace spaces and slashes with '-')";

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

const D = OPTION_DEFAULTS;
const persistStateSchema = z.strictObject(
    {
        enabled: bool().default(D.persistState.enabled),
        key: z
            .string({ error: 'a non-empty string' })
            .min(1, { error: 'a non-empty string', abort: true })
            .regex(STORE_KEY, { error: STORE_KEY_RULE })
            .default(D.persistState.key),
        cookies: bool().default(D.persistState.cookies),
    },
    { error: 'an object { enabled?, key?, cookies? }' },
);

const optionsSchema = z.strictObject(
    {
        enabled: bool().default(D.enabled),
        poolSize: count().default(D.poolSize),
        // A default skips the transform: give it the same null-prototype shape.
        pools: safeRecord(z.record(z.string(), poolOptionsSchema, { error: 'an object keyed by pool id' })).default(
            () => Object.assign(Object.create(null) as Record<string, never>, D.pools),
        ),
        exclusive: bool().default(D.exclusive),
        delay: delay().default(D.delay),
        randomizeDelay: bool().default(D.randomizeDelay),
        maxErrors: count().default(D.maxErrors),
        maxCheckFailures: count().default(D.maxCheckFailures),
        maxBadInits: count().default(D.maxBadInits),
        waitTimeoutSecs: positiveTimer().default(D.waitTimeoutSecs),
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
            .default(() => [...D.errorStatusCodes]),
        location: stringRecord().optional(),
        params: initRequestSchema.optional(),
        checker: fn('a function (response, request, session) => boolean').optional(),
        statsPerPool: bool().default(D.statsPerPool),
        maxUsageCount: count().optional(),
        maxAgeSecs: positive().optional(),
        registry: z
            .custom<SessionConfigRegistry>(
                (value) => typeof (value as SessionConfigRegistry | null)?.configFor === 'function',
                { error: 'a SessionConfigRegistry' },
            )
            .optional(),
        persistState: persistStateSchema.default(() => ({ ...D.persistState })),
        adaptiveLifetime: bool().default(D.adaptiveLifetime),
        hookTimeoutSecs: positiveTimer().default(D.hookTimeoutSecs),
        poolIdleSecs: positiveTimer().default(D.poolIdleSecs),
        statusIntervalSecs: delay()
            .refine((secs) => secs === 0 || secs >= 1, { error: STATUS_INTERVAL })
            .default(D.statusIntervalSecs),
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

// ---- compile-time ties between the public interfaces and the schema (nothing here is exported) ----

/** `true` only when `A` and `B` are the same type (not merely assignable either way). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only for `true`. */
type Assert<T extends true> = T;
/** Keys the schema can only type loosely (functions, class instances, nested `InitRequest`). */
type Loose = 'registry' | 'checker' | 'params' | 'store' | 'pools';
type SchemaOutput = z.output<typeof optionsSchema>;
type DefaultsFit = {
    [K in keyof typeof OPTION_DEFAULTS]: (typeof OPTION_DEFAULTS)[K] extends Readonly<
        NonNullable<ManagedSessionsOptions[K]>
    >
        ? true
        : false;
};
// biome-ignore lint/correctness/noUnusedVariables: a compile-time check, never used at run time
type OptionTypesMatchSchema = [
    Assert<Equals<Omit<SchemaOutput, Loose>, Omit<ResolvedManagedSessionsOptions, Loose>>>,
    Assert<Equals<keyof SchemaOutput, keyof ResolvedManagedSessionsOptions>>,
    Assert<Equals<keyof SchemaOutput, keyof ManagedSessionsOptions>>,
    Assert<Equals<z.output<typeof poolOptionsSchema>, PoolOptions>>,
    Assert<Equals<z.output<typeof persistStateSchema>, ResolvedPersistStateOptions>>,
    Assert<Equals<keyof z.input<typeof persistStateSchema>, keyof PersistStateOptions>>,
    Assert<Equals<SchemaOutput['pools'], Record<string, z.output<typeof poolOptionsSchema>>>>,
    // The loose keys: what the schema yields must at least be what the interface promises.
    Assert<SchemaOutput['registry'] extends ResolvedManagedSessionsOptions['registry'] | undefined ? true : false>,
    Assert<SchemaOutput['store'] extends ResolvedManagedSessionsOptions['store'] ? true : false>,
    Assert<Checker extends NonNullable<SchemaOutput['checker']> ? true : false>,
    // Every default in the table is a value of its option.
    Assert<Equals<DefaultsFit[keyof DefaultsFit], true>>,
];

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
        // The schema checks these are functions; their signatures are the interface's promise.
        checker: data.checker as Checker | undefined,
        params: data.params as InitRequest | undefined,
        store: data.store,
    };
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
