import type { Request, Session } from '@crawlee/core';
import type { SessionConfig } from './config/session-config.js';
import type { PoolBackend } from './pools/backend.js';
import type { ManagedSession } from './pools/managed-session.js';
import type { RequestOverrides, SessionResponse } from './types.js';

/** One attempt's session: what to apply to the request, and the handle to report its outcome. */
export interface SessionLease {
    readonly request: Request;
    readonly session: Session;
    readonly poolId: string;
    /** The session's sticky proxy URL, if any. */
    readonly proxyUrl: string | undefined;
    /** `processRequest()` changes for this attempt only. */
    readonly overrides: RequestOverrides | undefined;
}

/** The status line and headers of a response whose body was not read yet. */
export type ResponseHead = Omit<SessionResponse, 'body'>;

/** A download that failed before any response came (network, timeout, proxy), as the adapter classified it. */
export interface TransportFailure {
    /** What was thrown (kept, redacted, as the `cause` of the download error), if anything. */
    readonly error: unknown;
    /** What went wrong, for the error message. @default describeError(error) */
    readonly reason?: string;
}

/** What one attempt came to, for `SessionManager.judge()`. */
export type AttemptOutcome = SessionResponse | ResponseHead | TransportFailure;

export interface LeaseState {
    /** The manager that issued the lease: another manager's lease is rejected. */
    owner: object;
    managed: ManagedSession;
    /** Its pool, which also keeps the directory's bookkeeping: release needs no lookup. */
    pool: PoolBackend;
    config: SessionConfig;
    released: boolean;
}

/**
 * A lease carries the engine's state about its attempt in a private field: a WeakMap insert per
 * attempt cost a fifth of the engine's time per request and doubled its GC work (bench/README.md),
 * and a private field, unlike a property, does not survive a copy of the lease.
 */
export class Lease implements SessionLease {
    readonly request: Request;
    readonly session: Session;
    readonly poolId: string;
    readonly proxyUrl: string | undefined;
    readonly overrides: RequestOverrides | undefined;
    readonly #state: LeaseState;

    constructor(request: Request, state: LeaseState, overrides: RequestOverrides | undefined) {
        this.request = request;
        this.session = state.managed.session;
        this.poolId = state.pool.id;
        this.proxyUrl = state.managed.proxyUrl;
        this.overrides = overrides;
        this.#state = state;
    }

    static stateOf(lease: SessionLease): LeaseState | undefined {
        return #state in lease ? (lease as Lease).#state : undefined;
    }
}
