/**
 * Issue #15: hooks that throw values that are not Errors (null, undefined, a Symbol, a null-prototype
 * object, a string) neither lose the request nor skip the session discard.
 */
import type { Request } from '@crawlee/core';
import {
    attachManagedSessions,
    isSessionInitRequest,
    SessionConfig,
    SessionConfigRegistry,
    type SessionResponse,
} from '@managed-sessions/crawlee';
import { describe, expect, it } from 'vitest';
import { captureLog } from './support/crawlee.js';
import { ledger, recordingCrawler, useCleanup } from './support/reliability-harness.js';
import { html, startServer } from './support/server.js';

const cleanup = useCleanup();

const thrown: [string, () => unknown, string][] = [
    ['null', () => null, 'null'],
    ['undefined', () => undefined, 'undefined'],
    ['a Symbol', () => Symbol('boom'), 'Symbol(boom)'],
    [
        'a null-prototype object',
        () => Object.assign(Object.create(null), { reason: 'boom' }),
        "[Object: null prototype] { reason: 'boom' }",
    ],
    ['a string', () => 'boom', "'boom'"],
];

describe('hooks throwing non-Error values', () => {
    for (const hook of ['enabled', 'processRequest', 'check'] as const) {
        it.each(thrown)(
            `${hook}() throwing %s once: the request is retried and handled`,
            async (_name, value, shown) => {
                const server = cleanup(await startServer((_request, response) => html(response, 'ok')));
                let calls = 0;
                const once = () => {
                    calls++;
                    if (calls === 1) throw value();
                };
                class Throwing extends SessionConfig {
                    override enabled(request: Request): boolean {
                        if (hook === 'enabled') once();
                        return super.enabled(request);
                    }
                    override processRequest(): void {
                        if (hook === 'processRequest') once();
                    }
                    override check(
                        response: SessionResponse,
                        request: Request,
                        session: never,
                    ): boolean | Promise<boolean> {
                        if (hook === 'check' && !isSessionInitRequest(request)) once();
                        return super.check(response, request, session);
                    }
                }
                const registry = new SessionConfigRegistry();
                registry.register(Throwing, { include: server.host });
                const { log } = captureLog();
                const { crawler, record } = recordingCrawler({ log, maxRequestRetries: 1 });
                const sessions = attachManagedSessions(crawler, {
                    registry,
                    poolSize: 2,
                    statusIntervalSecs: 0,
                    report: false,
                });
                await crawler.run([`${server.url}/a`, `${server.url}/b`]);

                expect(await ledger(crawler, record)).toEqual({ added: 2, handled: 2, failed: 0, pending: 0 });
                if (hook === 'check') {
                    // A check that throws discards the session at once, whatever it threw, and the request
                    // rotates to another session.
                    expect(record.retried).toEqual([
                        {
                            url: `${server.url}/a`,
                            message:
                                'Detected a session error, rotating session... \n' +
                                `Session check failed for ${server.url}/a (pool ${server.host}, status 200): check() threw. ` +
                                'The request is retried with another session; if every response fails, fix check() or the init.',
                        },
                    ]);
                    expect(sessions.stats).toEqual({
                        'sessions/init/check-passed': 3,
                        'sessions/use/check-error': 1,
                        'sessions/use/check-passed': 2,
                    });
                    expect(sessions.pools()[0]).toMatchObject({ ready: 2, discarded: 1 });
                } else {
                    expect(record.retried).toEqual([
                        {
                            url: `${server.url}/a`,
                            message: `Throwing.${hook}() threw ${shown} instead of an Error (for ${server.url}/a).`,
                        },
                    ]);
                }
            },
        );
    }

    it.each(thrown)(
        'pool() throwing %s stops the crawl with pool_error and keeps the request queued',
        async (_name, value, shown) => {
            const server = cleanup(await startServer((_request, response) => html(response, 'ok')));
            class Throwing extends SessionConfig {
                override pool(): string {
                    throw value();
                }
            }
            const registry = new SessionConfigRegistry();
            registry.register(Throwing, { include: server.host });
            const { log, lines } = captureLog();
            const { crawler, record } = recordingCrawler({ log });
            const sessions = attachManagedSessions(crawler, { registry, statusIntervalSecs: 0, report: false });
            await crawler.run([`${server.url}/a`]);
            expect(sessions.closeReason).toBe('pool_error');
            expect(await ledger(crawler, record)).toEqual({ added: 1, handled: 0, failed: 0, pending: 1 });
            expect(lines.join('\n')).toContain(`Throwing.pool() threw ${shown} instead of an Error`);
        },
    );
});
