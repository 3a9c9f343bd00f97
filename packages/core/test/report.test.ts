import {
    END_STYLES,
    escapeHtml,
    renderSessionReport,
    type SessionLease,
    type SessionReportData,
    SessionTimeline,
} from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { req, response, settle, setup } from './helpers.js';

const URL = 'https://shop.example/p';

function count(html: string, pattern: RegExp): number {
    return html.match(pattern)?.length ?? 0;
}

describe('session timeline (engine)', () => {
    it('records init, end reason, uses and waiting time per pool', async () => {
        const h = setup({ poolSize: 1, maxUsageCount: 2 });
        h.site.respond = async (call) => {
            await h.clock.advance(250);
            return response(call.url);
        };
        const use = async (ok = true) => {
            const lease = (await h.manager.acquire(req(URL))) as SessionLease;
            try {
                await h.manager.check(lease, ok ? response(URL) : response(URL, 403));
            } catch {
                // a failed check: the session is discarded
            } finally {
                h.manager.release(lease);
            }
        };
        await use(); // session 1, use 1 (waited for its init: 250 ms)
        await use(); // session 1, use 2: planned expiry
        await use(false); // session 2 fails its check
        await settle(); // session 3 initialises in the background
        const report = h.manager.sessionReport();
        expect(report.pools).toHaveLength(1);
        const [pool] = report.pools;
        expect(pool!.id).toBe('shop.example');
        expect(pool!.sessions.map((s) => [s.endReason, s.uses])).toEqual([
            ['expired', 2],
            ['check-failed', 1],
            ['alive', 0],
        ]);
        expect(pool!.sessions[0]!.readyAt - pool!.sessions[0]!.initStartAt).toBe(250);
        expect(pool!.totals).toMatchObject({
            sessions: 3,
            initsPassed: 3,
            initsFailed: 0,
            initMsMax: 250,
            acquires: 3,
            ended: { expired: 1, 'check-failed': 1 },
        });
        expect(pool!.totals.waitMsMax).toBeGreaterThanOrEqual(250);
        h.manager.close();
        await h.manager.dispose();
    });

    it('keeps the newest sessions only, and counts failed inits', () => {
        const timeline = new SessionTimeline(10);
        for (let i = 0; i < 30; i++) {
            const session = { id: `s${i}`, uses: 0, endReason: undefined } as never;
            timeline.initFinished('p', i, i + 1, session);
        }
        timeline.initFinished('p', 0, 40, undefined);
        const data = timeline.data(100, [{ id: 'p', size: 2 }], {});
        expect(data.pools[0]!.sessions.length).toBeLessThanOrEqual(11);
        expect(data.pools[0]!.sessions.at(-1)!.sessionId).toBe('s29');
        expect(data.droppedSessions).toBe(30 - data.pools[0]!.sessions.length);
        expect(data.pools[0]!.totals).toMatchObject({ sessions: 30, initsFailed: 1, failedInitMsTotal: 40 });
    });
});

describe('renderSessionReport', () => {
    const data: SessionReportData = {
        generatedAt: 10_000,
        closeReason: undefined,
        stats: { 'sessions/init/check-passed': 3, 'sessions/use/check-failed': 1 },
        droppedSessions: 0,
        pools: [
            {
                id: 'evil.example@<script>alert(1)</script>',
                size: 2,
                totals: {
                    poolId: 'x',
                    sessions: 3,
                    initsPassed: 3,
                    initsFailed: 1,
                    initMsTotal: 600,
                    initMsMax: 300,
                    failedInitMsTotal: 100,
                    acquires: 7,
                    waitMsTotal: 900,
                    waitMsMax: 400,
                    ended: { 'check-failed': 1, expired: 1 },
                },
                sessions: [
                    rec('a"<b>', 0, 100, 2_000, 'check-failed', 3),
                    rec('s2', 1_000, 1_300, 6_000, 'expired', 2),
                    rec('s3', 6_000, 6_200, undefined, 'alive', 2),
                ],
            },
        ],
    };

    it('draws one bar per session, coloured by its end, with a legend and the stats', () => {
        const html = renderSessionReport(data);
        expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
        expect(count(html, /<rect class="session /g)).toBe(3);
        expect(html).toContain(`class="session reason-check-failed" data-uses="3"`);
        expect(html).toMatch(new RegExp(`reason-check-failed"[^>]*fill="${END_STYLES['check-failed'].color}"`));
        expect(html).toMatch(new RegExp(`reason-expired"[^>]*fill="${END_STYLES.expired.color}"`));
        expect(html).toMatch(new RegExp(`reason-alive"[^>]*fill="${END_STYLES.alive.color}"`));
        for (const style of Object.values(END_STYLES)) expect(html).toContain(style.label);
        expect(html).toContain('<tr data-stat="inits-failed"><th>inits failed</th><td class="num">1</td></tr>');
        expect(html).toContain(
            '<tr data-stat="wait-max"><th>waiting for a session, longest</th><td class="num">400 ms</td></tr>',
        );
        expect(html).toContain('<tr data-stat="requests"><th>requests carried</th><td class="num">7</td></tr>');
        expect(html).toContain('sessions/init/check-passed');
        expect(html).toContain('<title>session s2: planned expiry, 2 requests');
        // Self-contained: no script, nothing fetched.
        expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    });

    it('escapes every string from outside and shows no credentials', () => {
        const html = renderSessionReport({
            ...data,
            closeReason: 'bad "reason" <b>',
            pools: [{ ...data.pools[0]!, id: 'http://user:hunter2@proxy.example:8000 <img src=x>' }],
        });
        expect(html).not.toContain('<script>alert');
        expect(html).not.toContain('<img');
        expect(html).not.toContain('hunter2');
        expect(html).toContain('bad &quot;reason&quot; &lt;b&gt;');
        expect(html).toContain('data-session="a&quot;&lt;b&gt;"');
        expect(escapeHtml(`<a href='x'>&</a>`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;');
    });

    it('never includes cookie values or proxy URLs of real sessions', async () => {
        const h = setup({ poolSize: 1 }, { prepareSession: () => 'http://user:s3cretPass@127.0.0.1:9/' });
        h.site.respond = (call) => ({
            url: call.url,
            statusCode: 200,
            headers: { 'set-cookie': 'sid=COOKIEVALUE123; Path=/' },
            body: 'ok',
        });
        const lease = (await h.manager.acquire(req(URL))) as SessionLease;
        lease.session.setCookie('sid=COOKIEVALUE123; Path=/', URL);
        await h.manager.check(lease, response(URL));
        h.manager.release(lease);
        const html = h.manager.renderReport();
        expect(count(html, /<rect class="session /g)).toBe(1);
        expect(html).not.toContain('COOKIEVALUE123');
        expect(html).not.toContain('s3cretPass');
        expect(html).not.toContain('127.0.0.1:9');
        h.manager.close();
        await h.manager.dispose();
    });
});

function rec(
    sessionId: string,
    initStartAt: number,
    readyAt: number,
    endAt: number | undefined,
    endReason: SessionReportData['pools'][number]['sessions'][number]['endReason'],
    uses: number,
) {
    return { poolId: 'p', sessionId, initStartAt, readyAt, endAt, endReason, uses, restored: false };
}
