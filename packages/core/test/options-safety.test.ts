/**
 * Issue #15: option values that zod's types accept but that would misbehave later (a pool that
 * vanishes, a prototype reached through a dictionary, a save that fails mid-crawl, a timer Node.js
 * cannot set, a status line per pool many times a second) are rejected at the entry, naming the path.
 */

import { type ManagedSessionsOptions, ManagedSessionsOptionsError } from '@managed-sessions/core';
import { resolveOptions } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';

function optionsError(input: unknown): ManagedSessionsOptionsError {
    try {
        resolveOptions(input as ManagedSessionsOptions);
    } catch (error) {
        expect(error).toBeInstanceOf(ManagedSessionsOptionsError);
        return error as ManagedSessionsOptionsError;
    }
    throw new Error(`resolveOptions(${JSON.stringify(input)}) did not throw`);
}

/** The one issue of the error for `input`: its path and its exact message. */
function expectOneIssue(input: unknown, path: string, expected: string, received: string): void {
    const error = optionsError(input);
    const message = `Expected \`${path}\` to be ${expected}, got ${received}.`;
    expect(error.message).toBe(`Invalid managed-sessions options:\n- ${message}`);
    expect(error.issues).toEqual([{ path, message }]);
}

const FORBIDDEN =
    'left out: `__proto__`, `constructor` and `prototype` cannot be keys here (they reach the prototype of every object); rename or remove it';
const TIMER = 'a number of seconds <= 2147483 (Node.js timers cannot wait longer than 2^31-1 ms, about 24.8 days)';
const KEY =
    "a key-value store key: at most 256 characters, each a letter, digit or one of ! - _ . ' ( ) (Crawlee's rule; e.g. replace spaces and slashes with '-')";

/** `{ ...outer: { key: value } }` with `key` an own property made the way `how` says. */
function withKey(outer: string[], key: string, value: unknown, how: 'json' | 'defineProperty' | 'literal') {
    let inner: Record<string, unknown>;
    if (how === 'json') inner = JSON.parse(JSON.stringify({ [`${key}-`]: value }).replace(`"${key}-"`, `"${key}"`));
    else if (how === 'defineProperty') {
        inner = {};
        Object.defineProperty(inner, key, { value, enumerable: false });
    } else inner = { [key]: value };
    let result: Record<string, unknown> = inner;
    for (const name of [...outer].reverse()) result = { [name]: result };
    return result;
}

describe('dictionary options refuse keys that reach Object.prototype', () => {
    const cases: [outer: string[], value: unknown, received: string][] = [
        [['pools'], { size: 1 }, '`{"size":1}` (object)'],
        [['location'], 'US', '`"US"` (string)'],
        [['params', 'headers'], 'x', '`"x"` (string)'],
        [['params', 'form'], 'x', '`"x"` (string)'],
    ];
    for (const [outer, value, received] of cases) {
        for (const key of ['__proto__', 'constructor', 'prototype']) {
            for (const how of ['json', 'defineProperty', 'literal'] as const) {
                if (key === '__proto__' && how === 'literal') continue; // `{ ['__proto__']: v }` is an own key: same as json
                it(`${outer.join('.')}.${key} (${how})`, () => {
                    let input = withKey(outer, key, value, how);
                    // A form needs a method that sends a body.
                    if (outer[1] === 'form') input = { params: { ...(input.params as object), method: 'POST' } };
                    const path = [...outer, key].join('.');
                    expectOneIssue(input, path, FORBIDDEN, received);
                });
            }
        }
    }

    it('returns null-prototype dictionaries, so no pool id finds an inherited value', () => {
        const resolved = resolveOptions({
            pools: { shop: { size: 2 } },
            location: { postalCode: '10001' },
            params: { method: 'POST', headers: { a: 'b' }, form: { c: 'd' } },
        });
        for (const dictionary of [resolved.pools, resolved.location, resolved.params?.headers, resolved.params?.form]) {
            expect(Object.getPrototypeOf(dictionary)).toBeNull();
        }
        expect(resolved.pools.constructor).toBeUndefined();
        expect(resolved.pools.shop).toEqual({ size: 2 });
        expect(Object.getPrototypeOf(resolveOptions({}).pools)).toBeNull();
        // Nothing leaked into Object.prototype from any of the rejected inputs above.
        expect(({} as Record<string, unknown>).size).toBeUndefined();
    });
});

describe('persistState.key follows Crawlee key-value store keys', () => {
    it.each([['MANAGED_SESSIONS_STATE'], ["a-Z_0.9!'()"], ['x'.repeat(256)]])('accepts %j', (key) => {
        expect(resolveOptions({ persistState: { key } }).persistState.key).toBe(key);
    });

    it.each([
        ['state/shop', '`"state/shop"` (string)'],
        ['my state', '`"my state"` (string)'],
        ['état', '`"état"` (string)'],
        ['x'.repeat(257), `\`"${'x'.repeat(56)}...\` (string)`],
    ])('rejects %j and says how to fix it', (key, received) => {
        expectOneIssue({ persistState: { key } }, 'persistState.key', KEY, received);
    });

    it('keeps the message for an empty key', () => {
        expectOneIssue({ persistState: { key: '' } }, 'persistState.key', 'a non-empty string', '`""` (string)');
    });
});

describe('statusIntervalSecs: 0 (off) or at least 1 second', () => {
    it.each([0, 1, 2.5, 2_147_483])('accepts %s', (secs) => {
        expect(resolveOptions({ statusIntervalSecs: secs }).statusIntervalSecs).toBe(secs);
    });

    it.each([
        [0.001, '`0.001` (number)'],
        [0.999, '`0.999` (number)'],
    ])('rejects %s', (secs, received) => {
        expectOneIssue(
            { statusIntervalSecs: secs },
            'statusIntervalSecs',
            'a number of seconds >= 1, or 0 to turn status lines off (one line per pool more often than each second would flood the log)',
            received,
        );
    });

    it('keeps the message for a negative interval', () => {
        expectOneIssue({ statusIntervalSecs: -1 }, 'statusIntervalSecs', 'a finite number >= 0', '`-1` (number)');
    });
});

describe('timer options stop at 2,147,483 seconds (2^31-1 ms)', () => {
    const timers: [
        string,
        (secs: number) => ManagedSessionsOptions,
        (o: ReturnType<typeof resolveOptions>) => unknown,
    ][] = [
        ['waitTimeoutSecs', (secs) => ({ waitTimeoutSecs: secs }), (o) => o.waitTimeoutSecs],
        ['statusIntervalSecs', (secs) => ({ statusIntervalSecs: secs }), (o) => o.statusIntervalSecs],
        ['delay', (secs) => ({ delay: secs }), (o) => o.delay],
        ['hookTimeoutSecs', (secs) => ({ hookTimeoutSecs: secs }), (o) => o.hookTimeoutSecs],
        ['poolIdleSecs', (secs) => ({ poolIdleSecs: secs }), (o) => o.poolIdleSecs],
        ['pools.shop.delay', (secs) => ({ pools: { shop: { delay: secs } } }), (o) => o.pools.shop?.delay],
    ];
    for (const [path, input, read] of timers) {
        it(`${path}: accepts 2147483, rejects 2147483.001 and 1e12`, () => {
            expect(read(resolveOptions(input(2_147_483)))).toBe(2_147_483);
            expectOneIssue(input(2_147_483.001), path, TIMER, '`2147483.001` (number)');
            expectOneIssue(input(1e12), path, TIMER, '`1000000000000` (number)');
        });
    }
});
