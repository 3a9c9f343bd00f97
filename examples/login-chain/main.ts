/**
 * A login chain through `initSession()`.
 *
 * The demo shop started with `requireLogin: true` serves product pages only to logged-in
 * sessions. Logging in takes several requests that must share one cookie jar: `GET /login` (starts
 * the session and serves a form with a one-time hidden `form_token`), then `POST /login` with the
 * credentials and that token. A single init request cannot do it, so the config overrides
 * `initSession()` and calls `download()` once per step; every step runs with the session's own
 * cookies, proxy and header fingerprint.
 *
 * Run it: `node --conditions=@managed-sessions/source --import tsx examples/login-chain/main.ts`
 */
import { pathToFileURL } from 'node:url';
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, Log, LogLevel, type Request, type Session } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';
import {
    attachManagedSessions,
    type Download,
    type PoolSnapshot,
    SessionConfig,
    SessionConfigRegistry,
    type SessionResponse,
} from '@managed-sessions/crawlee';
import { type DemoSite, type DemoSiteCounters, startDemoSite } from '@managed-sessions/demo-site';

/** The demo shop's account; a real crawler would read it from the environment. */
const CREDENTIALS = { username: 'alice', password: 'wonderland' };

/** Logs every session in before its first use. */
export class MemberSessions extends SessionConfig {
    override async initSession(_session: Session, request: Request, download: Download): Promise<boolean> {
        const login = new URL('/login', request.url).href;
        const form = await download({ url: login });
        const formToken = /name="form_token" value="([^"]+)"/.exec(form.body)?.[1];
        if (form.statusCode !== 200 || formToken === undefined) return false;
        await download({ url: login, method: 'POST', form: { ...CREDENTIALS, form_token: formToken } });
        // The account page tells whether the login took, whatever the answer to the form was.
        const account = await download({ url: new URL('/account', request.url).href });
        return this.check(account) && account.body.includes('<p id="user">');
    }

    override check(response: SessionResponse): boolean {
        // A 403 means no session or not logged in; an expired session gets a page with status 200.
        return response.statusCode !== 403 && !response.body.includes('<h1 id="expired">');
    }
}

export interface LoginChainOptions {
    /** A demo shop started with `--require-login`; default: start one. */
    siteUrl?: string | undefined;
    /** Product pages to scrape. @default 20 */
    products?: number | undefined;
    print?: ((line: string) => void) | undefined;
    /** Crawlee's log level (it logs each session rotation as a warning). @default LogLevel.ERROR */
    logLevel?: LogLevel | undefined;
}

export interface LoginChainResult {
    /** Product name by product id. */
    products: Record<number, string>;
    stats: Record<string, number>;
    pools: PoolSnapshot[];
    failed: number;
    site: DemoSiteCounters | undefined;
}

export async function run(options: LoginChainOptions = {}): Promise<LoginChainResult> {
    const print = options.print ?? console.log;
    const site: DemoSite | undefined =
        options.siteUrl === undefined ? await startDemoSite({ requireLogin: true }) : undefined;
    const baseUrl = options.siteUrl ?? site!.url;
    try {
        const registry = new SessionConfigRegistry();
        registry.register(MemberSessions, { include: new URL(baseUrl).host });

        const products: Record<number, string> = {};
        const crawler = new CheerioCrawler(
            {
                log: new Log({ level: options.logLevel ?? LogLevel.ERROR, prefix: 'LoginChain' }),
                requestHandler({ $ }) {
                    products[Number($('#product').attr('data-id'))] = $('#product-name').text();
                },
            },
            // In-memory storage: the example writes nothing to ./storage, and every run starts empty.
            new Configuration({ storageClient: new MemoryStorage({ persistStorage: false }), persistStorage: false }),
        );
        const sessions = attachManagedSessions(crawler, { registry, poolSize: 3 });

        const count = options.products ?? 20;
        const { requestsFailed } = await crawler.run(
            Array.from({ length: count }, (_, i) => `${baseUrl}/product/${i + 1}`),
        );

        const logins = sessions.stats['sessions/init/check-passed'] ?? 0;
        print(`Scraped ${Object.keys(products).length} members-only product pages with ${logins} logged-in sessions.`);
        return {
            products,
            stats: sessions.stats,
            pools: sessions.pools(),
            failed: requestsFailed,
            site: site?.counters,
        };
    } finally {
        await site?.close();
    }
}

// `node … examples/login-chain/main.ts` runs it; importing the module (as the tests do) does not.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
    run().catch((error: unknown) => {
        console.error(error);
        process.exitCode = 1;
    });
}
