/**
 * Where a pool lives in Redis. Every key starts with the store's `prefix`; the pool id sits in a
 * hash tag (`{…}`), so one pool's keys share a slot and its scripts stay single-slot.
 *
 * | key | type | holds |
 * |---|---|---|
 * | `{prefix}:{pool}:ready` | sorted set | sessions in rotation, scored by next-use time (ms) |
 * | `{prefix}:{pool}:claims` | sorted set | init slots under way, scored by expiry |
 * | `{prefix}:{pool}:leases` | sorted set | exclusive sessions in use, scored by lease expiry |
 * | `{prefix}:{pool}:owners` | hash | session id → the connection holding its lease |
 * | `{prefix}:{pool}:meta` | hash | `badInits`: consecutive failed inits, across processes |
 * | `{prefix}:{pool}:closed` | string (expires) | why every process stopped, while it holds |
 * | `{prefix}:{pool}:s:{session}` | hash | `state` (cookies + userData JSON), `version`, `uses`, `errors`, `checkFailures`, `createdAt`, `proxyUrl` |
 * | `{prefix}:{host}:params` | hash | `sessionParams` fingerprint → N of its pool `host[N]` |
 * | `{prefix}:{host}:params-next` | string | the next N for `host` |
 * | channel `{prefix}:events` | pub/sub | `ready`, `released`, `discarded`, `closed` notices of every pool |
 */
export interface PoolKeys {
    /** KEYS of every script, in the order `scripts.ts` reads them. */
    keys: [ready: string, claims: string, leases: string, owners: string, meta: string, closed: string];
    /** Prefix of the session hashes: `{base}{sessionId}`. */
    sessionBase: string;
}

/** `prefix` as given, followed by `:` unless it already ends with one. */
export function keyspace(prefix: string): string {
    return prefix.endsWith(':') ? prefix : `${prefix}:`;
}

export function poolKeys(prefix: string, poolId: string): PoolKeys {
    const base = `${keyspace(prefix)}{${poolId}}:`;
    return {
        keys: [`${base}ready`, `${base}claims`, `${base}leases`, `${base}owners`, `${base}meta`, `${base}closed`],
        sessionBase: `${base}s:`,
    };
}

/** The keys of `host`'s `sessionParams` numbering: the index and its counter (one slot, by the hash tag). */
export function paramsKeys(prefix: string, host: string): [index: string, counter: string] {
    const base = `${keyspace(prefix)}{${host}}:`;
    return [`${base}params`, `${base}params-next`];
}

export function eventsChannel(prefix: string): string {
    return `${keyspace(prefix)}events`;
}
