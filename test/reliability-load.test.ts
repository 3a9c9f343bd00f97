/**
 * Issue #6, load: 20,000 requests at a concurrency of 100 through one pool of 2 sessions (`delay` 0)
 * against a local server of tiny pages. The crawl runs in its own process (`--expose-gc`, the server
 * stays here: one core each on a 2-core machine) and must handle every request, none waiting past
 * `waitTimeoutSecs`, with the heap after the run within a small margin of the heap after warm-up.
 *
 * A second crawl spreads 4,000 requests over 2,000 pools (`userData.sessionPool`, one session each, host
 * after host): idle pools are evicted, so the heap after the run stays within a margin of the heap once
 * a quarter of the hosts were crawled.
 *
 * Off in `pnpm test` (it takes over a minute on 2 cores): run by `pnpm test:load`, which CI runs too. `MS_LOAD_REQUESTS` changes the number of requests.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScript } from './support/reliability-child.js';
import { useCleanup } from './support/reliability-harness.js';
import { cookieValue, html, startServer } from './support/server.js';

const cleanup = useCleanup();
const loadCrawl = fileURLToPath(new URL('./support/reliability-load-crawl.ts', import.meta.url));
const REQUESTS = Number(process.env.MS_LOAD_REQUESTS ?? 20_000);
const CONCURRENCY = 100;
const WARM_UP = Math.min(2_000, Math.floor(REQUESTS / 10));
/** Pools of the many-hosts crawl, and its concurrency. */
const HOSTS = 2_000;
const HOST_CONCURRENCY = 20;
/** Hosts crawled before the first heap figure: past the 1,000 live pools at which eviction starts. */
const WARM_HOSTS = 1_200;
/** Heap growth from warm-up to the end that counts as no leak. */
const HEAP_MARGIN_MB = 8;

describe.skipIf(!process.env.MS_LOAD_TEST)('load', () => {
    it(`${REQUESTS} requests, concurrency ${CONCURRENCY}, poolSize 2, delay 0: all handled, no wait past waitTimeoutSecs, no heap growth`, async () => {
        let inits = 0;
        const server = cleanup(
            await startServer((request, response) => {
                const sid = cookieValue(request.cookie, 'sid');
                if (sid) return html(response, `<p id="sid">${sid}</p>`);
                inits++;
                html(response, 'welcome', 200, { 'set-cookie': `sid=s${inits}; Path=/` });
            }),
        );
        const started = Date.now();
        const run = await runScript(loadCrawl, [server.url, String(REQUESTS), String(CONCURRENCY), String(WARM_UP)], {
            nodeArgs: ['--expose-gc'],
            deadline: () => 280_000,
        });
        const wallMs = Date.now() - started;

        expect({ killed: run.killed, code: run.code, stderr: run.stderr }).toEqual({
            killed: false,
            code: 0,
            stderr: '',
        });
        const figures = JSON.parse(run.lines.at(-1)!.text);
        console.info(`load figures: ${JSON.stringify({ wallMs, ...figures, stats: undefined, pools: undefined })}`);

        expect(figures.failures).toEqual([]);
        expect(figures.ledger).toEqual({ added: REQUESTS, handled: REQUESTS, failed: 0, pending: 0 });
        expect(figures.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-passed': REQUESTS });
        expect(figures.pools).toEqual([
            { id: server.host, size: 2, ready: 2, initializing: 0, waiting: 0, discarded: 0 },
        ]);
        expect(inits).toBe(2);
        // delay 0: both sessions serve many requests at once, so no request queues for one past the fill.
        expect(figures.maxWaiting).toBeLessThanOrEqual(CONCURRENCY);
        expect(figures.heapEndMb - figures.heapWarmMb).toBeLessThan(HEAP_MARGIN_MB);
    }, 300_000);

    it(`${HOSTS} hosts (pools), ${HOSTS * 2} requests: all handled, idle pools evicted, no heap growth`, async () => {
        let inits = 0;
        const server = cleanup(
            await startServer((request, response) => {
                const sid = cookieValue(request.cookie, 'sid');
                if (sid) return html(response, `<p id="sid">${sid}</p>`);
                inits++;
                html(response, 'welcome', 200, { 'set-cookie': `sid=s${inits}; Path=/` });
            }),
        );
        const started = Date.now();
        const requests = HOSTS * 2;
        const run = await runScript(
            loadCrawl,
            [server.url, String(requests), String(HOST_CONCURRENCY), String(WARM_HOSTS * 2), String(HOSTS)],
            { nodeArgs: ['--expose-gc'], deadline: () => 120_000 },
        );
        const wallMs = Date.now() - started;
        expect({ killed: run.killed, code: run.code, stderr: run.stderr }).toEqual({
            killed: false,
            code: 0,
            stderr: '',
        });
        const figures = JSON.parse(run.lines.at(-1)!.text);
        console.info(`load figures (hosts): ${JSON.stringify({ wallMs, ...figures, stats: undefined })}`);
        expect(figures.failures).toEqual([]);
        expect(figures.ledger).toEqual({ added: requests, handled: requests, failed: 0, pending: 0 });
        expect(figures.stats).toEqual({
            'sessions/init/check-passed': HOSTS,
            'sessions/use/check-passed': requests,
        });
        expect(inits).toBe(HOSTS);
        // Every pool is listed, live or evicted.
        expect(figures.pools).toBe(HOSTS);
        expect(figures.heapEndMb - figures.heapWarmMb).toBeLessThan(HEAP_MARGIN_MB);
    }, 150_000);
});
