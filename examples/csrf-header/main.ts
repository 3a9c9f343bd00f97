/**
 * A CSRF token from the session init, sent on every request through `processRequest()`.
 *
 * The demo shop's JSON API (`/api/products/:id`) answers 403 unless the request carries header
 * `x-csrf-token` with the token of its session, which the home page shows in
 * `<meta name="csrf-token">`. The init visits the home page and keeps the token in
 * `session.userData`, which lives as long as the session (and is saved with it when pool state is
 * persisted). `processRequest()` adds the header of the session that serves each attempt, for that
 * attempt only: a retry on another session sends that session's token.
 *
 * Run it: `node --conditions=@managed-sessions/source --import tsx examples/csrf-header/main.ts`
 */
import { pathToFileURL } from 'node:url';
import { Configuration, Log, LogLevel, type Request, type Session } from '@crawlee/core';
import { HttpCrawler } from '@crawlee/http';
import { MemoryStorage } from '@crawlee/memory-storage';
import {
    attachManagedSessions,
    type Download,
    type PoolSnapshot,
    type RequestOverrides,
    SessionConfig,
    SessionConfigRegistry,
} from '@managed-sessions/crawlee';
import { type DemoSite, type DemoSiteCounters, startDemoSite } from '@managed-sessions/demo-site';

export class ApiSessions extends SessionConfig {
    override async initSession(session: Session, request: Request, download: Download): Promise<boolean> {
        const home = await download({ url: new URL('/', request.url).href });
        const token = /<meta name="csrf-token" content="([^"]+)">/.exec(home.body)?.[1];
        if (home.statusCode !== 200 || token === undefined) return false;
        session.userData.csrfToken = token;
        return true;
    }

    override processRequest(_request: Request, session: Session): RequestOverrides {
        return { headers: { 'x-csrf-token': String(session.userData.csrfToken) } };
    }
}

export interface CsrfHeaderOptions {
    /** Base URL of a running demo shop; default: start one. */
    siteUrl?: string | undefined;
    /** API calls to make. @default 20 */
    products?: number | undefined;
    print?: ((line: string) => void) | undefined;
    /** Crawlee's log level (it logs each session rotation as a warning). @default LogLevel.ERROR */
    logLevel?: LogLevel | undefined;
}

interface ApiProduct {
    id: number;
    name: string;
    price: number;
    currency: string;
    postalCode: string | null;
}

export interface CsrfHeaderResult {
    /** API answers by product id. */
    products: Record<number, ApiProduct>;
    stats: Record<string, number>;
    pools: PoolSnapshot[];
    failed: number;
    site: DemoSiteCounters | undefined;
}

export async function run(options: CsrfHeaderOptions = {}): Promise<CsrfHeaderResult> {
    const print = options.print ?? console.log;
    const site: DemoSite | undefined = options.siteUrl === undefined ? await startDemoSite() : undefined;
    const baseUrl = options.siteUrl ?? site!.url;
    try {
        const registry = new SessionConfigRegistry();
        registry.register(ApiSessions, { include: `${new URL(baseUrl).host}/api/` });

        const products: Record<number, ApiProduct> = {};
        const crawler = new HttpCrawler(
            {
                log: new Log({ level: options.logLevel ?? LogLevel.ERROR, prefix: 'CsrfHeader' }),
                requestHandler({ json }) {
                    const product = json as ApiProduct;
                    products[product.id] = product;
                },
            },
            // In-memory storage: the example writes nothing to ./storage, and every run starts empty.
            new Configuration({ storageClient: new MemoryStorage({ persistStorage: false }), persistStorage: false }),
        );
        const sessions = attachManagedSessions(crawler, { registry, poolSize: 3 });

        const count = options.products ?? 20;
        const { requestsFailed } = await crawler.run(
            Array.from({ length: count }, (_, i) => `${baseUrl}/api/products/${i + 1}`),
        );

        const first = products[1];
        print(
            `Fetched ${Object.keys(products).length} products from the API with ${sessions.pools()[0]?.size ?? 0} sessions.`,
        );
        if (first) print(`  e.g. ${first.name}: ${first.price} ${first.currency}`);
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

// `node … examples/csrf-header/main.ts` runs it; importing the module (as the tests do) does not.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
    run().catch((error: unknown) => {
        console.error(error);
        process.exitCode = 1;
    });
}
