import { Request } from '@crawlee/core';
import { isOverridden } from '../config/default-hook.js';
import type { SessionConfig } from '../config/session-config.js';
import { CloseCrawlerError, InitHookTimeoutError } from '../errors.js';
import { readSessionControls } from '../pools/pool-id.js';
import { describeError } from '../redact.js';
import type { InitRequest, Location, SessionResponse } from '../types.js';
import { runInitHook } from './hooks.js';
import { initRequestSchema } from './schema.js';

/** The close reason when a location must be set but the config cannot set one. */
export const UNSUPPORTED_SET_LOCATION = 'unsupported_set_location';

const INIT_KEY = '__sessionInit';

/** `params()` threw or returned something that is not an init request (`init/param-error`). */
export class InitParamError extends Error {
    override name = 'InitParamError';
}

type InitSource = { kind: 'params'; init: InitRequest } | { kind: 'location'; location: Location } | { kind: 'config' };

/**
 * Where a request's init parameters come from, highest first: `userData.sessionParams`,
 * `userData.sessionLocation`, option `params`, option `location`, `config.location()`,
 * `config.params()`.
 */
function initSourceFor(config: SessionConfig, request: Request): InitSource {
    // The controls as the engine validated them when the request asked for a session (one parser).
    const controls = readSessionControls(request);
    if (controls.params) return { kind: 'params', init: controls.params };
    if (hasFields(controls.location)) return { kind: 'location', location: controls.location };
    if (config.options.params) return { kind: 'params', init: config.options.params };
    if (hasFields(config.options.location)) return { kind: 'location', location: config.options.location };
    const location = config.location(request);
    if (hasFields(location)) return { kind: 'location', location };
    return { kind: 'config' };
}

function hasFields(value: unknown): value is Location {
    return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

/** The location a request's sessions must have, after precedence; `undefined` when none applies. */
export function locationOf(config: SessionConfig, request: Request): Location | undefined {
    const source = initSourceFor(config, request);
    return source.kind === 'location' ? source.location : undefined;
}

/**
 * The init request for a session triggered by `request`, after precedence.
 *
 * @throws InitParamError when `params()`/`locationParams()`/`location()` throws, or params are not an InitRequest.
 * @throws CloseCrawlerError `unsupported_set_location` when a location applies and the config cannot set it.
 */
export async function initRequestFor(config: SessionConfig, request: Request): Promise<InitRequest> {
    let value: unknown;
    try {
        // Inside the try: `location()` is an init-parameter hook like `params()`.
        const source = initSourceFor(config, request);
        if (source.kind === 'params') return source.init;
        if (source.kind === 'location') {
            const withLocation = config as SessionConfig & {
                locationParams?: (request: Request, location: Location) => InitRequest | Promise<InitRequest>;
            };
            if (isOverridden(withLocation.locationParams)) {
                value = await runInitHook('locationParams()', 'params', () =>
                    withLocation.locationParams!(request, source.location),
                );
            } else if (isOverridden(config.params)) {
                value = await runInitHook('params()', 'params', () => config.params(request));
            } else {
                config.log.error(
                    `${request.url} needs sessions with location ${JSON.stringify(source.location)}, but ` +
                        `${config.constructor.name} cannot set a location. Use a LocationSessionConfig subclass ` +
                        'that overrides locationParams(), or override params().',
                );
                throw new CloseCrawlerError(UNSUPPORTED_SET_LOCATION);
            }
        } else {
            value = await runInitHook('params()', 'params', () => config.params(request));
        }
    } catch (error) {
        if (error instanceof CloseCrawlerError) throw error;
        if (error instanceof InitHookTimeoutError) throw new InitParamError(`For ${request.url}: ${error.message}`);
        throw new InitParamError(
            `params(), locationParams() or location() threw for ${request.url}: ${describeError(error)}`,
            {
                cause: error,
            },
        );
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new InitParamError(
            `params() for ${request.url} returned ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}; ` +
                'return an InitRequest object such as { url }.',
        );
    }
    const parsed = initRequestSchema.safeParse(value);
    if (!parsed.success) {
        throw new InitParamError(
            `params() for ${request.url} returned an invalid InitRequest: ${parsed.error.issues
                .map((i) => `${i.path.join('.') || 'value'}: expected ${i.message}`)
                .join('; ')}`,
        );
    }
    return value as InitRequest;
}

/** Whether `request` is one of the requests that initialise a session. */
export function isSessionInitRequest(request: Request): boolean {
    return request.userData?.[INIT_KEY] === true;
}

/**
 * Builds the Crawlee `Request` for one init download. Its `userData` carries copies of the
 * triggering request's `sessionLocation`, `sessionParams` and `sessionPool`, so `location()` and
 * `check()` see them.
 */
export function createInitRequest(init: InitRequest, trigger: Request): Request {
    const headers: Record<string, string> = { ...init.headers };
    let payload: string | undefined = init.body;
    if (init.json !== undefined) {
        payload = JSON.stringify(init.json);
        headers['content-type'] ??= 'application/json';
    } else if (init.form) {
        payload = new URLSearchParams(init.form).toString();
        headers['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    const userData: Record<string, unknown> = { [INIT_KEY]: true };
    for (const key of ['sessionLocation', 'sessionParams', 'sessionPool'] as const) {
        if (trigger.userData?.[key] !== undefined) userData[key] = structuredCloneSafe(trigger.userData[key]);
    }
    return new Request({
        url: init.url ?? trigger.url,
        method: (init.method?.toUpperCase() ?? 'GET') as 'GET',
        headers,
        ...(payload !== undefined ? { payload } : {}),
        userData,
        // Init requests never enter a queue; a unique key keeps two inits of one URL apart.
        uniqueKey: `${INIT_KEY}:${Math.random().toString(36).slice(2)}`,
        noRetry: true,
    });
}

function structuredCloneSafe(value: unknown): unknown {
    try {
        return structuredClone(value);
    } catch {
        return value;
    }
}

const initRequests = new WeakMap<SessionResponse, Request>();

/** Remembers which init request produced `response`, for the default `initSession()`'s check. */
export function rememberInitRequest(response: SessionResponse, request: Request): void {
    initRequests.set(response, request);
}

/** The init request that produced `response`, if it came from an init download. */
export function initRequestOf(response: SessionResponse): Request | undefined {
    return initRequests.get(response);
}
