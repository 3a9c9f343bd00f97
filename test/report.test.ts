/**
 * The session report (`SESSIONS_REPORT.html`) of a real crawl, rendered in a real headless
 * Chromium: one bar per session in each pool, the legend, the stats, and a screenshot saved under
 * `test-artifacts/` for a human to look at.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CheerioCrawler } from '@crawlee/cheerio';
import { KeyValueStore } from '@crawlee/core';
import { attachManagedSessions } from '@managed-sessions/crawlee';
import { chromium } from 'playwright-core';
import { afterEach, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH, describeWithChromium } from './support/browser.js';
import { captureLog, testConfig } from './support/crawlee.js';
import { cookieValue, html, startServer, type TestServer } from './support/server.js';

const ARTIFACTS = resolve(import.meta.dirname, '..', 'test-artifacts');

let server: TestServer | undefined;
afterEach(async () => {
    await server?.close();
    server = undefined;
});

describeWithChromium('the session report in a browser', () => {
    it('shows one bar per session, the legend and the stats of a crawl', { timeout: 60_000 }, async () => {
        let next = 0;
        const served = new Map<string, number>();
        server = await startServer((request, response) => {
            const sid = cookieValue(request.cookie, 'sid');
            if (!sid) {
                next++;
                return html(response, 'welcome', 200, { 'set-cookie': `sid=s${next}; Path=/` });
            }
            const times = (served.get(request.path) ?? 0) + 1;
            served.set(request.path, times);
            // The first visit of /fail is a ban (a failed check), of /err a 520 (a download error).
            if (request.path.startsWith('/fail') && times === 1) return html(response, 'banned', 403);
            if (request.path.startsWith('/err') && times === 1) return html(response, 'oops', 520);
            return html(response, `<p id="sid">${sid}</p>`);
        });
        const { log } = captureLog();
        const config = testConfig();
        const crawler = new CheerioCrawler({ log, maxConcurrency: 1, requestHandler: () => undefined }, config);
        const sessions = attachManagedSessions(crawler, {
            poolSize: 2,
            maxUsageCount: 3,
            statsPerPool: true,
            statusIntervalSecs: 0,
        });
        const otherHost = new URL(server.otherHostUrl).host;
        await crawler.run([
            ...[1, 2, 3, 4, 5, 6].map((i) => `${server!.url}/p/${i}`),
            `${server.url}/fail/1`,
            `${server.url}/err/1`,
            ...[1, 2, 3].map((i) => `${server!.otherHostUrl}/p/${i}`),
        ]);
        const stats = sessions.stats;
        expect(stats['sessions/use/check-failed']).toBe(1);
        expect(stats['sessions/use/failed']).toBe(1);
        expect(stats['sessions/use/expired']).toBeGreaterThanOrEqual(1);
        expect(sessions.closeReason).toBeUndefined();

        // Written at the end of the crawl to the default key-value store.
        const store = await KeyValueStore.open(null, { config });
        const atTeardown = await store.getValue<string>('SESSIONS_REPORT.html');
        expect(atTeardown).toMatch(/^<!DOCTYPE html>/);

        // And on demand, to a file too.
        await mkdir(ARTIFACTS, { recursive: true });
        const file = join(ARTIFACTS, 'sessions-report.html');
        const returned = await sessions.report({ path: file });
        expect(await readFile(file, 'utf8')).toBe(returned);
        expect(await store.getValue<string>('SESSIONS_REPORT.html')).toBe(returned);
        // No cookie value and no session cookie name=value pair in the page.
        expect(returned).not.toMatch(/sid=s\d/);

        const browser = await chromium.launch({
            executablePath: CHROMIUM_PATH,
            args: [...CHROMIUM_ARGS],
            headless: true,
        });
        try {
            const page = await browser.newPage({ viewport: { width: 1024, height: 800 } });
            const external: string[] = [];
            page.on('request', (request) => {
                if (!request.url().startsWith('file:')) external.push(request.url());
            });
            await page.goto(pathToFileURL(file).href);

            const pools = await page.$$eval('section.pool', (sections) =>
                sections.map((section) => ({
                    id: section.getAttribute('data-pool'),
                    bars: section.querySelectorAll('rect.session').length,
                    reasons: [...section.querySelectorAll('rect.session')].map((rect) =>
                        rect.getAttribute('class')!.replace('session reason-', ''),
                    ),
                    stats: Object.fromEntries(
                        [...section.querySelectorAll('tr[data-stat]')].map((row) => [
                            row.getAttribute('data-stat'),
                            row.querySelector('td')!.textContent,
                        ]),
                    ),
                })),
            );
            expect(pools.map((pool) => pool.id).sort()).toEqual([server.host, otherHost].sort());
            for (const pool of pools) {
                const passed = stats[`sessions/pools/${pool.id}/init/check-passed`];
                expect(passed).toBeGreaterThan(0);
                expect(pool.bars).toBe(passed);
                expect(pool.stats.sessions).toBe(String(passed));
                expect(pool.stats['inits-passed']).toBe(String(passed));
                expect(pool.stats['inits-failed']).toBe('0');
                expect(pool.stats.size).toBe('2');
            }
            const main = pools.find((pool) => pool.id === server!.host)!;
            expect(main.reasons).toEqual(
                expect.arrayContaining(['check-failed', 'download-errors', 'expired', 'alive']),
            );
            expect(main.stats['ended-check-failed']).toBe('1');
            expect(main.stats['ended-download-errors']).toBe('1');
            // Requests carried: every page attempt of the pool (6 pages + 2 retried ones).
            expect(main.stats.requests).toBe('10');

            const legend = await page.locator('.legend-item').allTextContents();
            for (const label of ['check failed', 'download errors', 'planned expiry', 'still alive at the end']) {
                expect(legend.some((entry) => entry.startsWith(label))).toBe(true);
            }
            const globalStats = await page.locator('table.global-stats').textContent();
            expect(globalStats).toContain('sessions/use/check-failed');

            // The bars are drawn, not just present in the DOM.
            const box = await page.locator('rect.session').first().boundingBox();
            expect(box?.width).toBeGreaterThan(0);
            expect(box?.height).toBeGreaterThan(0);
            const tip = await page.locator('rect.session title').first().textContent();
            expect(tip).toMatch(/^session \S+: .+, \d+ requests?/);

            await page.screenshot({ path: join(ARTIFACTS, 'sessions-report.png'), fullPage: true });
            expect(external).toEqual([]);
        } finally {
            await browser.close();
        }
    });

    it('is not written at the end of a crawl with report: false', async () => {
        server = await startServer((_request, response) => html(response, 'ok'));
        const { log } = captureLog();
        const config = testConfig();
        const crawler = new CheerioCrawler({ log, requestHandler: () => undefined }, config);
        attachManagedSessions(crawler, { report: false, statusIntervalSecs: 0 });
        await crawler.run([`${server.url}/a`]);
        const store = await KeyValueStore.open(null, { config });
        expect(await store.getValue('SESSIONS_REPORT.html')).toBeNull();
    });
});
