/**
 * Benchmark 4, memory: heap per live session with 10,000 sessions. Runs in a worker started with
 * `--expose-gc`: the heap is measured after full GCs before and after filling a SessionManager (fake
 * download, no network) with 10,000 sessions across pools of 8, with the manager and the trigger
 * requests created before the baseline, so the difference is what the sessions and their pools hold.
 * Sessions get no cookies, so the figure is "beyond cookies"; a bare Crawlee `Session` is measured
 * the same way for comparison, and the cost of one `sid` cookie per session is reported apart.
 */
import { EventEmitter } from 'node:events';
import { Log, LogLevel, Request, Session } from '@crawlee/core';
import { SessionConfigRegistry, type SessionResponse } from '@managed-sessions/core';
import { SessionManager } from '@managed-sessions/core/internal';
import { SESSIONS_PER_POOL } from './engine-cost.js';

export interface MemoryResult {
    sessions: number;
    /** Heap bytes per live managed session (pools, stats and engine state included), without cookies. */
    bytesPerSession: number;
    /** Heap bytes per bare Crawlee `Session` (empty cookie jar), created as the engine creates them. */
    bytesPerBareCrawleeSession: number;
    /** `bytesPerSession` − `bytesPerBareCrawleeSession`: what the engine adds around each session. */
    bytesAddedByEngine: number;
    /** Heap bytes one `sid` cookie adds to a session's jar (for scale; not part of the goal). */
    bytesPerCookie: number;
}

const quiet = new Log({ level: LogLevel.OFF });
const OK: SessionResponse = { url: '', statusCode: 200, headers: {}, body: '<html>ok</html>' };

function heapAfterGc(): number {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('the memory benchmark needs node --expose-gc');
    // Several passes: weak references and finalizers settle over more than one.
    for (let i = 0; i < 4; i++) gc();
    return process.memoryUsage().heapUsed;
}

export async function measureMemory(sessions: number): Promise<MemoryResult> {
    const pools = Math.ceil(sessions / SESSIONS_PER_POOL);
    // Crawlee sessions as the engine makes them: owned by an event hub, with the crawler's log.
    const hub = Object.assign(new EventEmitter(), { blockedStatusCodes: [] as number[] });
    let before = heapAfterGc();
    const bare = Array.from({ length: sessions }, () => new Session({ sessionPool: hub as never, log: quiet }));
    const bytesPerBareCrawleeSession = (heapAfterGc() - before) / sessions;
    bare.length = 0;

    const manager = new SessionManager(
        { poolSize: SESSIONS_PER_POOL, registry: new SessionConfigRegistry(), statusIntervalSecs: 0 },
        { download: async ({ request }) => ({ ...OK, url: request.url }), log: quiet },
    );
    const triggers = Array.from({ length: pools }, (_, i) => new Request({ url: `http://h${i}.example/p` }));
    // Warm the manager's one-off state (config instance, registry caches) before the baseline.
    const warm = await manager.acquire(new Request({ url: 'http://warm.example/' }));
    manager.release(warm!);
    before = heapAfterGc();
    const held = [];
    for (const trigger of triggers) {
        const leases = await Promise.all(Array.from({ length: SESSIONS_PER_POOL }, () => manager.acquire(trigger)));
        for (const lease of leases) {
            manager.release(lease!);
            held.push(lease!.session);
        }
    }
    const live = manager.pools().reduce((sum, pool) => sum + pool.ready, 0) - 1;
    const leaseRefs = held.length * 8; // the `held` array's slots, not the engine's
    const bytesPerSession = (heapAfterGc() - before - leaseRefs) / live;

    before = heapAfterGc();
    for (const [i, session] of held.entries())
        session.setCookie(`sid=${i.toString(16).padStart(32, '0')}; Path=/`, `http://h${i}.example/`);
    const bytesPerCookie = (heapAfterGc() - before) / held.length;
    manager.close();
    return {
        sessions: live,
        bytesPerSession,
        bytesPerBareCrawleeSession,
        bytesAddedByEngine: bytesPerSession - bytesPerBareCrawleeSession,
        bytesPerCookie,
    };
}
