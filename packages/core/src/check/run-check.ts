import type { Request, Session } from '@crawlee/core';
import type { SessionConfig } from '../config/session-config.js';
import { CloseCrawlerError } from '../errors.js';
import type { SessionResponse } from '../types.js';

/** `check()` (or the `checker` option) threw: counted as `init/check-error` or `use/check-error`. */
export class CheckError extends Error {
    override name = 'CheckError';
}

/**
 * Runs the check that applies to `response`: the `checker` option when set, else the config's
 * `check()` (which `LocationSessionConfig` routes to `locationCheck()` for located requests).
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
        const passed = checker ? await checker(response, request, session) : await config.check(response, request, session);
        return Boolean(passed);
    } catch (error) {
        if (error instanceof CloseCrawlerError) throw error;
        throw new CheckError(`check() threw on the ${phase} response of ${response.url}: ${(error as Error)?.message ?? error}`, {
            cause: error,
        });
    }
}
