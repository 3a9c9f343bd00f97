import { z } from 'zod';

// Kept apart from resolve-options.ts: init/params.ts and pools/pool-id.ts validate init requests
// too, and importing the option schema from them would pull the registry (and every config) into
// the modules that configs' engine helpers live in.

/**
 * Keys that reach `Object.prototype` (or shadow it) when an object is used as a dictionary. zod's
 * record drops a `__proto__` own key (from `JSON.parse`) silently and keeps the others; here each
 * is an error naming its path, so a pool, header or location never vanishes or misbehaves unseen.
 */
export const FORBIDDEN_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];
export const FORBIDDEN_KEY =
    'left out: `__proto__`, `constructor` and `prototype` cannot be keys here (they reach the prototype of every object); rename or remove it';

/**
 * `record` with every own key of the input checked (enumerable or not, `JSON.parse`d `__proto__`
 * included) and a null-prototype copy as output: looking up any key, `constructor` too, finds only
 * what the user wrote.
 */
export function safeRecord<T extends z.ZodType<Record<string, unknown>>>(record: T) {
    return z
        .preprocess((input, context) => {
            if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
            for (const key of Object.getOwnPropertyNames(input)) {
                if (!FORBIDDEN_KEYS.includes(key)) continue;
                const value = Object.getOwnPropertyDescriptor(input, key)?.value;
                context.addIssue({ code: 'custom', path: [key], input: value, message: FORBIDDEN_KEY });
            }
            return input;
        }, record)
        .transform((output) => Object.assign(Object.create(null) as z.output<T>, output));
}

const STRING_RECORD = 'an object of string values';
/** A record of string values (headers, form fields, locations); a null-prototype copy. */
export const stringRecord = () =>
    safeRecord(z.record(z.string({ error: STRING_RECORD }), z.string({ error: 'a string' }), { error: STRING_RECORD }));

/** A function; `expected` describes its signature in error messages. */
export const fn = (expected: string) =>
    z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', { error: expected });

/** The keys an `InitRequest` may have. */
export const INIT_REQUEST_KEYS = ['url', 'method', 'headers', 'body', 'json', 'form', 'pageActions'] as const;

/** The shape of an `InitRequest`, shared by option `params` and `userData.sessionParams`. */
export const initRequestSchema = z
    .strictObject(
        {
            url: z.url({ error: 'an absolute http(s) URL', protocol: /^https?$/ }).optional(),
            method: z
                .string({ error: 'an HTTP method name' })
                .regex(/^[A-Za-z]+$/, { error: 'an HTTP method name' })
                .optional(),
            headers: stringRecord().optional(),
            body: z.string({ error: 'a string' }).optional(),
            json: z.unknown().optional(),
            form: stringRecord().optional(),
            pageActions: fn('a function (page) => Promise<void>').optional(),
        },
        { error: 'an InitRequest object ({ url?, method?, headers?, body?, json?, form?, pageActions? })' },
    )
    .superRefine((init, context) => {
        // Caught here, with the option or userData path, rather than as a failed download per init.
        const payloads = (['body', 'json', 'form'] as const).filter((key) => init[key] !== undefined);
        if (payloads.length > 1) {
            context.addIssue({
                code: 'custom',
                path: [payloads[1]!],
                input: init[payloads[1]!],
                message: `left out: set only one of body, json and form (${payloads[0]} is set)`,
            });
        }
        const method = (init.method ?? 'GET').toUpperCase();
        if (payloads.length > 0 && (method === 'GET' || method === 'HEAD')) {
            context.addIssue({
                code: 'custom',
                path: ['method'],
                input: init.method,
                message: `a method that sends a body, such as 'POST', because ${payloads[0]} is set`,
            });
        }
    });
