// The user API. The engine's internals (the manager, pools, stores, the clock) are on the
// `@managed-sessions/core/internal` entry, for the adapter and the store packages.
export { LocationSessionConfig } from './config/location-session-config.js';
export { SessionConfig, type SessionConfigContext } from './config/session-config.js';
export {
    CloseCrawlerError,
    HookThrewError,
    HookTimeoutError,
    ManagedSessionsError,
    type ManagedSessionsErrorCode,
    ManagedSessionsOptionsError,
    NoSessionAvailableError,
    PoolError,
    RequestHookTimeoutError,
    SessionCheckFailedError,
    SessionControlError,
    SessionDownloadError,
    SessionsClosedError,
    TooManyBadSessionInitsError,
} from './errors.js';
export { isSessionInitRequest, UNSUPPORTED_SET_LOCATION } from './init/params.js';
export { POOL_ERROR } from './manager.js';
export type {
    Checker,
    ManagedSessionsOptions,
    PersistStateOptions,
    PoolOptions,
    ResolvedManagedSessionsOptions,
    ResolvedPersistStateOptions,
} from './options.js';
export type { PoolSnapshot } from './pools/backend.js';
export { sessionConfig } from './registry/decorator.js';
export { SessionConfigRegistry, type SessionConfigRule, sessionConfigRegistry } from './registry/registry.js';
export { SESSIONS_REPORT_KEY } from './report/html.js';
export { getRequestSessionId } from './request-session.js';
export { STAT_NAMES, type StatName } from './stats.js';
export { MemorySessionStore } from './store/memory-store.js';
export type { SessionStore } from './store/store.js';
export type { Download, InitRequest, Location, PoolConfig, RequestOverrides, SessionResponse } from './types.js';
