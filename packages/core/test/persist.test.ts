import { LogLevel } from '@crawlee/core';
import { STATE_FORMAT, STATE_VERSION } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { captureLog, req, response, setup } from './helpers.js';

const URL = 'https://shop.example/p/1';

/** A manager whose pool `shop.example` has `size` initialised sessions with a cookie each. */
async function savedState(size: number, cookies = true) {
    const h = setup({ poolSize: size });
    h.site.respond = (call) => ({ ...response(call.url), headers: { 'set-cookie': `sid=${call.sessionId}` } });
    const leases = await Promise.all(Array.from({ length: size }, () => h.manager.acquire(req(URL))));
    for (const lease of leases) {
        lease!.session.setCookie(`sid=${lease!.session.id}; Path=/`, URL);
        lease!.session.userData.token = `t-${lease!.session.id}`;
        await h.manager.check(lease!, response(URL));
        h.manager.release(lease!);
    }
    // Through JSON, as the key-value store keeps it.
    const state = JSON.parse(JSON.stringify(h.manager.snapshot(cookies)));
    return { state, ids: leases.map((lease) => lease!.session.id), clock: h.clock };
}

describe('persisting and restoring sessions', () => {
    it('restores sessions with cookies, userData and counters, without new inits; stats continue', async () => {
        const { state, ids } = await savedState(2);
        expect(state).toMatchObject({ format: STATE_FORMAT, version: STATE_VERSION });
        expect(state.pools).toHaveLength(1);
        expect(state.pools[0].sessions.map((s: { uses: number }) => s.uses)).toEqual([1, 1]);

        const h = setup({ poolSize: 2 });
        expect(h.manager.restore(state)).toBe(2);
        const first = await h.manager.acquire(req(URL));
        const second = await h.manager.acquire(req(URL));
        expect(h.site.calls).toHaveLength(0);
        expect([first!.session.id, second!.session.id].sort()).toEqual([...ids].sort());
        expect(first!.session.getCookieString(URL)).toBe(`sid=${first!.session.id}`);
        expect(first!.session.userData.token).toBe(`t-${first!.session.id}`);
        await h.manager.check(first!, response(URL));
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 2, 'sessions/use/check-passed': 3 });
    });

    it('obeys the current options: a smaller poolSize uses fewer, maxAgeSecs drops old ones', async () => {
        const { state } = await savedState(3);
        const smaller = setup({ poolSize: 1 });
        smaller.manager.restore(state);
        await smaller.manager.acquire(req(URL));
        expect(smaller.manager.pools()).toEqual([
            { id: 'shop.example', size: 1, ready: 1, initializing: 0, waiting: 0, discarded: 0 },
        ]);

        const aged = setup({ poolSize: 3, maxAgeSecs: 60 });
        aged.manager.restore(state);
        await aged.clock.advance(61_000);
        const lease = aged.manager.acquire(req(URL));
        await aged.clock.advance(0);
        expect((await lease)!.session.id).toBe(aged.site.calls[0]!.sessionId);
        // Dropped on restore, not retired in this run.
        expect(aged.manager.stats['sessions/use/expired']).toBeUndefined();
    });

    it('leaves cookie values out with cookies: false', async () => {
        const { state } = await savedState(1, false);
        expect(JSON.stringify(state)).not.toContain('sid=');
        expect(state.pools[0].sessions[0].cookieJar).toBeUndefined();
    });

    it('keeps sessions of pools this run never used for the next run', async () => {
        const { state, ids } = await savedState(2);
        const h = setup({ poolSize: 2 });
        h.manager.restore(state);
        const again = h.manager.snapshot(true);
        expect(again.pools[0]!.sessions.map((s) => s.id)).toEqual(ids);
    });

    it.each([
        ['a foreign record', { hello: 'world' }, 'a record this package did not write'],
        ['an older format', { format: STATE_FORMAT, version: 0 }, 'format version 0'],
        ['a corrupted record', { format: STATE_FORMAT, version: STATE_VERSION, pools: 'x' }, 'format version 1'],
        ['a string', 'garbage', 'a record this package did not write'],
    ])('gives one warning and a fresh start for %s', async (_name, value, detail) => {
        const { log, lines } = captureLog();
        const h = setup({ poolSize: 1 }, { log });
        expect(h.manager.restore(value, 'MANAGED_SESSIONS_STATE')).toBe(0);
        const warnings = lines.filter((line) => line.level === LogLevel.WARNING);
        expect(warnings).toHaveLength(1);
        expect(warnings[0]!.message).toContain(`under key MANAGED_SESSIONS_STATE (${detail}`);
        await h.manager.acquire(req(URL));
        expect(h.site.calls).toHaveLength(1);
    });
});
