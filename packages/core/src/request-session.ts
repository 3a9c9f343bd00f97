import type { Request, Session } from '@crawlee/core';

/** The session of each request's current attempt: the `Session` itself, so binding reads nothing of it. */
const sessions = new WeakMap<Request, Session>();

/** Records the session serving the current attempt of `request`. */
export function bindRequestSession(request: Request, session: Session): void {
    sessions.set(request, session);
}

/**
 * The id of the session serving the current attempt of `request` (the same id passed to
 * `proxyConfiguration.newProxyInfo`), or `undefined` when no managed session serves it.
 */
export function getRequestSessionId(request: Request): string | undefined {
    return sessions.get(request)?.id;
}
