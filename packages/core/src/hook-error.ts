import { inspect } from 'node:util';
import { redact } from './redact.js';

/** The longest description of a thrown value kept in a message. */
const MAX_SHOWN = 200;

/**
 * A thrown value as text for a message, whatever it is: `null`, `undefined`, a Symbol, a
 * null-prototype object (which `String()` and template literals throw on), a string; redacted.
 */
export function describeThrown(value: unknown): string {
    let text: string;
    try {
        text =
            value instanceof Error
                ? value.message
                : inspect(value, { depth: 2, breakLength: Number.POSITIVE_INFINITY });
    } catch {
        text = `a value of type ${typeof value}`;
    }
    if (text.length > MAX_SHOWN) text = `${text.slice(0, MAX_SHOWN)}…`;
    return redact(text);
}

/**
 * A hook threw something that is not an `Error`. Crawlee (and user code) reads `message` and `stack`
 * of what a request handler throws; a bare `null` or Symbol would break its retry bookkeeping and
 * lose the request, so the engine throws this instead. The original value is its `cause`.
 */
export class HookThrewError extends Error {
    override name = 'HookThrewError';
    readonly code = 'ERR_HOOK_THREW' as const;

    constructor(
        readonly hook: string,
        value: unknown,
        url: string,
    ) {
        super(`${hook} threw ${describeThrown(value)} instead of an Error (for ${url}).`, { cause: value });
    }
}

/** `value` when it is an `Error`, else a {@link HookThrewError} that names `hook` and `url`. */
export function asError(value: unknown, hook: string, url: string): Error {
    return value instanceof Error ? value : new HookThrewError(hook, value, url);
}

/**
 * A hook did not settle within `hookTimeoutSecs`: the attempt fails with this (a normal error, so
 * Crawlee retries the request) and its session lease is released.
 */
export class RequestHookTimeoutError extends Error {
    override name = 'RequestHookTimeoutError';
    readonly code = 'ERR_HOOK_TIMEOUT' as const;

    constructor(
        readonly hook: string,
        readonly pool: string,
        readonly url: string,
        timeoutSecs: number,
    ) {
        super(
            `${hook} did not settle within ${timeoutSecs} s for ${url} (pool ${pool}); the attempt failed and ` +
                'its session was released. Make the hook settle, or raise the option hookTimeoutSecs.',
        );
    }
}
