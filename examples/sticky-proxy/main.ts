/**
 * One sticky proxy per session, through local proxy exits.
 *
 * A site that ties a session to the IP address that started it needs every request of a session
 * to leave through the same exit. With a crawler `proxyConfiguration`, each managed session asks
 * it once, before its init, for `newProxyInfo(session.id)`: Crawlee hands out the proxy URLs in
 * turn and remembers the one given to each session id, so the init and every later use of the
 * session share one exit. Here three local proxies (with credentials) stand in for three IP
 * addresses, and the shop bans the first one: sessions that got it fail their init (403) and are
 * replaced by sessions on the other exits.
 *
 * Run it: `node --conditions=@managed-sessions/source --import tsx examples/sticky-proxy/main.ts`
 */
import { pathToFileURL } from 'node:url';
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, Log, LogLevel, ProxyConfiguration } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';
import { attachManagedSessions, getRequestSessionId, type PoolSnapshot } from '@managed-sessions/crawlee';
import { type DemoSiteCounters, type ProxyExits, startDemoSite, startProxyExits } from '@managed-sessions/demo-site';

export interface StickyProxyOptions {
    /** Product pages to scrape. @default 30 */
    products?: number | undefined;
    print?: ((line: string) => void) | undefined;
    /** Crawlee's log level (it logs each session rotation as a warning). @default LogLevel.ERROR */
    logLevel?: LogLevel | undefined;
}

export interface StickyProxyResult {
    /** Exit numbers each session's pages came through, by session id: one per session. */
    exitsBySession: Record<string, number[]>;
    /** The exit the shop bans. */
    bannedExit: number;
    pages: number;
    stats: Record<string, number>;
    pools: PoolSnapshot[];
    failed: number;
    site: DemoSiteCounters;
}

export async function run(options: StickyProxyOptions = {}): Promise<StickyProxyResult> {
    const print = options.print ?? console.log;
    const site = await startDemoSite();
    let proxies: ProxyExits | undefined;
    try {
        proxies = await startProxyExits(3, { site, auth: { username: 'crawler', password: 's3cret' } });
        // Like a site that blocks an IP address: every request through this exit gets a 403.
        const bannedExit = proxies.exits[0]!;
        site.banExit(bannedExit);
        // Proxy URLs carry credentials: show exit numbers, never the URLs.
        const exits = proxies.exits;
        const exitOf = new Map(proxies.urls.map((url, i) => [url, exits[i]!]));

        const exitsBySession: Record<string, Set<number>> = {};
        let pages = 0;
        const crawler = new CheerioCrawler(
            {
                log: new Log({ level: options.logLevel ?? LogLevel.ERROR, prefix: 'StickyProxy' }),
                proxyConfiguration: new ProxyConfiguration({ proxyUrls: [...proxies.urls] }),
                requestHandler({ request, proxyInfo }) {
                    pages++;
                    const sessionId = getRequestSessionId(request) ?? 'none';
                    const seen = exitsBySession[sessionId] ?? new Set<number>();
                    seen.add(exitOf.get(proxyInfo?.url ?? '') ?? -1);
                    exitsBySession[sessionId] = seen;
                },
            },
            // In-memory storage: the example writes nothing to ./storage, and every run starts empty.
            new Configuration({ storageClient: new MemoryStorage({ persistStorage: false }), persistStorage: false }),
        );
        // Sessions on this shop start on its home page (product pages refuse visitors without one).
        const sessions = attachManagedSessions(crawler, { poolSize: 4, params: { url: `${site.url}/` } });

        const count = options.products ?? 30;
        const { requestsFailed } = await crawler.run(
            Array.from({ length: count }, (_, i) => `${site.url}/product/${i + 1}`),
        );

        const counters = site.counters;
        print(`Scraped ${pages} pages; exit ${bannedExit} is banned by the shop.`);
        for (const [sessionId, exits] of Object.entries(exitsBySession)) {
            print(`  session ${sessionId}: exit ${[...exits].join(', ')}`);
        }
        const failedInits = sessions.stats['sessions/init/check-failed'] ?? 0;
        print(`  ${failedInits} inits failed on the banned exit; requests per exit: ${JSON.stringify(counters.exits)}`);
        return {
            exitsBySession: Object.fromEntries(Object.entries(exitsBySession).map(([id, exits]) => [id, [...exits]])),
            bannedExit,
            pages,
            stats: sessions.stats,
            pools: sessions.pools(),
            failed: requestsFailed,
            site: counters,
        };
    } finally {
        await proxies?.close();
        await site.close();
    }
}

// `node … examples/sticky-proxy/main.ts` runs it; importing the module (as the tests do) does not.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
    run().catch((error: unknown) => {
        console.error(error);
        process.exitCode = 1;
    });
}
