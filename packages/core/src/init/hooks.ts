import { AsyncLocalStorage } from 'node:async_hooks';
import { type Clock, setLongTimeout } from '../clock.js';
import { type HookPhase as AnyHookPhase, InitHookTimeoutError } from '../errors.js';

/** Which init outcome a hook's timeout counts as (CONTRACT's init outcomes). */
export type HookPhase = Exclude<AnyHookPhase, 'request'>;

/** The init was cancelled (the sessions closed): no outcome is counted. */
class InitCancelledError extends Error {
    override name = 'InitCancelledError';
}

/**
 * One init's deadline bookkeeping. Every user hook it runs gets `timeoutMs`; the first timeout
 * aborts the init's signal (its downloads stop) and every hook still pending settles at once.
 */
export class InitScope {
    readonly #clock: Clock;
    readonly #timeoutMs: number;
    readonly #poolId: string;
    readonly #abort = new AbortController();
    readonly #outer: AbortSignal;
    readonly #onOuterAbort = () => this.#abort.abort(new InitCancelledError('sessions are closing'));
    /** Hooks running now, innermost last: a timeout is blamed on the innermost. */
    readonly #active: { hook: string; phase: HookPhase }[] = [];
    #done = false;

    constructor(clock: Clock, timeoutMs: number, poolId: string, outer: AbortSignal) {
        this.#clock = clock;
        this.#timeoutMs = timeoutMs;
        this.#poolId = poolId;
        this.#outer = outer;
        if (outer.aborted) this.#onOuterAbort();
        else outer.addEventListener('abort', this.#onOuterAbort, { once: true });
    }

    /** Aborted when the init times out or the sessions close. */
    get signal(): AbortSignal {
        return this.#abort.signal;
    }

    /** Runs `fn` with this scope current, so hooks deep inside it find their deadline. */
    enter<T>(fn: () => Promise<T>): Promise<T> {
        return initScopes.run(this, fn);
    }

    /**
     * Runs user hook `hook`: settles with it, or rejects with a {@link InitHookTimeoutError} after the
     * deadline (when `deadline` is true), or with a cancellation once the init is aborted,
     * whichever comes first. A hook that never settles is left behind; nothing waits for it.
     */
    async run<T>(hook: string, phase: HookPhase, fn: () => T | Promise<T>, deadline = true): Promise<T> {
        if (this.#done) return fn();
        const entry = { hook, phase };
        this.#active.push(entry);
        let cancelTimer: (() => void) | undefined;
        let onAbort: (() => void) | undefined;
        const signal = this.#abort.signal;
        try {
            const result = new Promise<T>((resolve) => resolve(fn()));
            // Its late rejection, after a timeout, has nobody to tell.
            result.catch(() => undefined);
            return await new Promise<T>((resolve, reject) => {
                onAbort = () => reject(signal.reason);
                if (signal.aborted) return onAbort();
                signal.addEventListener('abort', onAbort, { once: true });
                if (deadline) {
                    cancelTimer = setLongTimeout(
                        this.#clock,
                        () => {
                            const blamed = this.#active.at(-1) ?? entry;
                            this.#abort.abort(
                                new InitHookTimeoutError(blamed.hook, blamed.phase, this.#poolId, this.#timeoutMs),
                            );
                        },
                        this.#timeoutMs,
                    );
                }
                result.then(resolve, reject);
            });
        } finally {
            cancelTimer?.();
            if (onAbort) signal.removeEventListener('abort', onAbort);
            const index = this.#active.lastIndexOf(entry);
            if (index >= 0) this.#active.splice(index, 1);
        }
    }

    /** The init is over: hooks it left running get no deadline, and the close listener goes. */
    finish(): void {
        this.#done = true;
        this.#outer.removeEventListener('abort', this.#onOuterAbort);
    }
}

const initScopes = new AsyncLocalStorage<InitScope>();

/**
 * Whether an init's deadline applies here: callers outside one call their hook directly, without
 * the closure {@link runInitHook} takes (the per-request check runs outside every init).
 */
export function inInitScope(): boolean {
    return initScopes.getStore() !== undefined;
}

/**
 * Runs a user hook with the deadline of the init it belongs to (`params()` and `check()` called
 * by the default `initSession()`); outside an init, simply runs it.
 */
export function runInitHook<T>(hook: string, phase: HookPhase, fn: () => T | Promise<T>): Promise<T> | T {
    const scope = initScopes.getStore();
    return scope ? scope.run(hook, phase, fn) : fn();
}
