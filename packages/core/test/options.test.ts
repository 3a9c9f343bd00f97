import {
    type ManagedSessionsOptions,
    ManagedSessionsOptionsError,
    SessionConfigRegistry,
    sessionConfigRegistry,
} from '@managed-sessions/core';
import { resolveOptions, SessionManager } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { FakeDownload } from './helpers.js';

function optionsError(input: unknown): ManagedSessionsOptionsError {
    try {
        resolveOptions(input as ManagedSessionsOptions);
    } catch (error) {
        expect(error).toBeInstanceOf(ManagedSessionsOptionsError);
        return error as ManagedSessionsOptionsError;
    }
    throw new Error(`resolveOptions(${JSON.stringify(input)}) did not throw`);
}

const COUNT = 'an integer >= 1';
const DELAY = 'a finite number >= 0';
const POSITIVE = 'a finite number > 0';

describe('resolveOptions', () => {
    it('fills every default', () => {
        const resolved = resolveOptions(undefined);
        expect(resolved).toEqual({
            enabled: true,
            poolSize: 8,
            pools: {},
            exclusive: false,
            delay: 0,
            randomizeDelay: true,
            maxErrors: 1,
            maxCheckFailures: 1,
            maxBadInits: 8,
            waitTimeoutSecs: 60,
            errorStatusCodes: [520, 521],
            statsPerPool: false,
            persistState: { enabled: true, key: 'MANAGED_SESSIONS_STATE', cookies: true },
            adaptiveLifetime: true,
            hookTimeoutSecs: 120,
            poolIdleSecs: 300,
            statusIntervalSecs: 60,
            registry: sessionConfigRegistry,
            checker: undefined,
            params: undefined,
        });
        expect(resolved.registry).toBe(sessionConfigRegistry);
        expect(resolveOptions({})).toEqual(resolved);
    });

    it('keeps given values and fills the rest of nested objects', () => {
        const registry = new SessionConfigRegistry();
        const checker = () => true;
        const resolved = resolveOptions({
            poolSize: 2,
            pools: { 'shop.example': { size: 1, delay: 0.5 } },
            delay: 1.5,
            maxUsageCount: 3,
            maxAgeSecs: 0.25,
            location: { addressCountry: 'US' },
            params: { url: 'https://shop.example/init', method: 'POST', form: { a: 'b' } },
            checker,
            registry,
            persistState: { cookies: false },
        });
        expect(resolved).toMatchObject({
            poolSize: 2,
            pools: { 'shop.example': { size: 1, delay: 0.5 } },
            delay: 1.5,
            maxUsageCount: 3,
            maxAgeSecs: 0.25,
            location: { addressCountry: 'US' },
            params: { url: 'https://shop.example/init', method: 'POST', form: { a: 'b' } },
            persistState: { enabled: true, key: 'MANAGED_SESSIONS_STATE', cookies: false },
        });
        expect(resolved.checker).toBe(checker);
        expect(resolved.registry).toBe(registry);
        expect(resolved.pools['shop.example']).toEqual({ size: 1, delay: 0.5 });
    });

    it.each([
        ['poolSize', 1],
        ['maxErrors', 100],
        ['maxCheckFailures', 1],
        ['maxBadInits', 1],
        ['maxUsageCount', 1],
        ['delay', 0],
        ['statusIntervalSecs', 0],
        ['maxAgeSecs', 0.001],
        ['waitTimeoutSecs', 0.001],
    ] as const)('accepts the boundary value %s = %s', (key, value) => {
        expect(resolveOptions({ [key]: value })[key]).toBe(value);
    });

    // [option path, input, expected, received]
    const wrongValues: [string, ManagedSessionsOptions | unknown, string, string][] = [
        // counts: integers >= 1
        ...(['poolSize', 'maxErrors', 'maxCheckFailures', 'maxBadInits', 'maxUsageCount'] as const).flatMap(
            (key): [string, unknown, string, string][] => [
                [key, { [key]: 0 }, COUNT, '`0` (number)'],
                [key, { [key]: -1 }, COUNT, '`-1` (number)'],
                [key, { [key]: 1.5 }, COUNT, '`1.5` (number)'],
                [key, { [key]: '3' }, COUNT, '`"3"` (string)'],
                [key, { [key]: Number.POSITIVE_INFINITY }, COUNT, '`Infinity` (number)'],
            ],
        ),
        // delay: finite >= 0
        ['delay', { delay: -0.1 }, DELAY, '`-0.1` (number)'],
        ['delay', { delay: Number.POSITIVE_INFINITY }, DELAY, '`Infinity` (number)'],
        ['delay', { delay: Number.NaN }, DELAY, '`NaN` (number)'],
        ['delay', { delay: '1' }, DELAY, '`"1"` (string)'],
        ['delay', { delay: null }, DELAY, '`null` (null)'],
        ['statusIntervalSecs', { statusIntervalSecs: -1 }, DELAY, '`-1` (number)'],
        // maxAgeSecs and waitTimeoutSecs: finite > 0
        ['maxAgeSecs', { maxAgeSecs: 0 }, POSITIVE, '`0` (number)'],
        ['maxAgeSecs', { maxAgeSecs: Number.POSITIVE_INFINITY }, POSITIVE, '`Infinity` (number)'],
        ['waitTimeoutSecs', { waitTimeoutSecs: 0 }, POSITIVE, '`0` (number)'],
        ['waitTimeoutSecs', { waitTimeoutSecs: -5 }, POSITIVE, '`-5` (number)'],
        ['waitTimeoutSecs', { waitTimeoutSecs: Number.POSITIVE_INFINITY }, POSITIVE, '`Infinity` (number)'],
        // booleans
        ...(['enabled', 'exclusive', 'randomizeDelay', 'statsPerPool'] as const).map(
            (key): [string, unknown, string, string] => [key, { [key]: 'yes' }, 'a boolean', '`"yes"` (string)'],
        ),
        // pools
        ['pools', { pools: 3 }, 'an object keyed by pool id', '`3` (number)'],
        [
            'pools.a',
            { pools: { a: 1 } },
            'an object { size?, delay?, randomizeDelay?, maxBadInits?, exclusive? }',
            '`1` (number)',
        ],
        ['pools.a.size', { pools: { a: { size: 0 } } }, COUNT, '`0` (number)'],
        ['pools.a.delay', { pools: { a: { delay: -1 } } }, DELAY, '`-1` (number)'],
        ['pools.a.maxBadInits', { pools: { a: { maxBadInits: 2.5 } } }, COUNT, '`2.5` (number)'],
        ['pools.a.randomizeDelay', { pools: { a: { randomizeDelay: 1 } } }, 'a boolean', '`1` (number)'],
        ['pools.a.exclusive', { pools: { a: { exclusive: 'no' } } }, 'a boolean', '`"no"` (string)'],
        // status codes
        ['errorStatusCodes', { errorStatusCodes: 520 }, 'an array of HTTP status codes (100-599)', '`520` (number)'],
        [
            'errorStatusCodes.1',
            { errorStatusCodes: [520, 99] },
            'an HTTP status code (an integer 100-599)',
            '`99` (number)',
        ],
        [
            'errorStatusCodes.0',
            { errorStatusCodes: [600] },
            'an HTTP status code (an integer 100-599)',
            '`600` (number)',
        ],
        // location and params
        ['location', { location: 'US' }, 'an object of string values', '`"US"` (string)'],
        ['location.postalCode', { location: { postalCode: 10001 } }, 'a string', '`10001` (number)'],
        [
            'params',
            { params: 'https://shop.example/' },
            'an InitRequest object ({ url?, method?, headers?, body?, json?, form?, pageActions? })',
            '`"https://shop.example/"` (string)',
        ],
        [
            'params.url',
            { params: { url: 'ftp://shop.example/' } },
            'an absolute http(s) URL',
            '`"ftp://shop.example/"` (string)',
        ],
        ['params.url', { params: { url: '/relative' } }, 'an absolute http(s) URL', '`"/relative"` (string)'],
        ['params.method', { params: { method: 'G E T' } }, 'an HTTP method name', '`"G E T"` (string)'],
        ['params.headers.cookie', { params: { headers: { cookie: 1 } } }, 'a string', 'a value of type number'],
        ['params.body', { params: { body: {} } }, 'a string', '`{}` (object)'],
        ['params.form', { params: { form: [] } }, 'an object of string values', '`[]` (array)'],
        [
            'params.pageActions',
            { params: { pageActions: 'click' } },
            'a function (page) => Promise<void>',
            '`"click"` (string)',
        ],
        [
            'params.method',
            { params: { form: { a: 'b' } } },
            "a method that sends a body, such as 'POST', because form is set",
            '`undefined` (undefined)',
        ],
        [
            'params.method',
            { params: { body: 'x', method: 'get' } },
            "a method that sends a body, such as 'POST', because body is set",
            '`"get"` (string)',
        ],
        [
            'params.json',
            { params: { body: 'x', json: { a: 1 }, method: 'POST' } },
            'left out: set only one of body, json and form (body is set)',
            '`{"a":1}` (object)',
        ],
        // functions and objects
        ['checker', { checker: true }, 'a function (response, request, session) => boolean', '`true` (boolean)'],
        ['registry', { registry: {} }, 'a SessionConfigRegistry', '`{}` (object)'],
        ['persistState', { persistState: true }, 'an object { enabled?, key?, cookies? }', '`true` (boolean)'],
        ['persistState.key', { persistState: { key: '' } }, 'a non-empty string', '`""` (string)'],
        ['persistState.cookies', { persistState: { cookies: 'no' } }, 'a boolean', '`"no"` (string)'],
        ['options', 'fast', 'an options object', '`"fast"` (string)'],
        ['options', [], 'an options object', '`[]` (array)'],
    ];

    it.each(wrongValues)('rejects a wrong %s (%j)', (path, input, expected, received) => {
        const error = optionsError(input);
        const message = `Expected \`${path}\` to be ${expected}, got ${received}.`;
        expect(error.message).toBe(`Invalid managed-sessions options:\n- ${message}`);
        expect(error.issues).toEqual([{ path: path === 'options' ? '' : path, message }]);
        expect(error.code).toBe('ERR_OPTIONS');
        expect(error.name).toBe('ManagedSessionsOptionsError');
    });

    // [input, option path, hint]
    const unknownKeys: [unknown, string, string][] = [
        [{ poolsize: 3 }, 'poolsize', ' (did you mean `poolSize`?)'],
        [{ maxxErrors: 1 }, 'maxxErrors', ' (did you mean `maxErrors`?)'],
        [{ dealy: 1 }, 'dealy', ' (did you mean `delay`?)'],
        [{ waitTimeout: 1 }, 'waitTimeout', ''],
        [{ xyzzy: 1 }, 'xyzzy', ''],
        [{ pools: { a: { sizes: 2 } } }, 'pools.a.sizes', ' (did you mean `size`?)'],
        [{ persistState: { cookie: false } }, 'persistState.cookie', ' (did you mean `cookies`?)'],
        [{ params: { uri: 'https://shop.example/' } }, 'params.uri', ' (did you mean `url`?)'],
    ];

    it.each(unknownKeys)('rejects the unknown key in %j, with a hint when one is close', (input, path, hint) => {
        const error = optionsError(input);
        const message = `Unknown option \`${path}\`${hint}; remove it or fix its spelling.`;
        expect(error.message).toBe(`Invalid managed-sessions options:\n- ${message}`);
        expect(error.issues).toEqual([{ path, message }]);
    });

    it('reports every wrong option at once, in one error', () => {
        const error = optionsError({ enabled: 'yes', poolSize: 0, poolsize: 2 });
        expect(error.issues.map((issue) => issue.path)).toEqual(['enabled', 'poolSize', 'poolsize']);
        expect(error.message).toBe(
            [
                'Invalid managed-sessions options:',
                '- Expected `enabled` to be a boolean, got `"yes"` (string).',
                '- Expected `poolSize` to be an integer >= 1, got `0` (number).',
                '- Unknown option `poolsize` (did you mean `poolSize`?); remove it or fix its spelling.',
            ].join('\n'),
        );
    });

    it('validates at the SessionManager entry', () => {
        const site = new FakeDownload();
        expect(() => new SessionManager({ maxAgeSecs: 0 }, { download: site.download })).toThrow(
            'Expected `maxAgeSecs` to be a finite number > 0, got `0` (number).',
        );
        expect(() => new SessionManager({ maxAgeSecs: 0 }, { download: site.download })).toThrow(
            ManagedSessionsOptionsError,
        );
    });
});
