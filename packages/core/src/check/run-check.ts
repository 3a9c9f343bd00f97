import type { Request, Session } from '@crawlee/core';
import { isOverridden } from '../config/default-hook.js';
import type { SessionConfig } from '../config/session-config.js';
import { CloseCrawlerError, InitHookTimeoutError } from '../errors.js';
import { inInitScope, runInitHook } from '../init/hooks.js';
import { locationOf } from '../init/params.js';
import { describeError } from '../redact.js';
import type { Location, SessionResponse } from '../types.js';

/** `check()` (or the `checker` option) threw: counted as `init/check-error` or `use/check-error`. */
export class CheckError extends Error {
    override name = 'CheckError';
}

type LocationCheck = (
    response: SessionResponse,
    request: Request,
    session: Session,
    location: Location,
) => boolean | Promise<boolean>;

/**
 * Runs the check that applies to `response`: the `checker` option when set; else, for a request
 * that has a location, the config's own `locationCheck()`; else its `check()`. The routing lives
 * here rather than in `LocationSessionConfig.check()`, so a subclass that overrides both hooks
 * still gets `locationCheck()` for located requests.
 *
 * @throws CheckError when the check throws; CloseCrawlerError passes through untouched.
 */
export async function checkResponse(
    config: SessionConfig,
    response: SessionResponse,
    request: Request,
    session: Session,
    phase: 'init' | 'use',
): Promise<boolean> {
    return runCheck(config, response, request, session, phase);
}

/**
 * {@link checkResponse}, settled at once when the check is synchronous: a `boolean` when the hook
 * returned one, a promise only when it returned a thenable (or runs under an init's deadline). The
 * engine's per-request check takes this path, so a synchronous `check()` costs no promise, no
 * closure and no deadline timer (it cannot overrun a deadline: it has returned).
 *
 * @throws CheckError (thrown, or as the rejection) when the check throws; CloseCrawlerError passes through untouched.
 */
export function runCheck(
    config: SessionConfig,
    response: SessionResponse,
    request: Request,
    session: Session,
    phase: 'init' | 'use',
): boolean | Promise<boolean> {
    let result: unknown;
    try {
        const checker = config.options.checker;
        // Under an init's deadline through runInitHook(); elsewhere (every request) called directly.
        const scoped = inInitScope();
        if (checker) {
            result = scoped
                ? runInitHook('checker()', 'check', () => checker(response, request, session))
                : checker(response, request, session);
        } else {
            const locationCheck = (config as SessionConfig & { locationCheck?: LocationCheck }).locationCheck;
            const location = isOverridden(locationCheck) ? locationOf(config, request) : undefined;
            if (location) {
                result = scoped
                    ? runInitHook('locationCheck()', 'check', () =>
                          locationCheck!.call(config, response, request, session, location),
                      )
                    : locationCheck!.call(config, response, request, session, location);
            } else {
                result = scoped
                    ? runInitHook('check()', 'check', () => config.check(response, request, session))
                    : config.check(response, request, session);
            }
        }
    } catch (error) {
        throw checkError(error, response, phase);
    }
    if (!isThenable(result)) return Boolean(result);
    return Promise.resolve(result).then(Boolean, (error: unknown) => {
        throw checkError(error, response, phase);
    });
}

/** What a throwing check becomes: a {@link CheckError}, or the `CloseCrawlerError` itself. */
function checkError(error: unknown, response: SessionResponse, phase: 'init' | 'use'): unknown {
    if (error instanceof CloseCrawlerError) return error;
    if (error instanceof InitHookTimeoutError) {
        return new CheckError(`check() on the ${phase} response of ${response.url}: ${error.message}`);
    }
    return new CheckError(`check() threw on the ${phase} response of ${response.url}: ${describeError(error)}`, {
        cause: error,
    });
}

/** `await` adopts any thenable a hook returns, not only native promises: so does the check. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
    return (
        (typeof value === 'object' || typeof value === 'function') &&
        value !== null &&
        typeof (value as PromiseLike<unknown>).then === 'function'
    );
}
