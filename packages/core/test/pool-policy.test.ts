/**
 * The rotation policy both pool backends follow (`pools/policy.ts`), on plain inputs: no pool,
 * no clock, no store.
 */

import {
    ageLimitMs,
    averageInitMs,
    isPastAge,
    LifetimeLearner,
    type LifetimeOptions,
    learnedLifetime,
    lifetimeLearner,
    nextUseAt,
    retiresAfterUse,
    usesLimit,
} from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';

const NOW = 1_700_000_000_000;

function options(overrides: Partial<LifetimeOptions> = {}): LifetimeOptions {
    return { maxUsageCount: undefined, maxAgeSecs: undefined, adaptiveLifetime: true, ...overrides };
}

/** A learner taught a lifetime of `uses` successful uses (four identical expiries). */
function taught(uses: number, ageMs = 60_000): LifetimeLearner {
    const learner = new LifetimeLearner();
    for (let i = 0; i < 4; i++) learner.record(uses, ageMs + i * 7_919);
    return learner;
}

describe('lifetime learner setup', () => {
    it.each([
        { given: {}, learns: true },
        { given: { adaptiveLifetime: false }, learns: false },
        { given: { maxUsageCount: 10 }, learns: false },
        { given: { maxAgeSecs: 30 }, learns: false },
        { given: { maxUsageCount: 10, maxAgeSecs: 30 }, learns: false },
    ])('$given: learner $learns', ({ given, learns }) => {
        const learner = lifetimeLearner(options(given));
        expect(learner instanceof LifetimeLearner).toBe(learns);
    });
});

describe('retirement limits', () => {
    it('an explicit option wins over what the learner learned', () => {
        const learner = taught(20);
        expect(learner.usesLimit).toBe(20);
        expect(usesLimit(options(), learner)).toBe(20);
        expect(usesLimit(options({ maxUsageCount: 5 }), learner)).toBe(5);
        expect(ageLimitMs(options({ maxAgeSecs: 2.5 }), learner)).toBe(2_500);
    });

    it('no option and nothing learned: no limit', () => {
        expect(usesLimit(options(), undefined)).toBeUndefined();
        expect(ageLimitMs(options(), undefined)).toBeUndefined();
        expect(usesLimit(options(), new LifetimeLearner())).toBeUndefined();
        expect(ageLimitMs(options(), new LifetimeLearner())).toBeUndefined();
    });

    it('a learned age limit is 90 % of the earliest consistent expiry', () => {
        // Expiries at 10 s with uses spread out: the age is the rule, not the uses.
        const learner = new LifetimeLearner();
        for (const uses of [3, 9, 15, 21]) learner.record(uses, 10_000);
        expect(usesLimit(options(), learner)).toBeUndefined();
        expect(ageLimitMs(options(), learner)).toBe(9_000);
    });
});

describe('next-use time', () => {
    /** A random source that counts its draws. */
    function draws(value: number) {
        const source = {
            count: 0,
            random: () => {
                source.count++;
                return value;
            },
        };
        return source;
    }

    it.each([
        { delay: 2, randomize: false, value: 0.9, expected: NOW + 2_000, drawn: 0 },
        { delay: 2, randomize: true, value: 0, expected: NOW + 1_000, drawn: 1 },
        { delay: 2, randomize: true, value: 0.5, expected: NOW + 2_000, drawn: 1 },
        { delay: 2, randomize: true, value: 0.75, expected: NOW + 2_500, drawn: 1 },
        { delay: 0, randomize: true, value: 0.75, expected: NOW, drawn: 1 },
        { delay: 0.25, randomize: false, value: 0, expected: NOW + 250, drawn: 0 },
    ])(
        'delay $delay s, randomize $randomize, random $value: +$drawn draw',
        ({ delay, randomize, value, expected, drawn }) => {
            const source = draws(value);
            expect(nextUseAt(NOW, delay, randomize, source.random)).toBe(expected);
            expect(source.count).toBe(drawn);
        },
    );
});

describe('age and retirement', () => {
    it.each([
        { age: 9_999, limit: 10_000, lead: 0, past: false },
        { age: 10_000, limit: 10_000, lead: 0, past: true },
        { age: 9_000, limit: 10_000, lead: 999, past: false },
        { age: 9_000, limit: 10_000, lead: 1_000, past: true },
        { age: 1e12, limit: undefined, lead: 1e12, past: false },
    ])('aged $age ms, limit $limit, lead $lead: past $past', ({ age, limit, lead, past }) => {
        expect(isPastAge(NOW - age, NOW, limit, lead)).toBe(past);
    });

    it.each([
        { name: 'below both limits', uses: 4, age: 1_000, retires: false },
        { name: 'on the last allowed use', uses: 5, age: 1_000, retires: true },
        { name: 'past the last allowed use', uses: 6, age: 1_000, retires: true },
        { name: 'ageing out before a replacement could init', uses: 1, age: 8_500, retires: true },
        { name: 'ageing out just after a replacement could init', uses: 1, age: 8_499, retires: false },
    ])('$name: retires $retires', ({ uses, age, retires }) => {
        // Uses limit 5, age limit 10 s, inits take 1.5 s on average.
        expect(retiresAfterUse(uses, NOW - age, NOW, 5, 10_000, 1_500)).toBe(retires);
    });

    it('no limits: never retires', () => {
        expect(retiresAfterUse(1_000_000, NOW - 1e12, NOW, undefined, undefined, 1e12)).toBe(false);
    });
});

describe('init-time average', () => {
    it('starts at the first init time, then weighs each new one by a fifth', () => {
        let average = 0;
        average = averageInitMs(average, 1_000);
        expect(average).toBe(1_000);
        average = averageInitMs(average, 2_000);
        expect(average).toBe(1_200);
        average = averageInitMs(average, 200);
        expect(average).toBe(1_000);
    });
});

describe('learned lifetime in snapshots', () => {
    it('shows only once a limit is learned', () => {
        expect(learnedLifetime(undefined)).toBeUndefined();
        const learner = new LifetimeLearner();
        learner.record(20, 60_000);
        expect(learnedLifetime(learner)).toBeUndefined();
        expect(learnedLifetime(taught(20))).toEqual({ uses: 20, samples: 4 });
    });
});
