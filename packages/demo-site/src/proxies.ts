import { Agent } from 'node:http';
import { Server as ProxyServer } from 'proxy-chain';
import { checkInteger, DemoSiteOptionsError } from './options.js';
import { type DemoSite, EXIT_HEADER, type SiteInternals, siteInternals } from './site.js';

/** Options of {@link startProxyExits}. */
export interface ProxyExitsOptions {
    /**
     * The site the exits lead to. With it, exit numbers are reserved on the site (unique across
     * several `startProxyExits` calls) and CONNECT tunnels to the site are attributed to their exit
     * as well (clients such as undici's `ProxyAgent` tunnel even `http://` targets). Without it,
     * exits are numbered from 0 and only plain forwarded requests carry their exit.
     * @default undefined
     */
    site?: DemoSite | undefined;
    /**
     * Require Basic proxy authentication with these credentials (407 otherwise); the returned
     * URLs include them, as `http://user:pass@127.0.0.1:port`.
     * @default undefined
     */
    auth?: { readonly username: string; readonly password: string } | undefined;
}

/** Running proxy exits, from {@link startProxyExits}. */
export interface ProxyExits {
    /** One proxy URL per exit, in exit order, e.g. `http://127.0.0.1:38211`. */
    readonly urls: readonly string[];
    /** The exit number of each URL: what `site.banExit()` takes and `counters.exits` is keyed by. */
    readonly exits: readonly number[];
    /** Stops every proxy and closes its connections. */
    close(): Promise<void>;
}

/**
 * Starts `count` forward HTTP proxies on 127.0.0.1, each a distinct *exit*: a request it forwards
 * reaches the site with header `x-demo-exit: <n>`, so the site counts requests per exit and can
 * ban one (`site.banExit(n)`: 403 for everything through it), like a site banning an IP.
 *
 * @example
 * ```ts
 * const site = await startDemoSite();
 * const proxies = await startProxyExits(3, { site, auth: { username: 'user', password: 's3cret' } });
 * const proxyConfiguration = new ProxyConfiguration({ proxyUrls: [...proxies.urls] });
 * site.banExit(proxies.exits[0]!);
 * // … crawl …
 * await proxies.close();
 * await site.close();
 * ```
 */
export async function startProxyExits(count: number, options: ProxyExitsOptions = {}): Promise<ProxyExits> {
    checkInteger('count', count, 1, 1000);
    const { site, auth } = options;
    if (auth !== undefined) {
        for (const key of ['username', 'password'] as const) {
            if (typeof auth[key] !== 'string' || auth[key] === '') {
                throw DemoSiteOptionsError.expected(`auth.${key}`, 'a non-empty string', auth[key]);
            }
        }
    }
    const internals = site === undefined ? undefined : siteInternals.get(site);
    const exits = internals?.allocateExits(count) ?? Array.from({ length: count }, (_, i) => i);
    const started: { server: ProxyServer; agent: Agent }[] = [];
    const close = async (): Promise<void> => {
        await Promise.all(started.map(({ server }) => server.close(true)));
        for (const { agent } of started) agent.destroy();
    };
    try {
        for (const exit of exits) {
            const agent = new Agent({ keepAlive: true });
            const server = new ProxyServer({
                port: 0,
                host: '127.0.0.1',
                verbose: false,
                prepareRequestFunction: ({ request, username, password, hostname, port, isHttp }) => {
                    if (auth !== undefined && (username !== auth.username || password !== auth.password)) {
                        return { requestAuthentication: true, failMsg: 'Proxy credentials required' };
                    }
                    if (!isHttp) {
                        if (internals === undefined || !leadsTo(site, internals, hostname, port)) return {};
                        internals.markTunnel(request.socket, exit);
                        return { customConnectServer: internals.server };
                    }
                    setExitHeader(request.rawHeaders, exit);
                    return { httpAgent: agent };
                },
            });
            started.push({ server, agent });
            await server.listen();
        }
    } catch (error) {
        await close();
        throw error;
    }
    const credentials =
        auth === undefined ? '' : `${encodeURIComponent(auth.username)}:${encodeURIComponent(auth.password)}@`;
    return {
        urls: started.map(({ server }) => `http://${credentials}127.0.0.1:${server.port}`),
        exits,
        close,
    };
}

function leadsTo(site: DemoSite | undefined, internals: SiteInternals, hostname: string, port: number): boolean {
    return (
        site !== undefined &&
        internals.server.listening &&
        port === site.port &&
        (hostname === '127.0.0.1' || hostname === 'localhost')
    );
}

/** proxy-chain forwards `rawHeaders`; a client-sent exit header must not pass for ours. */
function setExitHeader(rawHeaders: string[], exit: number): void {
    for (let i = rawHeaders.length - 2; i >= 0; i -= 2) {
        if (rawHeaders[i]?.toLowerCase() === EXIT_HEADER) rawHeaders.splice(i, 2);
    }
    rawHeaders.push(EXIT_HEADER, String(exit));
}
