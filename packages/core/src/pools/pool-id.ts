import type { Request } from '@crawlee/core';
import type { SessionConfig } from '../config/session-config.js';
import { CloseCrawlerError, PoolError, SessionControlError } from '../errors.js';
import { INIT_REQUEST_KEYS, initRequestSchema } from '../init/schema.js';
import { suggest } from '../suggest.js';
import type { InitRequest, Location, PoolConfig } from '../types.js';

/** The URL's host: hostname plus a non-default port (`127.0.0.1:8080`, `shop.example`). */
export function hostOf(url: string): string {
    return new URL(url).host;
}

/** The session controls a request carries in `userData`, validated. */
export interface SessionControls {
    enabled?: boolean;
    pool?: string;
    params?: InitRequest;
    location?: Location;
}

/**
 * Reads and validates `userData.sessionEnabled`, `sessionPool`, `sessionParams` and
 * `sessionLocation`.
 *
 * @throws SessionControlError naming the key, for that request only.
 */
export function readSessionControls(request: Request): SessionControls {
    const userData = (request.userData ?? {}) as Record<string, unknown>;
    const controls: SessionControls = {};
    const { sessionEnabled, sessionPool, sessionParams, sessionLocation } = userData;
    if (sessionEnabled !== undefined) {
        if (typeof sessionEnabled !== 'boolean') {
            throw new SessionControlError(
                request.url,
                'sessionEnabled',
                `expected a boolean, got ${typeof sessionEnabled}.`,
            );
        }
        controls.enabled = sessionEnabled;
    }
    if (sessionPool !== undefined) {
        if (typeof sessionPool !== 'string' || sessionPool.trim() === '') {
            throw new SessionControlError(
                request.url,
                'sessionPool',
                `expected a non-empty pool id string, got ${JSON.stringify(sessionPool)}. Remove it to use the default pool.`,
            );
        }
        controls.pool = sessionPool;
    }
    if (sessionParams !== undefined) {
        const parsed = initRequestSchema.safeParse(sessionParams);
        if (!parsed.success) {
            const details = parsed.error.issues
                .map((issue) =>
                    issue.code === 'unrecognized_keys'
                        ? issue.keys.map((key) => `unknown key \`${key}\`${suggest(key, INIT_REQUEST_KEYS)}`).join('; ')
                        : `${issue.path.join('.') || 'value'} must be ${issue.message}`,
                )
                .join('; ');
            throw new SessionControlError(request.url, 'sessionParams', `${details}.`);
        }
        controls.params = sessionParams as InitRequest;
    }
    if (sessionLocation !== undefined) {
        if (
            typeof sessionLocation !== 'object' ||
            sessionLocation === null ||
            Array.isArray(sessionLocation) ||
            Object.getPrototypeOf(sessionLocation) !== Object.prototype ||
            Object.values(sessionLocation).some((value) => typeof value !== 'string')
        ) {
            throw new SessionControlError(
                request.url,
                'sessionLocation',
                'expected a plain object of strings such as { addressCountry: "US", postalCode: "10001" }.',
            );
        }
        controls.location = sessionLocation as Location;
    }
    return controls;
}

/** Numbers distinct `sessionParams` per host (`host[0]`, `host[1]`, …), for one manager. */
export class ParamsPoolIds {
    #ids = new Map<string, Map<string, number>>();

    /** The pool id and whether the pairing is new (so the caller logs it once). */
    idFor(host: string, params: InitRequest): { id: string; isNew: boolean } {
        let byParams = this.#ids.get(host);
        if (!byParams) {
            byParams = new Map();
            this.#ids.set(host, byParams);
        }
        const key = stableStringify(params);
        let index = byParams.get(key);
        const isNew = index === undefined;
        if (index === undefined) {
            index = byParams.size;
            byParams.set(key, index);
        }
        return { id: `${host}[${index}]`, isNew };
    }
}

function stableStringify(value: unknown): string {
    if (typeof value === 'function') return `fn:${value.toString()}`;
    if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'undefined';
    if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
    const entries = Object.keys(value)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
}

/** The pool id for a location: `host@v1,v2,…` with the ADDRESS_FIELDS present, in order. */
export function locationPoolId(host: string, location: Location, addressFields: readonly string[]): string {
    const values = addressFields.map((field) => location[field]).filter((value): value is string => !!value);
    return `${host}@${values.join(',')}`;
}

/** What the pool choice for one request resolved to. */
export interface PoolChoice {
    id: string;
    /** Options returned by `pool()` with the id, if it returned a `PoolConfig`. */
    config?: Omit<PoolConfig, 'id'>;
    /** Set when the id was numbered for new `sessionParams`: the caller logs the pairing once. */
    newParams?: InitRequest;
}

/**
 * The pool for `request`: `userData.sessionPool`; else with `sessionParams` `host[N]`; else with
 * `sessionLocation` `host@…`; else `config.pool(request)`.
 *
 * @throws PoolError when `pool()` throws or returns no usable id.
 * @throws CloseCrawlerError when `pool()` asks to stop the crawl.
 */
export function choosePool(
    config: SessionConfig,
    request: Request,
    controls: SessionControls,
    paramsIds: ParamsPoolIds,
): PoolChoice {
    if (controls.pool !== undefined) return { id: controls.pool };
    if (controls.params) {
        const { id, isNew } = paramsIds.idFor(hostOf(request.url), controls.params);
        return isNew ? { id, newParams: controls.params } : { id };
    }
    if (controls.location && Object.keys(controls.location).length > 0) {
        const fields = (config.constructor as typeof SessionConfig).ADDRESS_FIELDS;
        return { id: locationPoolId(hostOf(request.url), controls.location, fields) };
    }
    let result: unknown;
    try {
        result = config.pool(request);
    } catch (error) {
        if (error instanceof CloseCrawlerError) throw error;
        throw new PoolError(
            request.url,
            `${config.constructor.name}.pool() threw: ${(error as Error)?.message ?? error}`,
            {
                cause: error,
            },
        );
    }
    if (typeof result === 'string' && result !== '') return { id: result };
    if (
        typeof result === 'object' &&
        result !== null &&
        typeof (result as PoolConfig).id === 'string' &&
        (result as PoolConfig).id
    ) {
        const { id, ...rest } = result as PoolConfig;
        return { id, config: rest };
    }
    throw new PoolError(
        request.url,
        `${config.constructor.name}.pool() returned ${JSON.stringify(result)}; return a non-empty pool id or { id, size?, delay? }.`,
    );
}
