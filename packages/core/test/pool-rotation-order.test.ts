/**
 * The exact order in which a pool hands out its sessions: earliest next-use time first, least
 * recently assigned on ties, whatever discards and replacements did to the pool's order.
 */

import type { SessionLease } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { type Harness, req, settle, setup } from './helpers.js';

const URL_A = 'https://shop.example/a';

/** Names sessions A, B, C… in the order their inits started. */
function namer(h: Harness): (l: SessionLease) => string {
    return (l) => String.fromCharCode(65 + h.site.sessionIds.indexOf(l.session.id));
}

/** `count` acquire + release in a row, by session name. */
async function sequence(h: Harness, count: number, url = URL_A): Promise<string[]> {
    const name = namer(h);
    const order: string[] = [];
    for (let i = 0; i < count; i++) {
        const l = (await h.manager.acquire(req(url)))!;
        order.push(name(l));
        h.manager.release(l);
    }
    return order;
}

describe('rotation order', () => {
    it('a replacement created after another session was last used waits for that one', async () => {
        const h = setup({ poolSize: 3 });
        expect(await sequence(h, 3)).toEqual(['A', 'B', 'C']);
        await h.clock.advance(1_000);
        expect(await sequence(h, 1)).toEqual(['A']);
        await h.clock.advance(500);
        // B goes; D, its replacement, is created now: after A's last use, before anyone's next.
        const b = (await h.manager.acquire(req(URL_A)))!;
        expect(namer(h)(b)).toBe('B');
        h.manager.downloadError(b, 'HTTP 520');
        h.manager.release(b);
        await settle();
        expect(h.manager.pools()[0]).toMatchObject({ ready: 3, discarded: 1 });
        await h.clock.advance(500);
        // C was last used at 0, A at 1,000, D never (created at 1,500): by next-use time.
        expect(await sequence(h, 6)).toEqual(['C', 'A', 'D', 'C', 'A', 'D']);
    });

    it('a session discarded in the middle of the rotation leaves the others in order', async () => {
        const h = setup({ poolSize: 4 });
        expect(await sequence(h, 4)).toEqual(['A', 'B', 'C', 'D']);
        const [a, b] = [(await h.manager.acquire(req(URL_A)))!, (await h.manager.acquire(req(URL_A)))!];
        expect([namer(h)(a), namer(h)(b)]).toEqual(['A', 'B']);
        h.manager.release(a);
        h.manager.downloadError(b, 'HTTP 520');
        h.manager.release(b);
        await settle();
        // E was created after every assignment so far, at the same time (delay 0): never assigned,
        // it comes first among equal next-use times.
        expect(await sequence(h, 8)).toEqual(['E', 'C', 'D', 'A', 'E', 'C', 'D', 'A']);
    });

    it('randomised delays: the session due first is served first', async () => {
        // Delay factors 0.5 + random: 1.4, 0.5, 1.0 for A, B, C (delay 1 s).
        const randoms = [0.9, 0, 0.5];
        let i = 0;
        const h = setup({ poolSize: 3, delay: 1 }, { random: () => randoms[i++ % randoms.length]! });
        expect(await sequence(h, 3)).toEqual(['A', 'B', 'C']);
        await h.clock.advance(499);
        const early = h.manager.acquire(req(URL_A));
        await settle();
        await h.clock.advance(1);
        const name = namer(h);
        const first = (await early)!;
        expect(name(first)).toBe('B');
        h.manager.release(first);
        // Due now: C at 1,000, A at 1,400, B again at 500 + 1,400 (factor of the 4th draw, 0.9).
        await h.clock.advance(1_500);
        expect(await sequence(h, 3)).toEqual(['C', 'A', 'B']);
    });
});
