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

/** The record saved to the key-value store: sessions per pool, with counters and stats. */
export type PersistedState = z.infer<typeof stateRecord>;
export type PersistedSession = z.infer<typeof sessionRecord>;

/** One session as saved; the proxy URL is kept (proxy passwords stay in the crawler's storage). */
export function persistSession(
    managed: ManagedSession,
    cookies: boolean,
    paramsFingerprint?: string,
): PersistedSession {
    const state = managed.session.getState();
    return {
        id: managed.id,
        createdAt: managed.createdAt,
        uses: managed.uses,
        errors: managed.errors,
        checkFailures: managed.checkFailures,
        nextUseAt: managed.nextUseAt,
        ...(managed.proxyUrl !== undefined ? { proxyUrl: managed.proxyUrl } : {}),
        userData: (state.userData ?? {}) as Record<string, unknown>,
        ...(cookies ? { cookieJar: state.cookieJar as unknown as Record<string, unknown> } : {}),
        ...(paramsFingerprint !== undefined ? { paramsFingerprint } : {}),
    };
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

/** Rebuilds a session from its record, owned by `hub` like every session of the manager. */
export function restoreSession(record: PersistedSession, poolId: string, hub: EventEmitter, log: Log): ManagedSession {
    const session = createCrawleeSession(hub, log, record);
    const managed = new ManagedSession(session, poolId, record.proxyUrl, record.createdAt);
    managed.uses = record.uses;
    managed.errors = record.errors;
    managed.checkFailures = record.checkFailures;
    managed.nextUseAt = record.nextUseAt;
    return managed;
}
