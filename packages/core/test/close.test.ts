import type { Request, Session } from '@crawlee/core';
import { type Download, SessionConfig, type SessionResponse, SessionsClosedError } from '@managed-sessions/core';
import { describe, expect, it } from 'vitest';
import { type Deferred, deferred, type Harness, isSettled, req, response, settle, setup } from './helpers.js';

const URL_A = 'https://shop.example/a';

function holdInits(h: Harness): Deferred<SessionResponse>[] {
    const held: Deferred<SessionResponse>[] = [];
    h.site.respond = () => {
        const d = deferred<SessionResponse>();
        held.push(d);
        return d.promise;
    };
    return held;
}

describe('close()', () => {
    it('rejects every waiter, clears every timer and aborts init downloads', async () => {
        const h = setup({ poolSize: 1, delay: 5, randomizeDelay: false });
        // shop.example: one session in use, a request waiting for its delay.
        const inUse = (await h.manager.acquire(req(URL_A)))!;
        const delayed = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        // blog.example: its init hangs, two requests wait.
        holdInits(h);
        const initWaiters = [1, 2].map((i) =>
            h.manager.acquire(req(`https://blog.example/${i}`)).catch((error: unknown) => error),
        );
        await settle();
        // Three wait limits and one delay wake-up.
        expect(h.clock.pendingTimers).toBe(4);
        expect(h.site.calls).toHaveLength(2);
        const initCall = h.site.calls[1]!;
        expect(initCall.signal.aborted).toBe(false);

        h.manager.close();

        const errors = await Promise.all([delayed, ...initWaiters]);
        expect(errors.map((error) => (error as Error).message)).toEqual([
            'Sessions are closed; pool shop.example serves no more requests. The request stays in the queue for a later run.',
            'Sessions are closed; pool blog.example serves no more requests. The request stays in the queue for a later run.',
            'Sessions are closed; pool blog.example serves no more requests. The request stays in the queue for a later run.',
        ]);
        for (const error of errors) {
            expect(error).toBeInstanceOf(SessionsClosedError);
            expect((error as SessionsClosedError).code).toBe('ERR_SESSIONS_CLOSED');
        }
        expect(h.clock.pendingTimers).toBe(0);
        expect(initCall.signal.aborted).toBe(true);
        expect(h.manager.closed).toBe(true);
        expect(h.manager.closeReason).toBeUndefined();
        expect(h.closes).toEqual([]);
        expect(h.manager.pools().map(({ id, waiting }) => ({ id, waiting }))).toEqual([
            { id: 'shop.example', waiting: 0 },
            { id: 'blog.example', waiting: 0 },
        ]);

        // The lease in flight can still report and release.
        await h.manager.check(inUse, response(URL_A));
        h.manager.release(inUse);
    });

    it('starts no more inits: not after a failed init, a discard or a new request', async () => {
        const h = setup({ poolSize: 2 });
        const a = (await h.manager.acquire(req(URL_A)))!;
        const held = holdInits(h);
        const second = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        await settle();
        expect(h.site.calls).toHaveLength(2);

        h.manager.close();
        expect(await second).toBeInstanceOf(SessionsClosedError);
        // The hanging init fails once aborted; it is not retried.
        held[0]!.reject(new Error('aborted'));
        await settle();
        // A discard does not start a replacement.
        await h.manager.check(a, response(URL_A, 403)).catch(() => undefined);
        await settle();
        await expect(h.manager.acquire(req(URL_A))).rejects.toThrow(SessionsClosedError);
        await settle();
        expect(h.site.calls).toHaveLength(2);
        expect(h.manager.pools()).toEqual([
            { id: 'shop.example', size: 2, ready: 0, initializing: 0, waiting: 0, discarded: 1 },
        ]);
        // A cancelled init is not a failed one.
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-failed': 1 });
        expect(h.clock.pendingTimers).toBe(0);
    });

    it('an init that succeeds after close() does not join the rotation', async () => {
        const h = setup({ poolSize: 1 });
        const held = holdInits(h);
        const waiting = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        await settle();
        h.manager.close();
        held[0]!.resolve(response(URL_A));
        await settle();
        expect(await waiting).toBeInstanceOf(SessionsClosedError);
        expect(h.manager.pools()[0]).toMatchObject({ ready: 0, initializing: 0 });
    });

    it('stops a multi-step init between its downloads', async () => {
        const gate = deferred<void>();
        class TwoSteps extends SessionConfig {
            override async initSession(_session: Session, _request: Request, download: Download): Promise<boolean> {
                await download({ url: 'https://shop.example/login' });
                await gate.promise;
                await download({ url: 'https://shop.example/login', method: 'POST', body: 'x' });
                return true;
            }
        }
        const h = setup({ poolSize: 1 });
        h.registry.register(TwoSteps, { include: 'shop.example' });
        const waiting = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        await settle();
        expect(h.site.calls).toHaveLength(1);
        h.manager.close();
        gate.resolve();
        await settle();
        expect(await waiting).toBeInstanceOf(SessionsClosedError);
        expect(h.site.calls).toHaveLength(1);
        expect(h.manager.stats).toEqual({});
    });

    it('with a reason sets closeReason; is idempotent', async () => {
        const h = setup({ poolSize: 1 });
        const waiting = h.manager.acquire(req(URL_A));
        h.manager.close('user_abort');
        h.manager.close('other');
        h.manager.close();
        await expect(waiting).rejects.toThrow(
            'Sessions are closed (user_abort); pool shop.example serves no more requests.',
        );
        expect(h.manager.closeReason).toBe('user_abort');
        expect(h.closes).toEqual([]);
    });

    it('a plain close() leaves closeReason undefined, even after later hook stops', async () => {
        const h = setup({ poolSize: 1 });
        await h.manager.acquire(req(URL_A));
        h.manager.close();
        expect(h.manager.closeReason).toBeUndefined();
        const late = h.manager.acquire(req(URL_A));
        await expect(late).rejects.toThrow(SessionsClosedError);
        expect(await isSettled(late)).toBe(true);
        expect(h.manager.closeReason).toBeUndefined();
        expect(h.closes).toEqual([]);
    });
});
