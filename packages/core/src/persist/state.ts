import type { EventEmitter } from 'node:events';
import type { Log } from '@crawlee/core';
import { z } from 'zod';
import { createCrawleeSession, ManagedSession } from '../pools/managed-session.js';

/** Marks records this package wrote, so a foreign value under the same key is recognised. */
export const STATE_FORMAT = 'managed-sessions/state';
/** Bumped when the record's shape changes; older records are ignored with a warning. */
export const STATE_VERSION = 1;

const sessionRecord = z.object({
    id: z.string().min(1),
    createdAt: z.number(),
    uses: z.number().int().min(0),
    errors: z.number().int().min(0),
    checkFailures: z.number().int().min(0),
    nextUseAt: z.number(),
    proxyUrl: z.string().optional(),
    userData: z.record(z.string(), z.unknown()),
    /** tough-cookie's serialised jar; absent when `persistState.cookies` is false. */
    cookieJar: z.record(z.string(), z.unknown()).optional(),
    /**
     * The fingerprint of the `sessionParams` its pool was numbered for (`host[N]` pools only): a
     * restored session joins only a pool paired with the same params.
     */
    paramsFingerprint: z.string().optional(),
    /**
     * `omitted` when the proxy URL was saved without its `user:password` (`persistState.cookies`
     * false): such a session cannot reach its proxy and is not restored.
     */
    proxyCredentials: z.literal('omitted').optional(),
});

const paramsPairing = z.object({
    host: z.string().min(1),
    fingerprint: z.string().min(1),
    index: z.number().int().min(0),
});

const stateRecord = z.object({
    format: z.literal(STATE_FORMAT),
    version: z.literal(STATE_VERSION),
    savedAt: z.number(),
    stats: z.record(z.string(), z.number()),
    pools: z.array(
        z.object({
            id: z.string().min(1),
            badInits: z.number().int().min(0),
            sessions: z.array(sessionRecord),
        }),
    ),
    /** Which N each distinct `sessionParams` has in `host[N]`, so a restart numbers them the same. */
    paramsPools: z.array(paramsPairing).optional(),
});

/**
 * The record saved to the key-value store: sessions per pool, with counters and stats. A plain
 * interface (the published declarations do not depend on zod); the check below keeps it equal to
 * the schema's output.
 */
export interface PersistedState {
    format: typeof STATE_FORMAT;
    version: typeof STATE_VERSION;
    savedAt: number;
    stats: Record<string, number>;
    pools: { id: string; badInits: number; sessions: PersistedSession[] }[];
    /** Which N each distinct `sessionParams` has in `host[N]`, so a restart numbers them the same. */
    paramsPools?: { host: string; fingerprint: string; index: number }[] | undefined;
}

/** One session as saved (see the schema above for what each field means). */
export interface PersistedSession {
    id: string;
    createdAt: number;
    uses: number;
    errors: number;
    checkFailures: number;
    nextUseAt: number;
    proxyUrl?: string | undefined;
    userData: Record<string, unknown>;
    cookieJar?: Record<string, unknown> | undefined;
    paramsFingerprint?: string | undefined;
    proxyCredentials?: 'omitted' | undefined;
}

/** `true` only when `A` and `B` are the same type (not merely assignable either way). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only for `true`. */
type Assert<T extends true> = T;
// biome-ignore lint/correctness/noUnusedVariables: a compile-time check, never used at run time
type RecordTypesMatchSchema = [
    Assert<Equals<z.output<typeof sessionRecord>, PersistedSession>>,
    Assert<Equals<z.output<typeof stateRecord>, PersistedState>>,
];

/**
 * One session as saved. With `cookies` false nothing secret is kept: no cookie jar, no `userData`
 * (sites keep tokens there), and the proxy URL without its `user:password` (marked, so that the
 * session is not restored: it could not use its proxy). The counters and ids stay.
 */
export function persistSession(
    managed: ManagedSession,
    cookies: boolean,
    paramsFingerprint?: string,
): PersistedSession {
    const state = managed.session.getState();
    const proxy = cookies || managed.proxyUrl === undefined ? managed.proxyUrl : withoutCredentials(managed.proxyUrl);
    return {
        id: managed.id,
        createdAt: managed.createdAt,
        uses: managed.uses,
        errors: managed.errors,
        checkFailures: managed.checkFailures,
        nextUseAt: managed.nextUseAt,
        ...(proxy !== undefined ? { proxyUrl: proxy } : {}),
        ...(proxy !== managed.proxyUrl ? { proxyCredentials: 'omitted' as const } : {}),
        userData: cookies ? ((state.userData ?? {}) as Record<string, unknown>) : {},
        ...(cookies ? { cookieJar: state.cookieJar as unknown as Record<string, unknown> } : {}),
        ...(paramsFingerprint !== undefined ? { paramsFingerprint } : {}),
    };
}

/** `url` without `user:password@`; a URL that does not parse is left out altogether. */
function withoutCredentials(url: string): string | undefined {
    try {
        const parsed = new URL(url);
        if (!parsed.username && !parsed.password) return url;
        parsed.username = '';
        parsed.password = '';
        return parsed.href.replace(/\/$/, '');
    } catch {
        return undefined;
    }
}

/**
 * Reads a saved record. Returns `undefined` (after one warning) for anything this version cannot
 * read: corrupted, foreign or older-format records mean a fresh start, never a crash.
 */
export function readState(value: unknown, log: Log, key: string): PersistedState | undefined {
    if (value === null || value === undefined) return undefined;
    const parsed = stateRecord.safeParse(value);
    if (parsed.success) return parsed.data;
    const found =
        typeof value === 'object' && (value as { format?: unknown }).format === STATE_FORMAT
            ? `format version ${String((value as { version?: unknown }).version)}`
            : 'a record this package did not write';
    log.warning(
        `Ignoring the saved session state under key ${key} (${found}, or it is corrupted); starting with fresh sessions.`,
    );
    return undefined;
}

/** Why a saved session entry cannot be used: `unreadable` ones get a warning, `unusable` ones do not. */
export type RestoreProblem = { kind: 'unreadable'; what: string } | { kind: 'unusable'; what: string };

/**
 * Rebuilds a session from its record, owned by `hub` like every session of the manager; or says
 * why it cannot: a cookie jar or proxy URL that does not parse (a corrupt entry), or a proxy whose
 * password was left out. One bad entry costs that session only.
 */
export function restoreSession(
    record: PersistedSession,
    poolId: string,
    hub: EventEmitter,
    log: Log,
): ManagedSession | RestoreProblem {
    if (record.proxyCredentials === 'omitted') return { kind: 'unusable', what: 'proxy password not saved' };
    if (record.proxyUrl !== undefined && !URL.canParse(record.proxyUrl)) {
        return { kind: 'unreadable', what: 'proxy URL unreadable' };
    }
    let session: ReturnType<typeof createCrawleeSession>;
    try {
        session = createCrawleeSession(hub, log, record);
    } catch {
        return { kind: 'unreadable', what: 'cookie jar unreadable' };
    }
    const managed = new ManagedSession(session, poolId, record.proxyUrl, record.createdAt);
    managed.uses = record.uses;
    managed.errors = record.errors;
    managed.checkFailures = record.checkFailures;
    managed.nextUseAt = record.nextUseAt;
    return managed;
}
