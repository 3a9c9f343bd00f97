import type { Request, Session } from '@crawlee/core';

const sessionIds = new WeakMap<Request, string>();

/** Records the session serving the current attempt of `request`. */
export function bindRequestSession(request: Request, session: Session): void {
    sessionIds.set(request, session.id);
}

/**
 * The id of the session serving the current attempt of `request` (the same id passed to
 * `proxyConfiguration.newProxyInfo`), or `undefined` when no managed session serves it.
 */
export function getRequestSessionId(request: Request): string | undefined {
    return sessionIds.get(request);
}
