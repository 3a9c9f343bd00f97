// @ts-nocheck -- the workspace typecheck skips this file (it imports the packed packages, which only the
// packaging test's temporary projects install); the test removes this first line when it copies the file.
// The public API as a CommonJS TypeScript user writes it, checked with `module: node16` and `nodenext`.

import { type SessionConfig as CoreSessionConfig, sessionConfigRegistry } from '@managed-sessions/core';
import {
    attachManagedSessions,
    type InitRequest,
    type ManagedSessions,
    type ManagedSessionsOptions,
    type PoolSnapshot,
    SessionCheckFailedError,
    SessionConfig,
    type SessionConfigRule,
    type SessionResponse,
    sessionConfig,
} from '@managed-sessions/crawlee';
import { RedisSessionStore } from '@managed-sessions/redis';
import type { Request, Session } from 'crawlee';
import { CheerioCrawler } from 'crawlee';

const rule: SessionConfigRule = { include: 'shop.example', priority: 1 };

@sessionConfig(rule)
export class ShopSessions extends SessionConfig {
    override params(request: Request): InitRequest {
        return {
            url: new URL('/', request.url).href,
            pageActions: async (page) => {
                await page.click('#accept-cookies');
            },
        };
    }

    override check(response: SessionResponse, _request: Request, session: Session): boolean {
        return response.statusCode === 200 && session.id.length > 0 && !response.body.includes('expired');
    }
}

const options: ManagedSessionsOptions = {
    poolSize: 2,
    store: new RedisSessionStore({ url: 'redis://127.0.0.1:6379', prefix: 'shop' }),
};
const crawler = new CheerioCrawler({ requestHandler: async () => undefined });
const sessions: ManagedSessions = attachManagedSessions(crawler, options);
export const pools: PoolSnapshot[] = sessions.pools();
export const sameClass: typeof CoreSessionConfig = ShopSessions;
export const found: typeof CoreSessionConfig = sessionConfigRegistry.configFor('https://shop.example/');
export const isSessionError: boolean = new Error() instanceof SessionCheckFailedError;
