import type { Request, Session } from '@crawlee/core';
import {
    SessionCheckFailedError,
    SessionConfig,
    SessionConfigRegistry,
    type SessionResponse,
} from '@managed-sessions/core';
import { describe, expect, it } from 'vitest';
import { isSettled, req, response, setup } from './helpers.js';

const URL_A = 'https://shop.example/a';
const never = () => new Promise<never>(() => undefined);

function registryWith(cls: typeof SessionConfig): SessionConfigRegistry {
    const registry = new SessionConfigRegistry();
    registry.register(cls, { include: 'shop.example' });
    return registry;
}

describe('hooks that never settle', () => {
    it('processRequest(): the attempt fails after hookTimeoutSecs naming the hook, pool and option; the lease is released', async () => {
        let hang = true;
        class Hanging extends SessionConfig {
            override processRequest() {
                return hang ? never() : undefined;
            }
        }
        const h = setup({ poolSize: 1, exclusive: true, hookTimeoutSecs: 5 }, { registry: registryWith(Hanging) });
        const first = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        await h.clock.advance(4_999);
        expect(await isSettled(first)).toBe(false);
        await h.clock.advance(1);
        expect(((await first) as Error).message).toBe(
            `Hanging.processRequest() did not settle within 5 s for ${URL_A} (pool shop.example); the attempt failed ` +
                'and its session was released. Make the hook settle, or raise the option hookTimeoutSecs.',
        );
        // The exclusive session is free again.
        hang = false;
        const second = h.manager.acquire(req(URL_A));
        await h.clock.advance(0);
        expect((await second)!.poolId).toBe('shop.example');
        expect(h.site.calls).toHaveLength(1);
        expect(h.clock.pendingTimers).toBe(0);
    });

    it('check(): counted as use/check-error after hookTimeoutSecs; the session is discarded and the check fails', async () => {
        class Hanging extends SessionConfig {
            override check(res: SessionResponse, request: Request, session: Session) {
                return request.userData.__sessionInit ? super.check(res, request, session) : never();
            }
        }
        const h = setup({ poolSize: 1, hookTimeoutSecs: 2 }, { registry: registryWith(Hanging) });
        const lease = (await h.manager.acquire(req(URL_A)))!;
        const checked = h.manager.check(lease, response(URL_A)).catch((error: unknown) => error);
        await h.clock.advance(2_000);
        const error = (await checked) as SessionCheckFailedError;
        expect(error).toBeInstanceOf(SessionCheckFailedError);
        expect(error.message).toBe(
            'Detected a session error, rotating session... \n' +
                `Session check failed for ${URL_A} (pool shop.example, status 200): check() did not settle within 2 s ` +
                '(option hookTimeoutSecs). The request is retried with another session; if every response fails, fix check() or the init.',
        );
        h.manager.release(lease);
        expect(h.manager.stats['sessions/use/check-error']).toBe(1);
        expect(h.manager.pools()[0]).toMatchObject({ discarded: 1 });
    });
});

describe('init hooks through the manager', () => {
    it('a params() that never settles counts init/param-error after the configured hookTimeoutSecs, not the default', async () => {
        let hang = true;
        class Hanging extends SessionConfig {
            override params(request: Request) {
                return hang ? never() : super.params(request);
            }
        }
        const h = setup({ poolSize: 1, hookTimeoutSecs: 3 }, { registry: registryWith(Hanging) });
        const first = h.manager.acquire(req(URL_A)).catch((error: unknown) => error);
        await h.clock.advance(2_999);
        expect(h.manager.stats['sessions/init/param-error']).toBeUndefined();
        hang = false;
        await h.clock.advance(1);
        expect(h.manager.stats['sessions/init/param-error']).toBe(1);
        // The waiting request is served by the next init, which settles.
        await h.clock.advance(0);
        expect((await first) as object).toMatchObject({ poolId: 'shop.example' });
    });
});
