import {
    CloseCrawlerError,
    SessionCheckFailedError,
    SessionConfig,
    SessionDownloadError,
    type SessionResponse,
} from '@managed-sessions/core';
import { describe, expect, it } from 'vitest';
import { type Harness, lease, req, response, settle, setup } from './helpers.js';

const URL_A = 'https://shop.example/a';

/** A config whose check fails on 403 and throws on the body `throw`, and counts its calls. */
function countingConfig(h: Harness): { calls: number } {
    const seen = { calls: 0 };
    class Counting extends SessionConfig {
        override check(res: SessionResponse): boolean {
            if (res.body === 'throw') throw new Error('cannot parse the page');
            if (res.body === 'close') throw new CloseCrawlerError('site_changed');
            // Init responses are checked too: count only the uses.
            if (res.url !== this.initUrl) seen.calls++;
            return res.statusCode !== 403;
        }
        readonly initUrl = URL_A;
    }
    h.registry.register(Counting, { include: 'shop.example' });
    return seen;
}

/** The session a fresh lease of the pool gets, once replacements (if any) are ready. */
async function nextSessionId(h: Harness): Promise<string> {
    await settle();
    const next = await lease(h, req('https://shop.example/next'));
    h.manager.release(next);
    return next.session.id;
}

describe('judge(): the one verdict on an attempt', () => {
    it('a transport failure is a download error: counted, and the session goes at maxErrors', async () => {
        const h = setup({ poolSize: 1, maxErrors: 1 });
        const l = await lease(h);
        const verdict = await h.manager.judge(l, { error: new Error('socket hang up'), reason: 'socket hang up' });
        h.manager.release(l);
        expect(verdict).toBeInstanceOf(SessionDownloadError);
        expect(verdict.message).toContain('socket hang up');
        expect(h.manager.stats['sessions/use/failed']).toBe(1);
        expect(await nextSessionId(h)).not.toBe(l.session.id);
    });

    it('a head with an errorStatusCodes status is a download error, and the check does not run', async () => {
        const h = setup({ poolSize: 1, maxErrors: 2 });
        const checks = countingConfig(h);
        const l = await lease(h);
        const { body: _body, ...head } = response(URL_A, 520);
        const verdict = await h.manager.judge(l, head);
        h.manager.release(l);
        expect(verdict).toBeInstanceOf(SessionDownloadError);
        expect(verdict?.message).toContain('status 520');
        expect(checks.calls).toBe(0);
        // Below maxErrors the session stays in rotation.
        expect(await nextSessionId(h)).toBe(l.session.id);
    });

    it('a head with any other status has no verdict yet: nothing counted, no check', async () => {
        const h = setup({ poolSize: 1 });
        const checks = countingConfig(h);
        const l = await lease(h);
        const { body: _body, ...head } = response(URL_A, 403);
        expect(await h.manager.judge(l, head)).toBeUndefined();
        h.manager.release(l);
        expect(checks.calls).toBe(0);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 1 });
    });

    it('a response with its body is checked: a pass is counted and has no verdict', async () => {
        const h = setup({ poolSize: 1 });
        const checks = countingConfig(h);
        const l = await lease(h);
        expect(await h.manager.judge(l, response('https://shop.example/page'))).toBeUndefined();
        h.manager.release(l);
        expect(checks.calls).toBe(1);
        expect(h.manager.stats['sessions/use/check-passed']).toBe(1);
    });

    it('a failed check is the verdict (resolved, not thrown); the session goes at maxCheckFailures', async () => {
        const h = setup({ poolSize: 1, maxCheckFailures: 2 });
        countingConfig(h);
        const first = await lease(h);
        const verdict = await h.manager.judge(first, response('https://shop.example/page', 403));
        h.manager.release(first);
        expect(verdict).toBeInstanceOf(SessionCheckFailedError);
        expect(h.manager.stats['sessions/use/check-failed']).toBe(1);
        const second = await lease(h, req('https://shop.example/other'));
        expect(second.session.id).toBe(first.session.id);
        expect(await h.manager.judge(second, response('https://shop.example/other', 403))).toBeInstanceOf(
            SessionCheckFailedError,
        );
        h.manager.release(second);
        expect(await nextSessionId(h)).not.toBe(first.session.id);
    });

    it('a check that throws discards the session at once, below maxCheckFailures', async () => {
        const h = setup({ poolSize: 1, maxCheckFailures: 5 });
        countingConfig(h);
        const l = await lease(h);
        const verdict = await h.manager.judge(l, response('https://shop.example/page', 200, 'throw'));
        h.manager.release(l);
        expect(verdict).toBeInstanceOf(SessionCheckFailedError);
        expect(verdict?.message).toContain('check() threw');
        expect(h.manager.stats['sessions/use/check-error']).toBe(1);
        expect(await nextSessionId(h)).not.toBe(l.session.id);
    });

    it('a check that stops the crawl rejects with its CloseCrawlerError, which is not a verdict', async () => {
        const h = setup({ poolSize: 1 });
        countingConfig(h);
        const l = await lease(h);
        await expect(h.manager.judge(l, response('https://shop.example/page', 200, 'close'))).rejects.toBeInstanceOf(
            CloseCrawlerError,
        );
        expect(h.manager.closeReason).toBe('site_changed');
        expect(h.closes.map((close) => close.reason)).toEqual(['site_changed']);
    });

    it('an asynchronous check is awaited: its failure is the verdict', async () => {
        class Slow extends SessionConfig {
            override async check(res: SessionResponse): Promise<boolean> {
                await new Promise((resolve) => setImmediate(resolve));
                return !res.body.includes('expired');
            }
        }
        const h = setup({ poolSize: 1 });
        h.registry.register(Slow, { include: 'shop.example' });
        const l = await lease(h);
        expect(await h.manager.judge(l, response('https://shop.example/1'))).toBeUndefined();
        const verdict = await h.manager.judge(l, response('https://shop.example/2', 200, 'expired'));
        h.manager.release(l);
        expect(verdict).toBeInstanceOf(SessionCheckFailedError);
        expect(h.manager.stats).toMatchObject({ 'sessions/use/check-passed': 1, 'sessions/use/check-failed': 1 });
    });

    it('a lease this manager did not issue is rejected, never thrown synchronously', async () => {
        const h = setup({ poolSize: 1 });
        const other = setup({ poolSize: 1 });
        const foreign = await lease(other);
        let verdict: Promise<unknown> | undefined;
        expect(() => {
            verdict = h.manager.judge(foreign, response(URL_A));
        }).not.toThrow();
        await expect(verdict).rejects.toThrow(/Unknown session lease/);
        await expect(h.manager.check(foreign, response(URL_A))).rejects.toThrow(/Unknown session lease/);
    });
});
