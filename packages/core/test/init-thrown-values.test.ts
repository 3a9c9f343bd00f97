import type { Request, Session } from '@crawlee/core';
import {
    type Download,
    type InitRequest,
    type ManagedSessionsOptions,
    SessionCheckFailedError,
    SessionConfig,
    type StatName,
} from '@managed-sessions/core';
import { describeError, type SessionManagerDeps, safeCause } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { captureLog, type Responder, req, response, setup } from './helpers.js';

const URL_A = 'https://shop.example/a';

function throwingGetter(): object {
    return Object.defineProperty({}, 'message', {
        get() {
            throw new Error('getter exploded');
        },
    });
}

// What a hook may throw besides an Error, and how the log shows it.
const values: [string, () => unknown, string][] = [
    ['null', () => null, 'null'],
    ['undefined', () => undefined, 'undefined'],
    ['a Symbol', () => Symbol('nope'), 'Symbol(nope)'],
    ['a null-prototype object', () => Object.create(null), '[object Object]'],
    ['a string', () => 'plain text', 'plain text'],
    ['an object whose message getter throws', throwingGetter, '[object Object]'],
    ['an object with a message', () => ({ message: 'as if an Error' }), 'as if an Error'],
];

interface Arrangement {
    config?: typeof SessionConfig;
    respond?: Responder;
    options?: ManagedSessionsOptions;
    deps?: Partial<SessionManagerDeps>;
}

// [the hook that throws, the stat it counts]; `thrown()` gives the value, `fail()` says whether this init throws.
const hooks: [string, StatName, (thrown: () => unknown, fail: () => boolean) => Arrangement][] = [
    [
        'params()',
        'init/param-error',
        (thrown, fail) => ({
            config: class extends SessionConfig {
                override params(request: Request): InitRequest {
                    if (fail()) throw thrown();
                    return { url: request.url };
                }
            },
        }),
    ],
    [
        'initSession()',
        'init/failed',
        (thrown, fail) => ({
            config: class extends SessionConfig {
                override async initSession(session: Session, request: Request, download: Download) {
                    if (fail()) throw thrown();
                    return super.initSession(session, request, download);
                }
            },
        }),
    ],
    [
        'the download',
        'init/failed',
        (thrown, fail) => ({
            respond: (call) => {
                if (fail()) throw thrown();
                return response(call.url);
            },
        }),
    ],
    [
        "the proxy's newUrlFunction",
        'init/failed',
        (thrown, fail) => ({
            deps: {
                prepareSession: () => {
                    if (fail()) throw thrown();
                    return undefined;
                },
            },
        }),
    ],
    [
        'check() of the init response',
        'init/check-error',
        (thrown, fail) => ({
            config: class extends SessionConfig {
                override check(): boolean {
                    if (fail()) throw thrown();
                    return true;
                }
            },
        }),
    ],
];

const cases = values.flatMap(([what, thrown, shown]) =>
    hooks.map(([hook, stat, make]) => [hook, what, stat, shown, thrown, make] as const),
);

describe('a hook that throws something other than an Error', () => {
    it.each(cases)('%s throws %s: counts %s like an Error', async (_hook, _what, stat, shown, thrown, make) => {
        let inits = 0;
        const arrangement = make(thrown, () => ++inits === 1);
        const { log, lines } = captureLog();
        const h = setup({ poolSize: 1, maxBadInits: 2, ...arrangement.options }, { log, ...arrangement.deps });
        if (arrangement.config) h.registry.register(arrangement.config, { include: '', priority: 1000 });
        if (arrangement.respond) h.site.respond = arrangement.respond;
        const lease = await h.manager.acquire(req(URL_A));
        expect(lease?.poolId).toBe('shop.example');
        expect(h.manager.stats).toEqual({ [`sessions/${stat}`]: 1, 'sessions/init/check-passed': 1 });
        const logged = lines.filter((line) => line.message.startsWith('Session init for pool shop.example'));
        expect(logged).toHaveLength(1);
        expect(logged[0]!.message).toContain(shown);
    });

    it.each(values)('check() of a use response throws %s: counts use/check-error', async (_what, thrown, shown) => {
        const { log, lines } = captureLog();
        const h = setup({ poolSize: 1 }, { log });
        let uses = 0;
        h.registry.register(
            class extends SessionConfig {
                override check(): boolean {
                    if (++uses === 2) throw thrown();
                    return true;
                }
            },
            { include: '', priority: 1000 },
        );
        const lease = (await h.manager.acquire(req(URL_A)))!;
        const error = await h.manager.check(lease, response(URL_A)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SessionCheckFailedError);
        expect(h.manager.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-error': 1 });
        expect(h.manager.pools()[0]).toMatchObject({ discarded: 1 });
        expect(lines.map((line) => line.message)).toContain(`check() threw on the use response of ${URL_A}: ${shown}`);
    });
});

describe('describeError', () => {
    it.each([
        ...values,
        ['an Error', () => new Error('boom'), 'boom'],
        ['a number', () => 42, '42'],
        ['a bigint', () => 10n, '10'],
        [
            'a Proxy whose traps throw',
            () =>
                new Proxy(
                    {},
                    {
                        get() {
                            throw new Error('trap');
                        },
                        getPrototypeOf() {
                            throw new Error('trap');
                        },
                    },
                ),
            '(a thrown value that cannot be shown)',
        ],
        ['an Error with a cookie', () => new Error('Cookie: sid=abc123'), 'Cookie: ***'],
    ] as [string, () => unknown, string][])('describes %s without throwing', (_what, thrown, shown) => {
        expect(describeError(thrown())).toBe(shown);
    });
});

describe('safeCause', () => {
    it('has no cause for undefined', () => {
        expect(safeCause(undefined)).toBeUndefined();
    });

    it.each(values.filter(([what]) => what !== 'undefined'))(
        'keeps %s as a plain Error with its text only',
        (_what, thrown, shown) => {
            const cause = safeCause(thrown());
            expect(cause).toBeInstanceOf(Error);
            expect(cause!.message).toBe(shown);
            expect(cause!.stack).toBe(`Error: ${shown}`);
        },
    );

    it('keeps an Error subclass name and code, not its other fields', () => {
        const error = Object.assign(new TypeError('Cookie: sid=abc123'), { code: 'ERR_X', options: { secret: 1 } });
        const cause = safeCause(error)!;
        expect([cause.name, cause.message, (cause as { code?: string }).code]).toEqual([
            'TypeError',
            'Cookie: ***',
            'ERR_X',
        ]);
        expect(Object.keys(cause).sort()).toEqual(['code', 'name']);
    });
});
