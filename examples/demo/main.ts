/**
 * The `pnpm demo` crawl: about 1,000 product pages of the demo shop, priced for three postal
 * codes, through three session pools, with live progress, a per-pool table at the end, and a
 * verification that every page was priced for its own postal code (exit code 1 if not).
 *
 * The shop behaves like a session-protected site: a product page without a session cookie is a
 * 403, a session ends after 20 uses with an "expired" page served with status 200, 2% of all
 * responses are 520/521, and the price of a product depends on the delivery postal code that a
 * session set through `POST /location`.
 *
 * Run it: `pnpm demo`, or `node --conditions=@managed-sessions/source --import tsx examples/demo/main.ts`.
 * It writes the session report (per-pool timeline of sessions) to `./SESSIONS_REPORT.html`, or to
 * the file named by `--report <path>`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, Log, LogLevel, type Request } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';
import { attachManagedSessions, type ManagedSessions, SessionConfigRegistry } from '@managed-sessions/crawlee';
import { type DemoSiteCounters, PAGE_SIZE, productPrice, startDemoSite } from '@managed-sessions/demo-site';
import { ShopLocationSessions } from './shop-sessions.js';

export interface DemoOptions {
    /** Delivery postal codes; each gets a session pool and a crawl of the whole catalogue. @default ['10001', '94103', '60601'] */
    postalCodes?: readonly string[] | undefined;
    /** Products in the shop, all crawled for every postal code. @default 334 (1,002 product pages) */
    products?: number | undefined;
    /** Sessions per pool. @default 8 */
    poolSize?: number | undefined;
    /** Requests in flight at once. @default 24 */
    concurrency?: number | undefined;
    /** Uses after which the shop expires a session. @default 20 */
    sessionMaxUses?: number | undefined;
    /** Share of responses that are 520/521. @default 0.02 */
    errorRate?: number | undefined;
    /** Seconds between two progress lines; 0 turns them off. @default 2 */
    progressIntervalSecs?: number | undefined;
    /** Where progress and results go. @default console.log */
    print?: ((line: string) => void) | undefined;
    /** Crawlee's log level (it logs each session rotation as a warning; here they are routine). @default LogLevel.ERROR */
    logLevel?: LogLevel | undefined;
    /** Also write the session report (HTML) to this file. @default none (the CLI: `./SESSIONS_REPORT.html`) */
    reportPath?: string | undefined;
}

/** One row of the final table. */
export interface PoolReport {
    id: string;
    postalCode: string;
    /** Pages scraped through the pool (catalogue and product pages). */
    pages: number;
    size: number;
    ready: number;
    /** Sessions initialised (`sessions/pools/{id}/init/check-passed`). */
    inits: number;
    discarded: number;
}

export interface DemoResult {
    /** Verification passed: every page scraped once, each priced for its own postal code. */
    ok: boolean;
    /** What failed verification, one line each. */
    problems: string[];
    pages: number;
    expectedPages: number;
    /** Requests the shop received (inits, retries and pages). */
    requests: number;
    seconds: number;
    stats: Record<string, number>;
    pools: PoolReport[];
    closeReason: string | undefined;
    failed: number;
    site: DemoSiteCounters;
}

interface ScrapedProduct {
    postalCode: string;
    id: number;
    shown: string;
    price: string;
}

const DEFAULT_POSTAL_CODES = ['10001', '94103', '60601'] as const;

export async function run(options: DemoOptions = {}): Promise<DemoResult> {
    const print = options.print ?? console.log;
    const postalCodes = options.postalCodes ?? DEFAULT_POSTAL_CODES;
    const poolSize = options.poolSize ?? 8;
    const concurrency = options.concurrency ?? 24;
    const site = await startDemoSite({
        products: options.products ?? 334,
        sessionMaxUses: options.sessionMaxUses ?? 20,
        errorRate: options.errorRate ?? 0.02,
        protection: 'forbidden',
    });
    const { products, seed, sessionMaxUses, errorRate } = site.options;
    const cataloguePages = Math.ceil(products / PAGE_SIZE);
    const expectedPages = postalCodes.length * (products + cataloguePages);
    let progress: NodeJS.Timeout | undefined;
    try {
        print(
            `Demo shop on ${site.url}: ${products} products, sessions expire after ${sessionMaxUses} uses ` +
                `(the expired page has status 200), ${errorRate * 100}% of responses are 520/521, ` +
                '403 without a session.',
        );
        print(
            `Crawling ${expectedPages} pages for postal codes ${postalCodes.join(', ')}: ` +
                `${postalCodes.length} pools of ${poolSize} sessions, ${concurrency} requests at once.\n`,
        );

        // A registry of its own: the shop's port is only known now, and patterns must name it.
        const registry = new SessionConfigRegistry();
        registry.register(ShopLocationSessions, { include: new URL(site.url).host });

        const scraped: ScrapedProduct[] = [];
        const pagesByPostalCode = new Map<string, number>();
        const crawler = new CheerioCrawler(
            {
                log: new Log({ level: options.logLevel ?? LogLevel.ERROR, prefix: 'Demo' }),
                minConcurrency: concurrency,
                maxConcurrency: concurrency,
                // Crawlee 3 counts session rotations as retries too, and here they are routine
                // (every session ends on an expired page): leave room for them.
                maxRequestRetries: 8,
                async requestHandler({ request, $, enqueueLinks }) {
                    const postalCode = postalCodeOf(request);
                    pagesByPostalCode.set(postalCode, (pagesByPostalCode.get(postalCode) ?? 0) + 1);
                    if (request.label === 'product') {
                        scraped.push({
                            postalCode,
                            id: Number($('#product').attr('data-id')),
                            shown: $('#postal-code').text(),
                            price: $('#price').text(),
                        });
                        return;
                    }
                    // The same product URL is a different page for each postal code: key it by both.
                    const follow = {
                        userData: { sessionLocation: request.userData.sessionLocation },
                        transformRequestFunction: keyedBy(postalCode),
                    };
                    await enqueueLinks({ ...follow, selector: 'a.product', label: 'product' });
                    await enqueueLinks({ ...follow, selector: 'a#next', label: 'catalogue' });
                },
            },
            // In-memory storage: the demo writes nothing to ./storage, and every run starts empty.
            new Configuration({ storageClient: new MemoryStorage({ persistStorage: false }), persistStorage: false }),
        );
        const sessions = attachManagedSessions(crawler, {
            registry,
            poolSize,
            statsPerPool: true,
            // The demo prints its own progress line.
            statusIntervalSecs: 0,
        });

        const started = performance.now();
        const elapsed = () => (performance.now() - started) / 1000;
        const progressSecs = options.progressIntervalSecs ?? 2;
        if (progressSecs > 0) {
            progress = setInterval(
                () => print(progressLine(elapsed(), pagesByPostalCode, expectedPages, sessions)),
                progressSecs * 1000,
            );
        }

        const { requestsFailed } = await crawler.run(
            postalCodes.map((postalCode) => ({
                url: `${site.url}/catalogue`,
                uniqueKey: `${postalCode} ${site.url}/catalogue`,
                label: 'catalogue',
                // One pool per location: `127.0.0.1:PORT@10001`, …
                userData: { sessionLocation: { postalCode } },
            })),
        );
        clearInterval(progress);
        const seconds = elapsed();

        const counters = site.counters;
        const stats = sessions.stats;
        const pools: PoolReport[] = sessions.pools().map((pool) => ({
            id: pool.id,
            postalCode: pool.id.slice(pool.id.indexOf('@') + 1),
            pages: pagesByPostalCode.get(pool.id.slice(pool.id.indexOf('@') + 1)) ?? 0,
            size: pool.size,
            ready: pool.ready,
            inits: stats[`sessions/pools/${pool.id}/init/check-passed`] ?? 0,
            discarded: pool.discarded,
        }));
        const pages = [...pagesByPostalCode.values()].reduce((sum, n) => sum + n, 0);
        const problems = verify({ scraped, postalCodes, products, seed, pages, expectedPages, requestsFailed });
        if (sessions.closeReason !== undefined)
            problems.push(`The sessions stopped the crawl: ${sessions.closeReason}.`);

        print('');
        for (const line of poolTable(pools)) print(line);
        print('');
        print(statsLine(stats));
        print(
            `${pages} pages in ${seconds.toFixed(1)} s: ${counters.requests} requests to the shop ` +
                `(${(counters.requests / Math.max(1, pages)).toFixed(2)} per page), ${counters.inits} sessions started, ` +
                `${counters.expired} expired pages and ${counters.errors520 + counters.errors521} 520/521 answers caught.`,
        );
        if (options.reportPath !== undefined) {
            const reportPath = resolve(options.reportPath);
            await sessions.report({ path: reportPath });
            print(`Session report: ${reportPath}`);
        }
        if (problems.length === 0) {
            print(`Verified: all ${expectedPages} pages scraped once, every product priced for its own postal code.`);
        } else {
            print(`Verification FAILED (${problems.length} problems):`);
            for (const problem of problems.slice(0, 20)) print(`  - ${problem}`);
        }
        return {
            ok: problems.length === 0,
            problems,
            pages,
            expectedPages,
            requests: counters.requests,
            seconds,
            stats,
            pools,
            closeReason: sessions.closeReason,
            failed: requestsFailed,
            site: counters,
        };
    } finally {
        clearInterval(progress);
        await site.close();
    }
}

function postalCodeOf(request: Request): string {
    const location = request.userData.sessionLocation as { postalCode?: string } | undefined;
    return location?.postalCode ?? 'none';
}

function keyedBy(postalCode: string) {
    return (request: { url: string; uniqueKey?: string }) => {
        request.uniqueKey = `${postalCode} ${request.url}`;
        return request;
    };
}

/** Everything that must hold after the crawl; each problem is one line. */
function verify(input: {
    scraped: readonly ScrapedProduct[];
    postalCodes: readonly string[];
    products: number;
    seed: number;
    pages: number;
    expectedPages: number;
    requestsFailed: number;
}): string[] {
    const problems: string[] = [];
    const { scraped, postalCodes, products, seed } = input;
    if (input.requestsFailed > 0) problems.push(`${input.requestsFailed} requests failed after all retries.`);
    if (input.pages !== input.expectedPages)
        problems.push(`Scraped ${input.pages} pages, expected ${input.expectedPages}.`);
    const seen = new Set<string>();
    for (const { postalCode, id, shown, price } of scraped) {
        const key = `${postalCode}/${id}`;
        if (seen.has(key)) problems.push(`Product ${id} was scraped twice for ${postalCode}.`);
        seen.add(key);
        if (shown !== postalCode) problems.push(`Product ${id} of pool ${postalCode} shows postal code ${shown}.`);
        const expected = productPrice(seed, id, postalCode).toFixed(2);
        if (price !== expected) problems.push(`Product ${id} costs ${price} for ${postalCode}, expected ${expected}.`);
    }
    for (const postalCode of postalCodes) {
        for (let id = 1; id <= products; id++) {
            if (!seen.has(`${postalCode}/${id}`)) problems.push(`Product ${id} was not scraped for ${postalCode}.`);
        }
    }
    return problems;
}

/** One line of live progress: pages, sessions per pool, and why sessions were discarded so far. */
function progressLine(
    seconds: number,
    pagesByPostalCode: ReadonlyMap<string, number>,
    expectedPages: number,
    sessions: ManagedSessions,
): string {
    const pages = [...pagesByPostalCode.values()].reduce((sum, n) => sum + n, 0);
    const pools = sessions
        .pools()
        .map((p) => {
            const starting = p.initializing > 0 ? ` (+${p.initializing} starting)` : '';
            return `${p.id.slice(p.id.indexOf('@'))} ${p.ready}/${p.size}${starting}`;
        })
        .join(', ');
    const n = (name: string) => sessions.stats[`sessions/${name}`] ?? 0;
    return (
        `[${seconds.toFixed(1).padStart(5)}s] pages ${String(pages).padStart(4)}/${expectedPages} ` +
        `| sessions ready ${pools || '-'} | ${n('init/check-passed')} started ` +
        `| discarded: ${n('use/check-failed')} failed check, ${n('use/failed')} on 520/521, ` +
        `${n('init/failed') + n('init/check-failed')} failed inits`
    );
}

function poolTable(pools: readonly PoolReport[]): string[] {
    const rows = [['pool', 'postal code', 'pages', 'ready/size', 'inits', 'discarded']].concat(
        pools.map((p) => [
            p.id,
            p.postalCode,
            String(p.pages),
            `${p.ready}/${p.size}`,
            String(p.inits),
            String(p.discarded),
        ]),
    );
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    return rows.map((row) =>
        row
            .map((cell, column) => cell.padEnd(widths[column]!))
            .join('  ')
            .trimEnd(),
    );
}

function statsLine(stats: Record<string, number>): string {
    const global = Object.entries(stats)
        .filter(([key]) => !key.startsWith('sessions/pools/'))
        .sort(([a], [b]) => a.localeCompare(b));
    return `Stats: ${global.map(([key, value]) => `${key.slice('sessions/'.length)} ${value}`).join(', ')}`;
}

// `pnpm demo` runs it; importing the module (as the tests do) does not.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
    const flag = process.argv.indexOf('--report');
    const reportPath = flag >= 0 ? process.argv[flag + 1] : undefined;
    run({ reportPath: reportPath ?? 'SESSIONS_REPORT.html' }).then(
        (result) => {
            process.exitCode = result.ok ? 0 : 1;
        },
        (error: unknown) => {
            console.error(error);
            process.exitCode = 1;
        },
    );
}
