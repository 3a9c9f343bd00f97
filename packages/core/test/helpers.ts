import { Log, Logger, LogLevel, Request, type RequestOptions } from '@crawlee/core';
import {
    getRequestSessionId,
    isSessionInitRequest,
    type ManagedSessionsOptions,
    SessionConfigRegistry,
    type SessionResponse,
} from '@managed-sessions/core';
import {
    type InitDownloadArgs,
    ManualClock,
    type SessionLease,
    SessionManager,
    type SessionManagerDeps,
} from '@managed-sessions/core/internal';

/** What the fake init download saw for one call. */
export interface DownloadCall {
    url: string;
    method: string;
    /** The request body (`payload`), if any. */
    body: string | undefined;
    headers: Record<string, string>;
    sessionId: string;
    proxyUrl: string | undefined;
    isInit: boolean;
    /** What `getRequestSessionId()` says for the init request at download time. */
    requestSessionId: string | undefined;
    userData: Record<string, unknown>;
    request: Request;
    signal: AbortSignal;
}

export type Responder = (call: DownloadCall) => SessionResponse | Promise<SessionResponse>;

/** A response with a fresh object each time (the engine keys init bookkeeping on it). */
export function response(url: string, statusCode = 200, body = 'ok'): SessionResponse {
    return { url, statusCode, headers: {}, body };
}

/** A promise with its resolvers exposed, for downloads that finish when the test says. */
export interface Deferred<T> {
    promise: Promise<T>;
    resolve(value: T): void;
    reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
    });
    return { promise, resolve, reject };
}

/**
 * The unit boundary: a fake init download that records every call and answers with `respond`
 * (default: 200 from the requested URL).
 */
export class FakeDownload {
    readonly calls: DownloadCall[] = [];
    respond: Responder = (call) => response(call.url);

    readonly download = async (args: InitDownloadArgs): Promise<SessionResponse> => {
        const { request, session, proxyUrl, signal } = args;
        const call: DownloadCall = {
            url: request.url,
            method: request.method,
            body: request.payload === undefined ? undefined : String(request.payload),
            headers: { ...(request.headers ?? {}) },
            sessionId: session.id,
            proxyUrl,
            isInit: isSessionInitRequest(request),
            requestSessionId: getRequestSessionId(request),
            userData: { ...request.userData },
            request,
            signal,
        };
        this.calls.push(call);
        return this.respond(call);
    };

    get urls(): string[] {
        return this.calls.map((call) => call.url);
    }

    /** Distinct sessions initialised (one or more downloads each). */
    get sessionIds(): string[] {
        return [...new Set(this.calls.map((call) => call.sessionId))];
    }
}

/** A Crawlee logger that keeps lines instead of printing them. */
class CaptureLogger extends Logger {
    readonly lines: { level: LogLevel; message: string }[] = [];

    constructor() {
        super({});
    }

    override _log(level: LogLevel, message: string, _data?: unknown, exception?: unknown): void {
        const detail = exception instanceof Error ? ` ${exception.message}` : '';
        this.lines.push({ level, message: `${message}${detail}` });
    }
}

export function captureLog(): { log: Log; lines: { level: LogLevel; message: string }[] } {
    const logger = new CaptureLogger();
    return { log: new Log({ level: LogLevel.DEBUG, logger }), lines: logger.lines };
}

export const silentLog = new Log({ level: LogLevel.OFF });

export function req(url: string, userData: Record<string, unknown> = {}, extra: Partial<RequestOptions> = {}): Request {
    return new Request({ url, userData, ...extra });
}

/** The lease of an attempt of `request` (default: a page of `shop.example`); fails the test when there is none. */
export async function lease(h: Harness, request: Request = req('https://shop.example/a')): Promise<SessionLease> {
    const got = await h.manager.acquire(request);
    if (!got) throw new Error('no lease');
    return got;
}

export interface Harness {
    manager: SessionManager;
    clock: ManualClock;
    site: FakeDownload;
    registry: SessionConfigRegistry;
    /** `onClose` calls: reason and error. */
    closes: { reason: string; error: Error }[];
}

/**
 * A manager on a manual clock, a fake download, a fresh registry, silent logs and
 * `random() = 0.5` (delay factor 1) unless `deps` says otherwise.
 */
export function setup(
    options: ManagedSessionsOptions = {},
    deps: Partial<SessionManagerDeps> & { registry?: SessionConfigRegistry; site?: FakeDownload } = {},
): Harness {
    const { registry = new SessionConfigRegistry(), site = new FakeDownload(), ...rest } = deps;
    const clock = new ManualClock();
    const closes: Harness['closes'] = [];
    const manager = new SessionManager(
        { registry, ...options },
        {
            download: site.download,
            clock,
            random: () => 0.5,
            log: silentLog,
            onClose: (reason, error) => closes.push({ reason, error }),
            ...rest,
        },
    );
    return { manager, clock, site, registry, closes };
}

/** Lets pending promise callbacks run (the fake download answers asynchronously). */
export async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 20; j++) await Promise.resolve();
        await new Promise<void>((resolve) => setImmediate(resolve));
    }
}

/** Whether `promise` has settled, without waiting for it. */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
    let settled = false;
    promise.then(
        () => {
            settled = true;
        },
        () => {
            settled = true;
        },
    );
    await settle();
    return settled;
}
