import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
    seen: SeenRequest[];
    close(): Promise<void>;
}

/** A real `node:http` server on 127.0.0.1 with an ephemeral port, recording every request. */
export async function startServer(
    handler: (request: SeenRequest, response: ServerResponse) => void | Promise<void>,
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
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        host: `127.0.0.1:${port}`,
        seen,
        close: async () => {
            server.closeAllConnections();
            server.close();
            await once(server, 'close');
        },
    };
}

/** Sends an HTML page. */
export function html(response: ServerResponse, body: string, status = 200, headers: Record<string, string | string[]> = {}) {
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
    response.end(`<html><body>${body}</body></html>`);
}

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(cookie: string | undefined, name: string): string | undefined {
    return cookie
        ?.split(';')
        .map((part) => part.trim().split('='))
        .find(([key]) => key === name)?.[1];
}
