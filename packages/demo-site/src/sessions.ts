import { randomUUID } from 'node:crypto';

/** What the site remembers about one session (the value of its `sid` cookie). */
export interface ServerSession {
    readonly id: string;
    /** Site-clock milliseconds at creation. */
    readonly createdAt: number;
    /** Requests to session-protected routes admitted so far (see the README of the site). */
    uses: number;
    /** Site-clock milliseconds of the last admitted use; `undefined` before the first. */
    lastUseAt: number | undefined;
    postalCode: string | undefined;
    /** Expected in the `x-csrf-token` header of `/api/…` requests; shown on the home page. */
    readonly csrf: string;
    /** Hidden `form_token` of the last login form served; consumed by `POST /login`. */
    formToken: string | undefined;
    /** Username once logged in. */
    user: string | undefined;
}

/** A read-only copy of a {@link ServerSession}, as `DemoSite.getSession()` returns it. */
export type DemoSessionSnapshot = Readonly<Omit<ServerSession, 'formToken'>>;

/**
 * Random, not seeded: a site restarted with the same seed must not hand out ids that a crawler
 * restored from an earlier run still holds, or two client sessions would share one server session.
 */
export function randomToken(): string {
    return randomUUID().replaceAll('-', '');
}

/** The server-side session table, with the site's lifetime rules. */
export class SessionStore {
    readonly #sessions = new Map<string, ServerSession>();
    readonly #maxUses: number | undefined;
    readonly #maxAgeMs: number | undefined;

    constructor(maxUses: number | undefined, maxAgeMs: number | undefined) {
        this.#maxUses = maxUses;
        this.#maxAgeMs = maxAgeMs;
    }

    /** Number of sessions ever created and still remembered (expired ones included). */
    get size(): number {
        return this.#sessions.size;
    }

    create(now: number): ServerSession {
        const session: ServerSession = {
            id: randomToken(),
            createdAt: now,
            uses: 0,
            lastUseAt: undefined,
            postalCode: undefined,
            csrf: randomToken(),
            formToken: undefined,
            user: undefined,
        };
        this.#sessions.set(session.id, session);
        return session;
    }

    get(id: string): ServerSession | undefined {
        return this.#sessions.get(id);
    }

    /** Whether the session has outlived `sessionMaxUses` or `sessionMaxAgeMs` at `now`. */
    isExpired(session: ServerSession, now: number): boolean {
        if (this.#maxUses !== undefined && session.uses >= this.#maxUses) return true;
        return this.#maxAgeMs !== undefined && now - session.createdAt >= this.#maxAgeMs;
    }
}
