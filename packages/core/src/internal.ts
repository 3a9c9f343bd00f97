/**
 * The engine's internals, for the packages built on it (`@managed-sessions/crawlee`,
 * `@managed-sessions/redis`), their tests and benchmarks: `import … from '@managed-sessions/core/internal'`.
 * Not the user API (that is the package's main entry) and not covered by semver: these names change
 * with the engine.
 */
export { type Clock, ManualClock, systemClock, type TimerHandle } from './clock.js';
export type { InitDownloadArgs, InitDownloader, SessionPreparer } from './init/initializer.js';
export type { AttemptOutcome, ResponseHead, SessionLease, TransportFailure } from './lease.js';
export { SessionManager, type SessionManagerDeps } from './manager.js';
export { MAX_TIMER_SECS, OPTION_DEFAULTS } from './options.js';
export { type PersistedState, STATE_FORMAT, STATE_VERSION } from './persist/state.js';
export type { FailureKind, PoolBackend, PoolHost, StoredSession } from './pools/backend.js';
export { type LearnedLifetime, LifetimeLearner } from './pools/lifetime.js';
export { createCrawleeSession, type EndReason, ManagedSession } from './pools/managed-session.js';
export {
    ageLimitMs,
    averageInitMs,
    isPastAge,
    type LifetimeOptions,
    learnedLifetime,
    lifetimeLearner,
    nextUseAt,
    retiresAfterUse,
    usesLimit,
} from './pools/policy.js';
export { Pool } from './pools/pool.js';
export { describeError, redact, safeCause } from './redact.js';
export { END_STYLES, escapeHtml, renderSessionReport } from './report/html.js';
export {
    MAX_TIMELINE_SESSIONS,
    type PoolReportData,
    type PoolTimelineTotals,
    type SessionRecord,
    type SessionReportData,
    SessionTimeline,
    type TimelineEnd,
} from './report/timeline.js';
export { resolveOptions } from './resolve-options.js';
export { SHARED_RECHECK_MS, SharedPool } from './store/shared-pool.js';
export type {
    SharedDiscardOutcome,
    SharedPoolEvent,
    SharedPoolState,
    SharedSessionInfo,
    SharedTakeResult,
    StoreProblem,
} from './store/shared-state.js';
export type { StoreConnection, StoreContext } from './store/store.js';
export type { ResolvedPoolOptions } from './types.js';
export { hostOf } from './url.js';
