import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

/** One request as the test server saw it. */
export interface SeenRequest {
    method: string;
    path: string;
    cookie: string | undefined;
    headers: IncomingMessage['headers'];
    body: string;
}

export interface TestServer {
    url: string;
    host: string;
    /**
     * The same server under the host name `localhost`: another host for cookies (RFC 6265 cookies
     * ignore ports, so `127.0.0.1:A` and `127.0.0.1:B` would share them).
     */
    otherHostUrl: string;
    seen: SeenRequest[];
    close(): Promise<void>;
}

/**
 * A real `node:http` server on 127.0.0.1, recording every request; on an ephemeral port unless
 * `port` is given (a host that was down coming back up at the same address).
 */
export async function startServer(
    handler: (request: SeenRequest, response: ServerResponse) => void | Promise<void>,
    port = 0,
): Promise<TestServer> {
    const seen: SeenRequest[] = [];
    const server = createServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const request: SeenRequest = {
            method: req.method ?? 'GET',
            path: req.url ?? '/',
            cookie: req.headers.cookie,
            headers: req.headers,
            body: Buffer.concat(chunks).toString(),
        };
        seen.push(request);
        try {
            await handler(request, res);
        } catch (error) {
            res.statusCode = 500;
            res.end(String(error));
        }
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    const bound = (server.address() as AddressInfo).port;
    return {
        url: `http://127.0.0.1:${bound}`,
        host: `127.0.0.1:${bound}`,
        otherHostUrl: `http://localhost:${bound}`,
        seen,
        close: async () => {
            server.closeAllConnections();
            server.close();
            await once(server, 'close');
        },
    };
}

/** Sends an HTML page. */
export function html(
    response: ServerResponse,
    body: string,
    status = 200,
    headers: Record<string, string | string[]> = {},
) {
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
    response.end(`<html><body>${body}</body></html>`);
}

/** Sends a redirect. */
export function redirect(response: ServerResponse, location: string, headers: Record<string, string | string[]> = {}) {
    response.writeHead(302, { location, ...headers });
    response.end();
}

/** Closes the connection without any response: a network error for the client. */
export function dropConnection(response: ServerResponse): void {
    response.socket?.destroy();
}

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(cookie: string | undefined, name: string): string | undefined {
    return cookie
        ?.split(';')
        .map((part) => part.trim().split('='))
        .find(([key]) => key === name)?.[1];
}

/**
 * The usual session-protected site of these tests: a request without a `sid` cookie is an init
 * and gets the next id (`s1`, `s2`, …); a request with one gets a page that shows it in `#sid`.
 * `page` may answer differently (return `true` when it did).
 */
export function sidSite(
    page?: (
        request: SeenRequest,
        response: ServerResponse,
        sid: string,
    ) => boolean | undefined | Promise<boolean | undefined>,
) {
    let issued = 0;
    return async (request: SeenRequest, response: ServerResponse): Promise<void> => {
        const sid = cookieValue(request.cookie, 'sid');
        if (!sid) {
            issued++;
            return html(response, `<p id="new">s${issued}</p>`, 200, { 'set-cookie': `sid=s${issued}; Path=/` });
        }
        if (page && (await page(request, response, sid))) return;
        html(response, `<p id="sid">${sid}</p>`);
    };
}

/** The `sid` cookie of each request the server saw, in order (`-` for none). */
export function sidsSeen(server: TestServer, filter: (request: SeenRequest) => boolean = () => true): string[] {
    return server.seen.filter(filter).map((request) => cookieValue(request.cookie, 'sid') ?? '-');
}

/**
 * `serve(handler)` for a test file: starts a server like {@link startServer} and closes every
 * server it started after each test.
 */
export function serverPerTest(): (handler: Parameters<typeof startServer>[0]) => Promise<TestServer> {
    const servers: TestServer[] = [];
    afterEach(async () => {
        await Promise.all(servers.splice(0).map((server) => server.close()));
    });
    return async (handler) => {
        const server = await startServer(handler);
        servers.push(server);
        return server;
    };
}
