import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cookieValue } from './server.js';

/** What the shared-session site saw. */
export interface SiteRecord {
    /** Sessions issued: one per init (a request without a `sid` cookie). */
    inits: number;
    /** Page requests per path (requests with a `sid`). */
    pages: Map<string, number>;
    /** Page requests per sid. */
    sids: Map<string, number>;
    /** The most distinct sessions with a request in flight at one moment. */
    maxConcurrentSessions: number;
    /** The most requests in flight at one moment for one session. */
    maxInFlightPerSession: number;
    /** Sessions the site banned (answered 403), with when. */
    banned: Map<string, number>;
    /** Requests that came with a banned session after its ban: `sid path`. */
    usedAfterBan: string[];
    /** When each process's first page request arrived (by the first path segment, e.g. `b`). */
    firstPageAt: Map<string, number>;
}

export interface SessionSite {
    url: string;
    record: SiteRecord;
    /** Page requests in flight now, by path. */
    hanging(): string[];
    close(): Promise<void>;
}

/**
 * A session-protected site for the multi-process tests: a request without a `sid` cookie is an
 * init and gets the next session (`s1`, `s2`, …); a page request must carry one. Pages answer
 * after `pageMs`. `banPaths`: the first request of each answers 403 and bans its session (every
 * later request with it is recorded in `usedAfterBan`). Paths under `hangPrefix` never answer.
 */
export async function startSessionSite(
    options: { pageMs?: number; banPaths?: string[]; hangPrefix?: string } = {},
): Promise<SessionSite> {
    const { pageMs = 20, banPaths = [], hangPrefix } = options;
    const record: SiteRecord = {
        inits: 0,
        pages: new Map(),
        sids: new Map(),
        maxConcurrentSessions: 0,
        maxInFlightPerSession: 0,
        banned: new Map(),
        usedAfterBan: [],
        firstPageAt: new Map(),
    };
    const inFlight = new Map<string, number>();
    const hangingPaths = new Map<ServerResponse, string>();
    const toBan = new Set(banPaths);

    const server = createServer((req, res) => {
        const path = req.url ?? '/';
        const sid = cookieValue(req.headers.cookie, 'sid');
        if (!sid) {
            record.inits++;
            res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': `sid=s${record.inits}; Path=/` });
            res.end(`<html><body><p id="new">s${record.inits}</p></body></html>`);
            return;
        }
        const group = path.split('/')[1] ?? '';
        if (!record.firstPageAt.has(group)) record.firstPageAt.set(group, Date.now());
        record.pages.set(path, (record.pages.get(path) ?? 0) + 1);
        record.sids.set(sid, (record.sids.get(sid) ?? 0) + 1);
        if (record.banned.has(sid)) record.usedAfterBan.push(`${sid} ${path}`);
        inFlight.set(sid, (inFlight.get(sid) ?? 0) + 1);
        record.maxInFlightPerSession = Math.max(record.maxInFlightPerSession, inFlight.get(sid)!);
        record.maxConcurrentSessions = Math.max(record.maxConcurrentSessions, inFlight.size);
        res.once('close', () => {
            hangingPaths.delete(res);
            const left = (inFlight.get(sid) ?? 1) - 1;
            if (left > 0) inFlight.set(sid, left);
            else inFlight.delete(sid);
        });
        if (hangPrefix && path.startsWith(hangPrefix)) {
            hangingPaths.set(res, path);
            return;
        }
        setTimeout(() => {
            if (toBan.delete(path)) {
                record.banned.set(sid, Date.now());
                res.writeHead(403, { 'content-type': 'text/html' });
                res.end('<html><body>banned</body></html>');
                return;
            }
            res.writeHead(200, { 'content-type': 'text/html' });
            res.end(`<html><body><p id="sid">${sid}</p></body></html>`);
        }, pageMs);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        record,
        hanging: () => [...hangingPaths.values()],
        close: async () => {
            server.closeAllConnections();
            server.close();
            await once(server, 'close');
        },
    };
}
