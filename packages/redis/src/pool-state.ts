import type {
    FailureKind,
    SharedDiscardOutcome,
    SharedPoolEvent,
    SharedPoolState,
    SharedTakeResult,
    StoredSession,
} from '@managed-sessions/core/internal';
import { type PoolKeys, poolKeys } from './keys.js';
import type { ScriptName } from './scripts.js';

/** What a pool's state needs from the connection it runs on. */
export interface ScriptRunner {
    readonly prefix: string;
    readonly channel: string;
    /** This connection's id in lease ownership. */
    readonly owner: string;
    readonly leaseMs: number;
    run(script: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
    listen(poolId: string, listener: (event: SharedPoolEvent) => void): () => void;
}

type Reply = (string | number | null)[];
type Corruption = Extract<SharedPoolEvent, { type: 'corrupt' }>;
type StoreProblem = Corruption['problem'];

const PROBLEMS: ReadonlySet<string> = new Set<StoreProblem>([
    'session-state',
    'session-fields',
    'session-type',
    'session-missing',
    'pool-key-type',
    'pool-counter',
    'closed-flag',
    'endless-slot',
]);

const int = (value: number) => Math.round(value);

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A session's `state` field as `add` wrote it (`{ userData, cookieJar }`), or `undefined` when it
 * is not: unparsable JSON, not an object, `userData` not an object, a jar without a cookie list.
 */
function readState(
    json: string,
): { userData: Record<string, unknown>; cookieJar: Record<string, unknown> | undefined } | undefined {
    let parsed: unknown;
    try {
        parsed = JSON.parse(json);
    } catch {
        return undefined;
    }
    if (!isPlainObject(parsed)) return undefined;
    const { userData = {}, cookieJar } = parsed;
    if (!isPlainObject(userData)) return undefined;
    if (cookieJar !== undefined && !(isPlainObject(cookieJar) && Array.isArray(cookieJar.cookies))) return undefined;
    return { userData, cookieJar };
}

/** The Redis side of one shared pool: each method is one Lua script (see `scripts.ts`). */
export class RedisPoolState implements SharedPoolState {
    readonly #runner: ScriptRunner;
    readonly #poolId: string;
    readonly #keys: PoolKeys;
    readonly #listeners = new Set<(event: SharedPoolEvent) => void>();

    constructor(runner: ScriptRunner, poolId: string) {
        this.#runner = runner;
        this.#poolId = poolId;
        this.#keys = poolKeys(runner.prefix, poolId);
    }

    get leaseMs(): number {
        return this.#runner.leaseMs;
    }

    async take(args: Parameters<SharedPoolState['take']>[0]): Promise<SharedTakeResult> {
        const known: (string | number)[] = [];
        for (const [id, version] of args.known) known.push(id, version);
        const reply = (await this.#run('managedSessionsTake', [
            int(args.now),
            args.size,
            int(args.nextUseAt),
            args.exclusive ? 1 : 0,
            args.avoid ?? '',
            args.claim,
            this.#runner.leaseMs,
            this.#runner.owner,
            ...known,
        ])) as Reply;
        const kind = reply[0];
        if (kind === 'closed') return { kind, reason: String(reply[1]), badInits: Number(reply[2]) };
        const ready = Number(reply[1]);
        if (kind === 'init') return { kind, ready };
        if (kind === 'wait') return { kind, ready, wakeAt: reply[2] === '' ? undefined : Number(reply[2]) };
        const [, , id, version, uses, errors, checkFailures, createdAt, proxyUrl, state] = reply as string[];
        const session = {
            id: id!,
            version: Number(version),
            uses: Number(uses),
            errors: Number(errors),
            checkFailures: Number(checkFailures),
            createdAt: Number(createdAt),
        };
        if (!state) return { kind: 'session', ready, session };
        const parsed = readState(state);
        if (!parsed) return { kind: 'corrupt', id: id!, ready };
        const stored: StoredSession = {
            id: id!,
            createdAt: session.createdAt,
            proxyUrl: proxyUrl || undefined,
            userData: parsed.userData,
            cookieJar: parsed.cookieJar,
        };
        return { kind: 'session', ready, session: { ...session, stored } };
    }

    async add(args: Parameters<SharedPoolState['add']>[0]): Promise<number | undefined> {
        const { session, assign } = args;
        const state = JSON.stringify({ userData: session.userData, cookieJar: session.cookieJar });
        const reply = await this.#run('managedSessionsAdd', [
            args.claim,
            session.id,
            int(session.createdAt),
            session.proxyUrl ?? '',
            state,
            int(args.now),
            assign ? 1 : 0,
            assign ? int(assign.nextUseAt) : 0,
            assign?.exclusive ? 1 : 0,
            this.#runner.leaseMs,
            this.#runner.owner,
        ]);
        return reply === null ? undefined : Number(reply);
    }

    async initFailed(args: { claim: string; maxBadInits: number }): Promise<{ badInits: number; closed: boolean }> {
        const reply = (await this.#run('managedSessionsInitFailed', [
            args.claim,
            args.maxBadInits,
            // The stop holds for every process for one lease time, then a new crawl starts afresh.
            this.#runner.leaseMs,
        ])) as Reply;
        return { badInits: Number(reply[0]), closed: Number(reply[1]) === 1 };
    }

    async abandon(claim: string): Promise<void> {
        await this.#run('managedSessionsAbandon', [claim]);
    }

    async discard(args: { id: string; now: number; size: number; claim: string }): Promise<SharedDiscardOutcome> {
        return (await this.#run('managedSessionsDiscard', [
            args.id,
            int(args.now),
            args.size,
            args.claim,
            this.#runner.leaseMs,
        ])) as SharedDiscardOutcome;
    }

    async fail(args: {
        id: string;
        kind: FailureKind;
        limit: number;
        now: number;
        size: number;
        claim: string;
    }): Promise<SharedDiscardOutcome | 'counted'> {
        return (await this.#run('managedSessionsFail', [
            args.id,
            args.kind,
            args.limit,
            int(args.now),
            args.size,
            args.claim,
            this.#runner.leaseMs,
        ])) as SharedDiscardOutcome | 'counted';
    }

    async release(args: { id: string; lease: boolean; state: string | undefined }): Promise<number | undefined> {
        const reply = await this.#run('managedSessionsRelease', [
            args.id,
            this.#runner.owner,
            args.lease ? 1 : 0,
            args.state ?? '',
        ]);
        return reply === null ? undefined : Number(reply);
    }

    async renew(args: { until: number; claims: readonly string[]; leases: readonly string[] }): Promise<void> {
        await this.#run('managedSessionsRenew', [
            int(args.until),
            this.#runner.owner,
            args.claims.length,
            ...args.claims,
            ...args.leases,
        ]);
    }

    entryOf(id: string): string {
        return `${this.#keys.sessionBase}${id}`;
    }

    subscribe(listener: (event: SharedPoolEvent) => void): () => void {
        this.#listeners.add(listener);
        const stop = this.#runner.listen(this.#poolId, listener);
        return () => {
            this.#listeners.delete(listener);
            stop();
        };
    }

    /** Runs a script; the corrupt entries it dropped on the way reach the listeners as `corrupt` events. */
    async #run(script: ScriptName, args: readonly (string | number)[]): Promise<unknown> {
        const [reply, dropped] = (await this.#runner.run(script, this.#keys.keys, [
            this.#keys.sessionBase,
            this.#runner.channel,
            this.#poolId,
            ...args,
        ])) as [unknown, string[] | undefined];
        for (let i = 0; dropped && i + 1 < dropped.length; i += 2) {
            const problem = dropped[i]!;
            if (!PROBLEMS.has(problem)) continue;
            const event: Corruption = { type: 'corrupt', problem: problem as StoreProblem, entry: dropped[i + 1]! };
            for (const listener of [...this.#listeners]) listener(event);
        }
        return reply;
    }
}
