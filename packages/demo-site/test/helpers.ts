import { type IncomingMessage, request } from 'node:http';
import type { Socket } from 'node:net';

/** What the tests look at in a response. */
export interface Reply {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

/** A fetch that does not follow redirects and returns the whole reply. */
export async function get(url: string, init: RequestInit = {}): Promise<Reply> {
    const response = await fetch(url, { redirect: 'manual', ...init });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
        headers[key] = value;
    });
    return { status: response.status, headers, body: await response.text() };
}

/** The `sid=…` pair set by a reply, for a `Cookie` header. */
export function sessionCookie(reply: Reply): string {
    const setCookie = reply.headers['set-cookie'];
    const match = typeof setCookie === 'string' ? /^sid=([0-9a-f]{32}); Path=\/; HttpOnly$/.exec(setCookie) : null;
    if (match === null) throw new Error(`no session cookie in ${JSON.stringify(setCookie)}`);
    return `sid=${match[1]}`;
}

/** The session id of a `sid=…` cookie pair. */
export function sidOf(cookie: string): string {
    return cookie.slice('sid='.length);
}

/** Starts a session with `GET /` and returns its cookie pair. */
export async function newSession(siteUrl: string): Promise<string> {
    return sessionCookie(await get(`${siteUrl}/`));
}

function proxyHeaders(proxyUrl: URL): Record<string, string> {
    if (proxyUrl.username === '') return {};
    const credentials = `${decodeURIComponent(proxyUrl.username)}:${decodeURIComponent(proxyUrl.password)}`;
    return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

function readReply(res: IncomingMessage): Promise<Reply> {
    return new Promise((resolve, reject) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
            body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
    });
}

/** A plain forwarded request (absolute URL to the proxy), as got-scraping sends `http://` targets. */
export function viaProxy(proxy: string, target: string, headers: Record<string, string> = {}): Promise<Reply> {
    const proxyUrl = new URL(proxy);
    return new Promise((resolve, reject) => {
        const req = request(
            {
                host: proxyUrl.hostname,
                port: proxyUrl.port,
                path: target,
                headers: { ...headers, ...proxyHeaders(proxyUrl) },
                agent: false,
            },
            (res) => void readReply(res).then(resolve, reject),
        );
        req.on('error', reject);
        req.end();
    });
}

/** A request through a CONNECT tunnel, as undici's ProxyAgent sends even `http://` targets. */
export function viaTunnel(
    proxy: string,
    target: string,
    headers: Record<string, string> = {},
): Promise<Reply & { tunnelStatus: number }> {
    const proxyUrl = new URL(proxy);
    const targetUrl = new URL(target);
    return new Promise((resolve, reject) => {
        const connect = request({
            host: proxyUrl.hostname,
            port: proxyUrl.port,
            method: 'CONNECT',
            path: targetUrl.host,
            headers: proxyHeaders(proxyUrl),
            agent: false,
        });
        connect.on('error', reject);
        connect.on('connect', (res, socket: Socket) => {
            if (res.statusCode !== 200) {
                socket.destroy();
                resolve({ tunnelStatus: res.statusCode ?? 0, status: 0, headers: {}, body: '' });
                return;
            }
            const inner = request(
                { createConnection: () => socket, path: targetUrl.pathname + targetUrl.search, headers },
                (innerRes) =>
                    void readReply(innerRes).then((reply) => {
                        socket.destroy();
                        resolve({ ...reply, tunnelStatus: 200 });
                    }, reject),
            );
            inner.on('error', reject);
            inner.end();
        });
        connect.end();
    });
}
