/**
 * Issue #6, stopping cleanly: `crawler.stop()` with session inits in flight, and the inits a crawl's end
 * cancels. (A stop by `bad_session_inits` with an init pending is process-exit.test.ts.)
 */
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { attachManagedSessions, type PoolSnapshot } from '@managed-sessions/crawlee';
import { describe, expect, it } from 'vitest';
import { captureLog } from './support/crawlee.js';
import { runScript } from './support/reliability-child.js';
import { ledger, recordingCrawler, until, useCleanup } from './support/reliability-harness.js';
import { cookieValue, html, startServer } from './support/server.js';

const cleanup = useCleanup();
const stopCrawl = fileURLToPath(new URL('./support/reliability-stop-crawl.ts', import.meta.url));

describe('crawler.stop() with inits in flight', () => {
    // Crawlee's stop() only lets running tasks finish, and two of them wait for inits that never
    // answer: the adapter closes the engine on stop(), which cancels the inits and puts the waiting
    // requests back in the queue instead of waiting for navigationTimeoutSecs/waitTimeoutSecs.
    it('run() resolves within 2 s, the waiting requests go back to the queue, and the process exits by itself', async () => {
        let inits = 0;
        const held: ServerResponse[] = [];
        const server = cleanup(
            await startServer(async (request, response) => {
                const sid = cookieValue(request.cookie, 'sid');
                if (sid) return html(response, `<p id="sid">${sid}</p>`);
                if (++inits === 1) return html(response, 'welcome', 200, { 'set-cookie': 'sid=s1; Path=/' });
                held.push(response);
            }),
        );
        const run = await runScript(stopCrawl, [server.url], {
            deadline: (lines) => {
                if (lines.length === 0) return 20_000; // start-up and the first page
                if (lines.length === 1) return 3_000; // stop() until run() resolves
                return 2_000; // run() resolved until the process exits
            },
        });

        expect(run.lines[0]?.text.startsWith('stopped ')).toBe(true);
        const atStop = JSON.parse(run.lines[0]!.text.slice('stopped '.length)) as PoolSnapshot[];
        // Inits really were in flight: two slots initialising, two requests waiting for them.
        expect(atStop).toEqual([{ id: server.host, size: 3, ready: 1, initializing: 2, waiting: 2, discarded: 0 }]);
        expect(held).toHaveLength(2);
        expect(run.killed, 'run() did not resolve within 3 s of stop(), or the process did not exit').toBe(false);

        const result = JSON.parse(run.lines[1]!.text);
        expect(result.stopToResolvedMs).toBeLessThan(2_000);
        expect(run.exitedAt - run.lines[1]!.at).toBeLessThan(2_000);
        expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({
            code: 0,
            signal: null,
            stderr: '',
        });
        expect(result).toMatchObject({
            // A stop by the user is not a close by the sessions.
            closeReason: null,
            // The cancelled inits count nothing.
            stats: { 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 1 },
            pools: [{ id: server.host, size: 3, ready: 1, initializing: 0, waiting: 0 }],
            // The two requests that waited for the cancelled inits are queued again, not failed.
            ledger: { added: 6, handled: 1, failed: 0, pending: 5 },
        });
    }, 30_000);
});

describe('the end of a crawl cancels the inits still under way', () => {
    /**
     * One request, answered 520 with no rotation left: it fails, and the replacement init its discard
     * started is held by the server, so it is in flight when the crawl ends.
     */
    async function crawlWithHeldReplacement() {
        let inits = 0;
        let heldClosed = false;
        const server = cleanup(
            await startServer((request, response) => {
                const sid = cookieValue(request.cookie, 'sid');
                if (sid) return html(response, 'origin error', 520);
                if (++inits === 1) return html(response, 'welcome', 200, { 'set-cookie': 'sid=s1; Path=/' });
                response.on('close', () => {
                    heldClosed = true;
                });
            }),
        );
        const { log } = captureLog();
        const { crawler, record } = recordingCrawler({ log, maxSessionRotations: 0 });
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([`${server.url}/a`]);
        const atResolve = sessions.pools();
        return { server, crawler, record, sessions, atResolve, heldClosed: () => heldClosed, inits: () => inits };
    }

    it('the cancelled init counts nothing and its connection is closed; the request failed once', async () => {
        const { crawler, record, sessions, heldClosed, inits } = await crawlWithHeldReplacement();
        await until(() => sessions.pools()[0]!.initializing === 0 && heldClosed(), 2_000);

        expect(inits()).toBe(2);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/failed': 1 });
        expect(sessions.pools()[0]).toMatchObject({ ready: 0, initializing: 0, waiting: 0, discarded: 1 });
        expect(await ledger(crawler, record)).toEqual({ added: 1, handled: 0, failed: 1, pending: 0 });
    });

    // Teardown aborts pending inits and waits for them to settle (manager.dispose()), so when run()
    // resolves no init is in flight: no socket open, `pools()` reports `initializing: 0`.
    it('run() resolves only after the cancelled inits settled: pools() shows none in flight', async () => {
        const { atResolve } = await crawlWithHeldReplacement();
        expect(atResolve).toMatchObject([{ initializing: 0 }]);
    });
});
