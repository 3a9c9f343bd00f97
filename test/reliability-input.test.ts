/**
 * Issue #6, bad input at the adapter: options passed to `attachManagedSessions()` (the engine-level table is
 * packages/core/test/options.test.ts), the adapter's other entry checks, and malformed `userData` session
 * controls on requests (beyond the two of cheerio-pools.test.ts).
 */
import type { BasicCrawler } from '@crawlee/basic';
import { CheerioCrawler } from '@crawlee/cheerio';
import {
    attachManagedSessions,
    type ManagedSessionsOptions,
    ManagedSessionsOptionsError,
    SessionControlError,
} from '@managed-sessions/crawlee';
import { describe, expect, it } from 'vitest';
import { captureLog, testConfig } from './support/crawlee.js';
import { ledger, recordingCrawler, until, useCleanup } from './support/reliability-harness.js';
import { sidSite, startServer } from './support/server.js';

const cleanup = useCleanup();

function cheerio(extra: Partial<ConstructorParameters<typeof CheerioCrawler>[0]> = {}): CheerioCrawler {
    return new CheerioCrawler({ log: captureLog().log, requestHandler: () => undefined, ...extra }, testConfig());
}

function attachError(crawler: BasicCrawler<any>, options: unknown): unknown {
    try {
        attachManagedSessions(crawler, options as ManagedSessionsOptions);
    } catch (error) {
        return error;
    }
    throw new Error(`attachManagedSessions(crawler, ${JSON.stringify(options)}) did not throw`);
}

/**
 * One value of the wrong type per top-level option, with what the error must say was expected and
 * what came. Typed by the options interface: a new option without a row here does not compile.
 */
const wrongTypes: Record<keyof ManagedSessionsOptions, [value: unknown, expected: string, received: string]> = {
    enabled: ['yes', 'a boolean', '`"yes"` (string)'],
    poolSize: ['8', 'an integer >= 1', '`"8"` (string)'],
    pools: [[], 'an object keyed by pool id', '`[]` (array)'],
    exclusive: [1, 'a boolean', '`1` (number)'],
    delay: ['1', 'a finite number >= 0', '`"1"` (string)'],
    randomizeDelay: ['no', 'a boolean', '`"no"` (string)'],
    maxErrors: [true, 'an integer >= 1', '`true` (boolean)'],
    maxCheckFailures: [null, 'an integer >= 1', '`null` (null)'],
    maxBadInits: ['3', 'an integer >= 1', '`"3"` (string)'],
    waitTimeoutSecs: ['60', 'a finite number > 0', '`"60"` (string)'],
    errorStatusCodes: [520, 'an array of HTTP status codes (100-599)', '`520` (number)'],
    location: ['US', 'an object of string values', '`"US"` (string)'],
    params: [
        'http://127.0.0.1/init',
        'an InitRequest object ({ url?, method?, headers?, body?, json?, form?, pageActions? })',
        '`"http://127.0.0.1/init"` (string)',
    ],
    checker: [true, 'a function (response, request, session) => boolean', '`true` (boolean)'],
    statsPerPool: ['yes', 'a boolean', '`"yes"` (string)'],
    maxUsageCount: ['10', 'an integer >= 1', '`"10"` (string)'],
    maxAgeSecs: ['60', 'a finite number > 0', '`"60"` (string)'],
    registry: [{}, 'a SessionConfigRegistry', '`{}` (object)'],
    persistState: [true, 'an object { enabled?, key?, cookies? }', '`true` (boolean)'],
    adaptiveLifetime: ['on', 'a boolean', '`"on"` (string)'],
    hookTimeoutSecs: ['120', 'a finite number > 0', '`"120"` (string)'],
    poolIdleSecs: [0, 'a finite number > 0', '`0` (number)'],
    statusIntervalSecs: ['60', 'a finite number >= 0', '`"60"` (string)'],
    report: ['yes', 'a boolean', '`"yes"` (string)'],
    store: [
        'redis://127.0.0.1:6379',
        'a session store, e.g. `new RedisSessionStore({ url, prefix })` (an object with open())',
        '`"redis://127.0.0.1:6379"` (string)',
    ],
};

describe('attachManagedSessions(crawler, options) validates the options at its entry', () => {
    it.each(Object.entries(wrongTypes))(
        'rejects a wrong %s naming the option path',
        (path, [value, expected, received]) => {
            const crawler = cheerio();
            const error = attachError(crawler, { [path]: value });

            const message = `Expected \`${path}\` to be ${expected}, got ${received}.`;
            expect(error).toBeInstanceOf(ManagedSessionsOptionsError);
            expect(error).toMatchObject({
                name: 'ManagedSessionsOptionsError',
                code: 'ERR_OPTIONS',
                message: `Invalid managed-sessions options:\n- ${message}`,
                issues: [{ path, message }],
            });
            // The rejected call left nothing behind: the crawler takes a valid attach afterwards.
            expect(() => attachManagedSessions(crawler, { statusIntervalSecs: 0 })).not.toThrow();
        },
    );

    it.each([
        [
            { poolsize: 3 },
            'poolsize',
            'Unknown option `poolsize` (did you mean `poolSize`?); remove it or fix its spelling.',
        ],
        [
            { pools: { shop: { size: 0 } } },
            'pools.shop.size',
            'Expected `pools.shop.size` to be an integer >= 1, got `0` (number).',
        ],
        [
            { waitTimeoutSecs: 0 },
            'waitTimeoutSecs',
            'Expected `waitTimeoutSecs` to be a finite number > 0, got `0` (number).',
        ],
        // Issue #15: what would misbehave later rather than fail now.
        [
            JSON.parse('{"pools":{"__proto__":{"size":1}}}'),
            'pools.__proto__',
            'Expected `pools.__proto__` to be left out: `__proto__`, `constructor` and `prototype` cannot be keys here (they reach the prototype of every object); rename or remove it, got `{"size":1}` (object).',
        ],
        [
            { persistState: { key: 'state/shop 1' } },
            'persistState.key',
            "Expected `persistState.key` to be a key-value store key: at most 256 characters, each a letter, digit or one of ! - _ . ' ( ) (Crawlee's rule; e.g. replace spaces and slashes with '-'), got `\"state/shop 1\"` (string).",
        ],
        [
            { statusIntervalSecs: 0.01 },
            'statusIntervalSecs',
            'Expected `statusIntervalSecs` to be a number of seconds >= 1, or 0 to turn status lines off (one line per pool more often than each second would flood the log), got `0.01` (number).',
        ],
        [
            { hookTimeoutSecs: 2_147_484 },
            'hookTimeoutSecs',
            'Expected `hookTimeoutSecs` to be a number of seconds <= 2147483 (Node.js timers cannot wait longer than 2^31-1 ms, about 24.8 days), got `2147484` (number).',
        ],
    ])('rejects %j: %s', (options, path, message) => {
        expect(attachError(cheerio(), options)).toMatchObject({
            message: `Invalid managed-sessions options:\n- ${message}`,
            issues: [{ path, message }],
        });
    });

    it('rejects what cannot host sessions: not a crawler, a second attach, useSessionPool: false, a running crawler', async () => {
        expect(attachError({} as BasicCrawler, {})).toEqual(
            new TypeError(
                'attachManagedSessions(crawler) needs a Crawlee 3.x crawler (BasicCrawler, HttpCrawler, CheerioCrawler, ' +
                    'JSDOMCrawler or PlaywrightCrawler instance).',
            ),
        );

        const twice = cheerio();
        attachManagedSessions(twice, { statusIntervalSecs: 0 });
        expect(attachError(twice, {})).toEqual(
            new ManagedSessionsOptionsError(
                'attachManagedSessions() was already called for this crawler; call it once.',
            ),
        );

        expect(attachError(cheerio({ useSessionPool: false }), {})).toEqual(
            new ManagedSessionsOptionsError(
                'attachManagedSessions() needs the crawler option useSessionPool (the default); remove useSessionPool: false.',
            ),
        );

        const server = cleanup(await startServer(sidSite()));
        let release!: () => void;
        const handlerHeld = new Promise<void>((resolve) => {
            release = resolve;
        });
        let handling = false;
        const running = cheerio({
            requestHandler: async () => {
                handling = true;
                await handlerHeld;
            },
        });
        const run = running.run([`${server.url}/a`]);
        await until(() => handling);
        const error = attachError(running, {});
        release();
        await run;
        expect(error).toEqual(
            new ManagedSessionsOptionsError('attachManagedSessions() must be called before crawler.run().'),
        );
    });
});

describe('malformed userData session controls fail their request only', () => {
    const schema = '{ url?, method?, headers?, body?, json?, form?, pageActions? }';
    const location = 'expected a plain object of strings such as { addressCountry: "US", postalCode: "10001" }.';
    // [userData, key, problem]
    const badControls: [Record<string, unknown>, string, string][] = [
        [{ sessionEnabled: 'yes' }, 'sessionEnabled', 'expected a boolean, got string.'],
        [
            { sessionPool: 42 },
            'sessionPool',
            'expected a non-empty pool id string, got 42. Remove it to use the default pool.',
        ],
        [
            { sessionPool: '   ' },
            'sessionPool',
            'expected a non-empty pool id string, got "   ". Remove it to use the default pool.',
        ],
        [{ sessionLocation: 'US' }, 'sessionLocation', location],
        [{ sessionLocation: ['US'] }, 'sessionLocation', location],
        [{ sessionLocation: null }, 'sessionLocation', location],
        [
            { sessionParams: 'http://127.0.0.1/init' },
            'sessionParams',
            `value must be an InitRequest object (${schema}).`,
        ],
        [{ sessionParams: { headers: { 'x-token': 1 } } }, 'sessionParams', 'headers.x-token must be a string.'],
        [{ sessionParams: { url: 'ftp://127.0.0.1/init' } }, 'sessionParams', 'url must be an absolute http(s) URL.'],
        [
            { sessionParams: { body: 'a=1' } },
            'sessionParams',
            "method must be a method that sends a body, such as 'POST', because body is set.",
        ],
    ];

    it('each fails at once with SessionControlError naming the key; the good requests are handled', async () => {
        const server = cleanup(await startServer(sidSite()));
        const { log } = captureLog();
        const { crawler, record } = recordingCrawler({ log });
        const sessions = attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        const bad = badControls.map(([userData], i) => ({ url: `${server.url}/bad/${i}`, userData }));
        const good = [1, 2, 3].map((i) => ({ url: `${server.url}/good/${i}` }));
        // Good and bad interleaved: a bad one must not hold up or break the ones after it.
        await crawler.run([good[0]!, ...bad.slice(0, 5), good[1]!, ...bad.slice(5), good[2]!]);

        expect(record.failed.map(({ url, error }) => [url, error.message])).toEqual(
            badControls.map(([, key, problem], i) => [
                `${server.url}/bad/${i}`,
                `Invalid request.userData.${key} for ${server.url}/bad/${i}: ${problem}`,
            ]),
        );
        for (const { error } of record.failed) expect(error).toBeInstanceOf(SessionControlError);
        // Not retried (the userData would not change), never sent, no pool opened for them.
        expect(record.retried).toEqual([]);
        expect(server.seen.map((request) => request.path)).toEqual(['/good/1', '/good/1', '/good/2', '/good/3']);
        expect(sessions.pools().map((pool) => pool.id)).toEqual([server.host]);
        expect(sessions.stats).toEqual({ 'sessions/init/check-passed': 1, 'sessions/use/check-passed': 3 });
        expect(record.handled).toEqual(good.map((request) => request.url));
        expect(await ledger(crawler, record)).toEqual({ added: 13, handled: 3, failed: 10, pending: 0 });
    });

    // A typo in sessionParams (`uri`) is named with the key it was probably meant to be, as in option `params`.
    it('an unknown sessionParams key is named in the error, with the key it was probably meant to be', async () => {
        const server = cleanup(await startServer(sidSite()));
        const { log } = captureLog();
        const { crawler, record } = recordingCrawler({ log });
        attachManagedSessions(crawler, { poolSize: 1, statusIntervalSecs: 0 });
        await crawler.run([{ url: `${server.url}/a`, userData: { sessionParams: { uri: `${server.url}/init` } } }]);

        expect(await ledger(crawler, record)).toEqual({ added: 1, handled: 0, failed: 1, pending: 0 });
        expect(record.failed[0]!.error.message).toMatch(
            new RegExp(`^Invalid request\\.userData\\.sessionParams for ${server.url}/a: .*\\buri\\b.*\\burl\\b`),
        );
    });
});
