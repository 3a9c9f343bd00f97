import { Server } from 'proxy-chain';

/** One request a test proxy forwarded. */
export interface ProxiedRequest {
    url: string;
    cookie: string | undefined;
}

export interface TestProxy {
    name: string;
    /** The proxy URL, with `user:password@` when the proxy requires them. */
    url: string;
    forwarded: ProxiedRequest[];
    /** Requests refused for missing or wrong credentials. */
    refused: number;
    close(): Promise<void>;
}

/**
 * A forward proxy (proxy-chain) on 127.0.0.1 that adds `x-proxy: <name>` to every request it
 * forwards, so the target server sees which exit a request took. With `auth`, it requires those
 * credentials.
 */
export async function startProxy(name: string, auth?: { username: string; password: string }): Promise<TestProxy> {
    const forwarded: ProxiedRequest[] = [];
    const proxy: TestProxy = { name, url: '', forwarded, refused: 0, close: async () => undefined };
    const server = new Server({
        port: 0,
        host: '127.0.0.1',
        prepareRequestFunction: ({ request, username, password }) => {
            if (auth && (username !== auth.username || password !== auth.password)) {
                proxy.refused++;
                return { requestAuthentication: true };
            }
            forwarded.push({ url: request.url ?? '', cookie: request.headers.cookie });
            // proxy-chain forwards `rawHeaders` (valid ones) to the target.
            request.rawHeaders.push('x-proxy', name);
            return {};
        },
    });
    await server.listen();
    const credentials = auth ? `${auth.username}:${auth.password}@` : '';
    proxy.url = `http://${credentials}127.0.0.1:${server.port}`;
    proxy.close = async () => server.close(true);
    return proxy;
}
