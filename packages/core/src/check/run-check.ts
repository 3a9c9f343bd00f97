import type { Request, Session } from '@crawlee/core';
import { isOverridden } from '../config/default-hook.js';
import type { SessionConfig } from '../config/session-config.js';
import { CloseCrawlerError, InitHookTimeoutError } from '../errors.js';
import { runInitHook } from '../init/hooks.js';
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
    try {
        const checker = config.options.checker;
        if (checker) return Boolean(await runInitHook('checker()', 'check', () => checker(response, request, session)));
        const locationCheck = (config as SessionConfig & { locationCheck?: LocationCheck }).locationCheck;
        const location = isOverridden(locationCheck) ? locationOf(config, request) : undefined;
        const passed = location
            ? await runInitHook('locationCheck()', 'check', () =>
                  locationCheck!.call(config, response, request, session, location),
              )
            : await runInitHook('check()', 'check', () => config.check(response, request, session));
        return Boolean(passed);
    } catch (error) {
        if (error instanceof CloseCrawlerError) throw error;
        if (error instanceof InitHookTimeoutError) {
            throw new CheckError(`check() on the ${phase} response of ${response.url}: ${error.message}`);
        }
        throw new CheckError(`check() threw on the ${phase} response of ${response.url}: ${describeError(error)}`, {
            cause: error,
        });
    }
}
