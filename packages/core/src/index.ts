export { type Clock, ManualClock, systemClock, type TimerHandle } from './clock.js';
export { LocationSessionConfig } from './config/location-session-config.js';
export { SessionConfig, type SessionConfigContext } from './config/session-config.js';
export {
    CloseCrawlerError,
    ManagedSessionsError,
    type ManagedSessionsErrorCode,
    ManagedSessionsOptionsError,
    NoSessionAvailableError,
    PoolError,
    SessionCheckFailedError,
    SessionControlError,
    SessionDownloadError,
    SessionsClosedError,
    TooManyBadSessionInitsError,
} from './errors.js';
export { HookThrewError, RequestHookTimeoutError } from './hook-error.js';
export type { InitDownloadArgs, InitDownloader, SessionPreparer } from './init/initializer.js';
export { isSessionInitRequest, UNSUPPORTED_SET_LOCATION } from './init/params.js';
export { POOL_ERROR, type SessionLease, SessionManager, type SessionManagerDeps } from './manager.js';
export {
    type Checker,
    MAX_TIMER_SECS,
    type ManagedSessionsOptions,
    OPTION_DEFAULTS,
    type PersistStateOptions,
    type PoolOptions,
    type ResolvedManagedSessionsOptions,
    type ResolvedPersistStateOptions,
    resolveOptions,
} from './options.js';
export { type PersistedState, STATE_FORMAT, STATE_VERSION } from './persist/state.js';
export type { EndReason, ManagedSession } from './pools/managed-session.js';
export type { PoolHost, PoolSnapshot, StoredSession } from './pools/pool.js';
export { hostOf } from './pools/pool-id.js';
export { describeError, redact } from './redact.js';
export { sessionConfig } from './registry/decorator.js';
export { SessionConfigRegistry, type SessionConfigRule, sessionConfigRegistry } from './registry/registry.js';
export {
    END_STYLES,
    escapeHtml,
    renderSessionReport,
    SESSIONS_REPORT_KEY,
} from './report/html.js';
export {
    MAX_TIMELINE_SESSIONS,
    type PoolReportData,
    type PoolTimelineTotals,
    type SessionRecord,
    type SessionReportData,
    SessionTimeline,
    type TimelineEnd,
} from './report/timeline.js';
export { getRequestSessionId } from './request-session.js';
export { STAT_NAMES, type StatName } from './stats.js';
export { SHARED_RECHECK_MS, SharedPool } from './store/shared-pool.js';
export type {
    SharedDiscardOutcome,
    SharedPoolEvent,
    SharedPoolState,
    SharedSessionInfo,
    SharedTakeResult,
} from './store/shared-state.js';
export {
    type FailureKind,
    MemorySessionStore,
    type PoolBackend,
    type SessionStore,
    type StoreConnection,
    type StoreContext,
} from './store/store.js';
export type {
    Download,
    InitRequest,
    Location,
    PoolConfig,
    RequestOverrides,
    ResolvedPoolOptions,
    SessionResponse,
} from './types.js';
