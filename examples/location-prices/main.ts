/**
 * Prices for three postal codes: `LocationSessionConfig` and one session pool per location.
 *
 * The demo shop prices every product for the delivery postal code of the session, set with
 * `POST /location`. Each request names the location it needs in `userData.sessionLocation`; the
 * engine keeps one pool per location (`127.0.0.1:PORT@10001`, …), and initialises each session of
 * a pool with that pool's location through `locationParams()`. `locationCheck()` then rejects
 * any response that shows another postal code, so a price never lands under the wrong location.
 *
 * Run it: `node --conditions=@managed-sessions/source --import tsx examples/location-prices/main.ts`
 */
import { pathToFileURL } from 'node:url';
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, Log, LogLevel, type Request, type Session } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';
import {
    attachManagedSessions,
    type Download,
    type InitRequest,
    type Location,
    LocationSessionConfig,
    type PoolSnapshot,
    SessionConfigRegistry,
    type SessionResponse,
} from '@managed-sessions/crawlee';
import { type DemoSite, type DemoSiteCounters, startDemoSite } from '@managed-sessions/demo-site';

/** Sets the session's delivery postal code on the shop and checks every page shows it. */
export class ShopLocationSessions extends LocationSessionConfig {
    /** The shop sets a location only for a session it knows: start one on the home page first. */
    override async initSession(session: Session, request: Request, download: Download): Promise<boolean> {
        const home = await download({ url: new URL('/', request.url).href });
        if (home.statusCode !== 200) return false;
        // Then the default init: download `locationParams()`, return `locationCheck()` of the answer.
        return super.initSession(session, request, download);
    }

    override locationParams(request: Request, location: Location): InitRequest {
        return {
            url: new URL('/location', request.url).href,
            method: 'POST',
            form: { postalCode: location.postalCode ?? '' },
        };
    }

    /** Runs on the init answer and on every page: both show the session's postal code. */
    override locationCheck(
        response: SessionResponse,
        _request: Request,
        _session: Session,
        location: Location,
    ): boolean {
        const shown = /<span id="postal-code">([^<]*)<\/span>/.exec(response.body)?.[1];
        return response.statusCode === 200 && shown === location.postalCode;
    }
}

export interface LocationPricesOptions {
    /** Base URL of a running demo shop; default: start one. */
    siteUrl?: string | undefined;
    /** @default ['10001', '94103', '60601'] */
    postalCodes?: readonly string[] | undefined;
    /** Product pages per postal code. @default 10 */
    products?: number | undefined;
    print?: ((line: string) => void) | undefined;
    /** Crawlee's log level (it logs each session rotation as a warning). @default LogLevel.ERROR */
    logLevel?: LogLevel | undefined;
}

export interface LocationPricesResult {
    /** Price as shown, by postal code, then by product id. */
    prices: Record<string, Record<number, string>>;
    /** The postal code each page showed, by postal code asked for, then product id. */
    shown: Record<string, Record<number, string>>;
    stats: Record<string, number>;
    pools: PoolSnapshot[];
    failed: number;
    site: DemoSiteCounters | undefined;
}

export async function run(options: LocationPricesOptions = {}): Promise<LocationPricesResult> {
    const print = options.print ?? console.log;
    const site: DemoSite | undefined = options.siteUrl === undefined ? await startDemoSite() : undefined;
    const baseUrl = options.siteUrl ?? site!.url;
    const postalCodes = options.postalCodes ?? ['10001', '94103', '60601'];
    try {
        const registry = new SessionConfigRegistry();
        registry.register(ShopLocationSessions, { include: new URL(baseUrl).host });

        const prices: Record<string, Record<number, string>> = {};
        const shown: Record<string, Record<number, string>> = {};
        const crawler = new CheerioCrawler(
            {
                log: new Log({ level: options.logLevel ?? LogLevel.ERROR, prefix: 'LocationPrices' }),
                requestHandler({ request, $ }) {
                    const { postalCode = '' } = request.userData.sessionLocation as Location;
                    const id = Number($('#product').attr('data-id'));
                    prices[postalCode] = { ...prices[postalCode], [id]: $('#price').text() };
                    shown[postalCode] = { ...shown[postalCode], [id]: $('#postal-code').text() };
                },
            },
            // In-memory storage: the example writes nothing to ./storage, and every run starts empty.
            new Configuration({ storageClient: new MemoryStorage({ persistStorage: false }), persistStorage: false }),
        );
        const sessions = attachManagedSessions(crawler, { registry, poolSize: 2 });

        const count = options.products ?? 10;
        const requests = postalCodes.flatMap((postalCode) =>
            Array.from({ length: count }, (_, i) => ({
                url: `${baseUrl}/product/${i + 1}`,
                // One URL, three pages: without its own key, Crawlee would crawl each URL once.
                uniqueKey: `${postalCode} ${baseUrl}/product/${i + 1}`,
                userData: { sessionLocation: { postalCode } },
            })),
        );
        const { requestsFailed } = await crawler.run(requests);

        for (const postalCode of postalCodes) {
            const first = prices[postalCode] ?? {};
            const sample = [1, 2, 3].map((id) => first[id] ?? '-').join(', ');
            print(`${postalCode}: ${Object.keys(first).length} prices (products 1-3: ${sample})`);
        }
        for (const pool of sessions.pools()) print(`  pool ${pool.id}: ${pool.ready}/${pool.size} sessions ready`);
        return {
            prices,
            shown,
            stats: sessions.stats,
            pools: sessions.pools(),
            failed: requestsFailed,
            site: site?.counters,
        };
    } finally {
        await site?.close();
    }
}

// `node … examples/location-prices/main.ts` runs it; importing the module (as the tests do) does not.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
    run().catch((error: unknown) => {
        console.error(error);
        process.exitCode = 1;
    });
}
