import { randomUUID } from 'node:crypto';
import type { Log } from '@crawlee/core';
import { ManagedSessionsOptionsError, type SessionStore } from '@managed-sessions/core';
import {
    describeError,
    type PoolBackend,
    type PoolHost,
    type ResolvedPoolOptions,
    SharedPool,
    type SharedPoolEvent,
    type StoreConnection,
    type StoreContext,
} from '@managed-sessions/core/internal';
import { Redis, type RedisOptions } from 'ioredis';
import { eventsChannel, paramsKeys } from './keys.js';
import { PARAMS_INDEX, PARAMS_PROBLEMS } from './params-index.js';
import { RedisPoolState, type ScriptRunner } from './pool-state.js';
import { POOL_KEY_COUNT, SCRIPTS, type ScriptName } from './scripts.js';

/** Options of {@link RedisSessionStore}. */
export interface RedisSessionStoreOptions {
    /** The Redis server, e.g. `redis://127.0.0.1:6379` (`rediss://` for TLS, `redis://:password@host:port/db`). */
    url: string;
    /**
     * Starts every key and the events channel. Processes with the same prefix share pools, and a
     * later crawl with it reuses the sessions still there.
     */
    prefix: string;
    /**
     * How long an exclusive session's lease, or an init slot, outlives a process that stopped
     * renewing it (renewed every third of it while held): a crashed process's sessions are free
     * again after this. Also how long a `bad_session_inits` stop holds for processes that start later.
     * @default 60
     */
    leaseSecs?: number;
    /** Further ioredis options (TLS, timeouts, …); `url` wins over host and port given here. */
    redisOptions?: RedisOptions;
}

/** How long closing waits for pending writes before it drops the connection. */
const CLOSE_GRACE_MS = 5_000;

/**
 * A session store on Redis: several crawler processes (over one request queue) share their pools.
 * The pool size and `delay` hold across processes, an exclusive session serves one process at a
 * time (through expiring leases), a discarded session is replaced once, consecutive bad inits
 * count across processes and stop them all, and cookie or `userData` changes made in one process
 * reach the others. Sessions stay in Redis until discarded, for later crawls with the same prefix.
 *
 * @example
 * import { RedisSessionStore } from '@managed-sessions/redis';
 * const sessions = attachManagedSessions(crawler, {
 *     poolSize: 4,
 *     store: new RedisSessionStore({ url: 'redis://127.0.0.1:6379', prefix: 'shop-crawl' }),
 * });
 */
export class RedisSessionStore implements SessionStore {
    readonly url: string;
    readonly prefix: string;
    readonly leaseSecs: number;
    readonly #redisOptions: RedisOptions;

    /** @throws ManagedSessionsOptionsError for a missing url or prefix, or a bad leaseSecs. */
    constructor(options: RedisSessionStoreOptions) {
        const { url, prefix, leaseSecs = 60, redisOptions = {} } = (options ?? {}) as RedisSessionStoreOptions;
        const problems: { path: string; message: string }[] = [];
        if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
            problems.push({
                path: 'url',
                message: `Expected \`url\` to be a Redis URL such as \`redis://127.0.0.1:6379\`, got ${shown(url)}.`,
            });
        }
        if (typeof prefix !== 'string' || prefix.length === 0) {
            problems.push({
                path: 'prefix',
                message: `Expected \`prefix\` to be a non-empty string (it starts every key), got ${shown(prefix)}.`,
            });
        }
        if (typeof leaseSecs !== 'number' || !Number.isFinite(leaseSecs) || leaseSecs <= 0) {
            problems.push({
                path: 'leaseSecs',
                message: `Expected \`leaseSecs\` to be a finite number > 0, got ${shown(leaseSecs)}.`,
            });
        }
        if (problems.length > 0) {
            throw new ManagedSessionsOptionsError(
                `Invalid RedisSessionStore options:\n${problems.map((p) => `- ${p.message}`).join('\n')}`,
                problems,
            );
        }
        this.url = url;
        this.prefix = prefix;
        this.leaseSecs = leaseSecs;
        this.#redisOptions = redisOptions;
    }

    /** Opens the connections of one engine (one crawl); the engine closes them at its teardown. */
    open(context: StoreContext): StoreConnection {
        return new RedisConnection(this, this.#redisOptions, context.log);
    }
}

function shown(value: unknown): string {
    // Never echo a URL: it may carry a password.
    if (typeof value === 'string') return value.length === 0 ? '`` (empty string)' : '(a string)';
    return `\`${String(value)}\` (${value === null ? 'null' : typeof value})`;
}

type ScriptClient = Redis &
    Record<ScriptName | 'managedSessionsParamsIndex', (...args: (string | number)[]) => Promise<unknown>>;

/**
 * One engine's connections: a command connection that runs the scripts, and (from the first
 * pool on) a subscriber connection for the events channel. Both connect lazily.
 */
class RedisConnection implements StoreConnection, ScriptRunner {
    readonly keepsSessions = true;
    readonly prefix: string;
    readonly channel: string;
    readonly owner = randomUUID();
    readonly leaseMs: number;
    readonly #url: string;
    readonly #redisOptions: RedisOptions;
    readonly #log: Log;
    readonly #client: ScriptClient;
    #subscriber: Redis | undefined;
    readonly #listeners = new Map<string, Set<(event: SharedPoolEvent) => void>>();
    readonly #pools: SharedPool[] = [];
    #closing: Promise<void> | undefined;
    /** Set once the connections are being closed: no command is sent after it. */
    #quitting = false;
    #reported = new WeakSet<Redis>();
    /** `sessionParams` numbering repairs already warned about, by host and kind. */
    readonly #paramsWarned = new Set<string>();

    constructor(store: RedisSessionStore, redisOptions: RedisOptions, log: Log) {
        this.prefix = store.prefix;
        this.channel = eventsChannel(store.prefix);
        this.leaseMs = Math.round(store.leaseSecs * 1000);
        this.#url = store.url;
        this.#redisOptions = redisOptions;
        this.#log = log;
        this.#client = this.#connect() as ScriptClient;
        for (const [name, lua] of Object.entries(SCRIPTS)) {
            this.#client.defineCommand(name, { numberOfKeys: POOL_KEY_COUNT, lua });
        }
        this.#client.defineCommand('managedSessionsParamsIndex', { numberOfKeys: 2, lua: PARAMS_INDEX });
    }

    createPool(id: string, options: ResolvedPoolOptions, host: PoolHost): PoolBackend {
        const pool = new SharedPool(id, options, host, new RedisPoolState(this, id));
        this.#pools.push(pool);
        return pool;
    }

    async paramsIndex(host: string, fingerprint: string): Promise<number> {
        if (this.#quitting) throw new Error('the session store connection is closed');
        const [index, dropped] = (await this.#client.managedSessionsParamsIndex(
            ...paramsKeys(this.prefix, host),
            fingerprint,
        )) as [number, string[]];
        for (let i = 0; i + 1 < dropped.length; i += 2) {
            const problem = PARAMS_PROBLEMS[dropped[i]!];
            const warned = `${host}\n${dropped[i]}`;
            if (!problem || this.#paramsWarned.has(warned)) continue;
            this.#paramsWarned.add(warned);
            const [what, after] = problem(host);
            this.#log.warning(
                `Session store: ${what} (key ${dropped[i + 1]}); ${after}. ` +
                    'Something other than this version of managed-sessions wrote under this prefix.',
            );
        }
        return Number(index);
    }

    run(script: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
        if (this.#quitting) return Promise.reject(new Error('the session store connection is closed'));
        return this.#client[script](...keys, ...args);
    }

    listen(poolId: string, listener: (event: SharedPoolEvent) => void): () => void {
        let listeners = this.#listeners.get(poolId);
        if (!listeners) {
            listeners = new Set();
            this.#listeners.set(poolId, listeners);
        }
        listeners.add(listener);
        if (!this.#subscriber && !this.#closing) this.#subscribe();
        return () => listeners.delete(listener);
    }

    close(): Promise<void> {
        this.#closing ??= this.#close();
        return this.#closing;
    }

    async #close(): Promise<void> {
        // Cookies written back and leases released by the last attempts land before the connection goes.
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => {
            timer = setTimeout(resolve, CLOSE_GRACE_MS);
        });
        await Promise.race([Promise.all(this.#pools.map((pool) => pool.settled())), grace]);
        clearTimeout(timer);
        this.#quitting = true;
        this.#listeners.clear();
        await Promise.all([quit(this.#client), this.#subscriber ? quit(this.#subscriber) : undefined]);
    }

    #connect(): Redis {
        const client = new Redis(this.#url, {
            ...this.#redisOptions,
            lazyConnect: true,
            // A crawl must not hang on a Redis that is gone: commands fail, requests are retried.
            maxRetriesPerRequest: this.#redisOptions.maxRetriesPerRequest ?? 3,
        });
        client.on('error', (error: unknown) => {
            // One warning per outage; ioredis reconnects by itself.
            if (this.#reported.has(client) || this.#closing) return;
            this.#reported.add(client);
            this.#log.warning(`Session store (Redis) connection error: ${describeError(error)}`);
        });
        client.on('ready', () => this.#reported.delete(client));
        return client;
    }

    #subscribe(): void {
        const subscriber = this.#connect();
        this.#subscriber = subscriber;
        subscriber.on('message', (_channel: string, message: string) => this.#onMessage(message));
        subscriber.subscribe(this.channel).catch((error: unknown) => {
            if (!this.#closing) {
                this.#log.warning(
                    `Could not subscribe to the session store's events (waiters fall back to a re-check every few seconds): ${describeError(error)}`,
                );
            }
        });
    }

    #onMessage(message: string): void {
        let parsed: { p?: unknown; t?: unknown; s?: unknown; r?: unknown; n?: unknown };
        try {
            parsed = JSON.parse(message);
        } catch {
            return;
        }
        const listeners = typeof parsed.p === 'string' ? this.#listeners.get(parsed.p) : undefined;
        if (!listeners) return;
        let event: SharedPoolEvent;
        if (parsed.t === 'closed') {
            event = { type: 'closed', reason: String(parsed.r), badInits: Number(parsed.n) };
        } else if (parsed.t === 'ready' || parsed.t === 'released' || parsed.t === 'discarded') {
            event = { type: parsed.t, session: String(parsed.s) };
        } else {
            return;
        }
        for (const listener of [...listeners]) listener(event);
    }
}

/** Closes a connection politely (QUIT), or drops it when it never connected or does not answer in time. */
async function quit(client: Redis): Promise<void> {
    if (client.status === 'wait' || client.status === 'end') {
        client.disconnect();
        return;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), 1_000);
    });
    const outcome = await Promise.race([client.quit().catch(() => 'failed' as const), late]);
    clearTimeout(timer);
    if (outcome !== 'OK') client.disconnect();
}
