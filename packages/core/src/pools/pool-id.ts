import { createHash } from 'node:crypto';
import type { Request } from '@crawlee/core';
import type { SessionConfig } from '../config/session-config.js';
import { CloseCrawlerError, PoolError, SessionControlError } from '../errors.js';
import { INIT_REQUEST_KEYS, initRequestSchema } from '../init/schema.js';
import { describeThrown } from '../redact.js';
import { suggest } from '../suggest.js';
import type { InitRequest, Location, PoolConfig } from '../types.js';
import { hostOf } from '../url.js';

/**
 * The longest pool id accepted (every id is kept in memory, in the persisted record and in the
 * report): a longer `userData.sessionPool` fails that request, a longer `pool()` id is a
 * `PoolError`, a longer `host@…` location id fails the request naming `sessionLocation`.
 */
export const MAX_POOL_ID_LENGTH = 512;

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
        if (sessionPool.length > MAX_POOL_ID_LENGTH) {
            throw new SessionControlError(
                request.url,
                'sessionPool',
                `the pool id is ${sessionPool.length} characters long; the limit is ${MAX_POOL_ID_LENGTH} (MAX_POOL_ID_LENGTH). Use a shorter id.`,
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

/** Hex digits of a params fingerprint: 64 bits, so distinct params of one host never collide in practice. */
const FINGERPRINT_LENGTH = 16;

/**
 * A stable identity of one `sessionParams` value: a truncated sha256 of its canonical form (keys
 * sorted), the same in every process and every run. Pools numbered for params (`host[N]`) are
 * paired with it, and every session they hold carries it, so a session initialised with one
 * account's params never serves a request with another's.
 */
export function paramsFingerprint(params: InitRequest): string {
    return createHash('sha256').update(stableStringify(params)).digest('hex').slice(0, FINGERPRINT_LENGTH);
}

/** Canonical JSON-like text of a value: object keys sorted, so key order never changes it. */
function stableStringify(value: unknown): string {
    if (typeof value === 'function') return `fn:${value.toString()}`;
    if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'undefined';
    if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
    const entries = Object.keys(value)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
}

/** One pairing of `host[index]` with the params identified by `fingerprint`. */
export interface ParamsPairing {
    host: string;
    fingerprint: string;
    index: number;
}

/**
 * Numbers distinct `sessionParams` per host (`host[0]`, `host[1]`, …) by their fingerprint. The
 * pairings are saved with the persisted state and restored before first use, so the same params
 * get the same N after a restart, and new params the next free N. (A shared store numbers params
 * itself: the manager asks it and records its answer here.)
 */
export class ParamsPoolIds {
    readonly #byHost = new Map<string, Map<string, number>>();
    /** The Ns taken per host. */
    readonly #taken = new Map<string, Set<number>>();
    /** The next free N per host: above every N seen, restored ones included. */
    readonly #next = new Map<string, number>();

    /** The N paired with `fingerprint` on `host`, if any. */
    indexOf(host: string, fingerprint: string): number | undefined {
        return this.#byHost.get(host)?.get(fingerprint);
    }

    /**
     * Pairs `fingerprint` with `index` (a store's answer) or with the next free N. A restored or
     * shared pairing wins over nothing; an existing pairing is kept. Returns the N.
     */
    assign(host: string, fingerprint: string, index?: number): number {
        let byFingerprint = this.#byHost.get(host);
        if (!byFingerprint) {
            byFingerprint = new Map();
            this.#byHost.set(host, byFingerprint);
        }
        const known = byFingerprint.get(fingerprint);
        if (known !== undefined) return known;
        const next = this.#next.get(host) ?? 0;
        const chosen = index ?? next;
        byFingerprint.set(fingerprint, chosen);
        let taken = this.#taken.get(host);
        if (!taken) {
            taken = new Set();
            this.#taken.set(host, taken);
        }
        taken.add(chosen);
        this.#next.set(host, Math.max(next, chosen + 1));
        return chosen;
    }

    /** Every pairing, for the persisted state. */
    pairings(): ParamsPairing[] {
        const result: ParamsPairing[] = [];
        for (const [host, byFingerprint] of this.#byHost) {
            for (const [fingerprint, index] of byFingerprint) result.push({ host, fingerprint, index });
        }
        return result;
    }

    /** Restores saved pairings (before first use). A pairing whose N is already taken on its host is skipped. */
    restore(pairings: readonly ParamsPairing[]): void {
        for (const { host, fingerprint, index } of pairings) {
            if (!this.#taken.get(host)?.has(index)) this.assign(host, fingerprint, index);
        }
    }
}

/** The pool id for a location: `host@v1,v2,…` with the ADDRESS_FIELDS present, in order. */
export function locationPoolId(host: string, location: Location, addressFields: readonly string[]): string {
    const values = addressFields.map((field) => location[field]).filter((value): value is string => !!value);
    return `${host}@${values.join(',')}`;
}

/** What the pool choice for one request resolved to: a pool id, or params for a `host[N]` pool. */
export type PoolChoice =
    | {
          id: string;
          /** Options returned by `pool()` with the id, if it returned a `PoolConfig`. */
          config?: Omit<PoolConfig, 'id'>;
          params?: undefined;
      }
    | {
          id?: undefined;
          config?: undefined;
          /** `userData.sessionParams`: the pool is `host[N]`, N paired with the params' fingerprint. */
          params: { host: string; fingerprint: string; init: InitRequest };
      };

/** The id of the pool numbered `index` for params on `host`. */
export function paramsPoolId(host: string, index: number): string {
    return `${host}[${index}]`;
}

/**
 * The pool for `request`: `userData.sessionPool`; else with `sessionParams` `host[N]` (the caller
 * numbers the params, see {@link ParamsPoolIds}); else with
 * `sessionLocation` `host@…`; else `config.pool(request)`.
 *
 * @throws PoolError when `pool()` throws or returns no usable id.
 * @throws CloseCrawlerError when `pool()` asks to stop the crawl.
 */
export function choosePool(config: SessionConfig, request: Request, controls: SessionControls): PoolChoice {
    if (controls.pool !== undefined) return { id: controls.pool };
    if (controls.params) {
        const init = controls.params;
        return { params: { host: hostOf(request.url), fingerprint: paramsFingerprint(init), init } };
    }
    if (controls.location && Object.keys(controls.location).length > 0) {
        const fields = (config.constructor as typeof SessionConfig).ADDRESS_FIELDS;
        const id = locationPoolId(hostOf(request.url), controls.location, fields);
        if (id.length > MAX_POOL_ID_LENGTH) {
            throw new SessionControlError(
                request.url,
                'sessionLocation',
                `its pool id would be ${id.length} characters long; the limit is ${MAX_POOL_ID_LENGTH} (MAX_POOL_ID_LENGTH). Use shorter address values.`,
            );
        }
        return { id };
    }
    let result: unknown;
    try {
        result = config.pool(request);
    } catch (error) {
        if (error instanceof CloseCrawlerError) throw error;
        const hook = `${config.constructor.name}.pool()`;
        const detail =
            error instanceof Error
                ? `${hook} threw: ${error.message}`
                : `${hook} threw ${describeThrown(error)} instead of an Error`;
        throw new PoolError(request.url, detail, { cause: error });
    }
    if (typeof result === 'string' && result !== '') {
        if (result.length > MAX_POOL_ID_LENGTH) throw poolIdTooLong(config, request, result);
        return { id: result };
    }
    if (
        typeof result === 'object' &&
        result !== null &&
        typeof (result as PoolConfig).id === 'string' &&
        (result as PoolConfig).id
    ) {
        const { id, ...rest } = result as PoolConfig;
        if (id.length > MAX_POOL_ID_LENGTH) throw poolIdTooLong(config, request, id);
        return { id, config: rest };
    }
    throw new PoolError(
        request.url,
        `${config.constructor.name}.pool() returned ${JSON.stringify(result)}; return a non-empty pool id or { id, size?, delay? }.`,
    );
}

/** The error for a `pool()` id over {@link MAX_POOL_ID_LENGTH} (made only then: no closure per request). */
function poolIdTooLong(config: SessionConfig, request: Request, id: string): PoolError {
    return new PoolError(
        request.url,
        `${config.constructor.name}.pool() returned a pool id ${id.length} characters long; the limit is ${MAX_POOL_ID_LENGTH} (MAX_POOL_ID_LENGTH). Return a shorter id.`,
    );
}
