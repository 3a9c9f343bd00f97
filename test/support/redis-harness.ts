import { Log, LogLevel, Request } from '@crawlee/core';
import { type ManagedSessionsOptions, SessionConfigRegistry, type SessionResponse } from '@managed-sessions/core';
import { type InitDownloadArgs, ManualClock, type SessionLease, SessionManager } from '@managed-sessions/core/internal';
import { RedisSessionStore } from '@managed-sessions/redis';

/** One init download, as the fake site saw it. */
export interface InitCall {
    url: string;
    sessionId: string;
    /** Which manager ("process") made it. */
    by: string;
}

/**
 * The unit boundary of the store tests: one fake site that every manager's init downloads reach.
 * Each init sets a cookie `sid=<session id>`; `respond` may answer differently.
 */
export class FakeSite {
    readonly inits: InitCall[] = [];
    respond: (call: InitCall) => SessionResponse | Promise<SessionResponse> = (call) => ok(call.url);

    downloadFor(name: string) {
        return async ({ request, session }: InitDownloadArgs): Promise<SessionResponse> => {
            const call = { url: request.url, sessionId: session.id, by: name };
            this.inits.push(call);
            const response = await this.respond(call);
            if (response.statusCode < 400) session.setCookie(`sid=${session.id}; Path=/`, request.url);
            return response;
        };
    }

    /** How many inits each manager made, by name. */
    initsBy(): Record<string, number> {
        const counts: Record<string, number> = {};
        for (const call of this.inits) counts[call.by] = (counts[call.by] ?? 0) + 1;
        return counts;
    }
}

export function ok(url: string, statusCode = 200): SessionResponse {
    return { url, statusCode, headers: {}, body: 'ok' };
}

export const silentLog = new Log({ level: LogLevel.OFF });

export interface Process {
    name: string;
    manager: SessionManager;
    clock: ManualClock;
    /** `onClose` reasons. */
    closes: string[];
    /** Acquires a lease for `url` (sessions are on for every request). */
    lease(url: string): Promise<SessionLease>;
    /** Releases every lease still held (an attempt ends), then disposes of the engine. */
    stop(): Promise<void>;
}

let counter = 0;

/** A prefix no other test uses, so tests never see each other's keys. */
export function uniquePrefix(name: string): string {
    counter++;
    return `test-${name}-${process.pid}-${counter}`;
}

/**
 * One "process": a SessionManager on its own manual clock (all clocks start at the same time),
 * with a `RedisSessionStore` on `url` and `prefix`, the fake site, delay factor 1 and `log` (silent by default).
 */
export function startProcess(
    name: string,
    site: FakeSite,
    store: { url: string; prefix: string; leaseSecs?: number },
    options: ManagedSessionsOptions = {},
    log: Log = silentLog,
): Process {
    const clock = new ManualClock();
    const closes: string[] = [];
    const leases: SessionLease[] = [];
    const manager = new SessionManager(
        {
            registry: new SessionConfigRegistry(),
            store: new RedisSessionStore(store),
            persistState: { enabled: false },
            ...options,
        },
        {
            download: site.downloadFor(name),
            clock,
            random: () => 0.5,
            log,
            onClose: (reason) => closes.push(reason),
        },
    );
    return {
        name,
        manager,
        clock,
        closes,
        lease: async (url) => {
            const lease = await manager.acquire(new Request({ url }));
            if (!lease) throw new Error(`no lease for ${url}`);
            leases.push(lease);
            return lease;
        },
        stop: async () => {
            for (const lease of leases.splice(0)) manager.release(lease);
            await manager.dispose();
        },
    };
}

/** Waits (real time) until `condition()` holds; fails after `timeoutMs`. */
export async function until(
    condition: () => boolean | Promise<boolean>,
    timeoutMs = 5_000,
    what = 'condition',
): Promise<void> {
    const started = Date.now();
    while (!(await condition())) {
        if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
}

/** Whether `promise` settles within `ms` of real time (Redis answers asynchronously). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
    let settled = false;
    promise.then(
        () => {
            settled = true;
        },
        () => {
            settled = true;
        },
    );
    await new Promise((resolve) => setTimeout(resolve, ms));
    return settled;
}
