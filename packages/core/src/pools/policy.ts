import { type LearnedLifetime, LifetimeLearner } from './lifetime.js';

/**
 * The rotation policy every pool backend follows (the in-memory `Pool` and the shared
 * `SharedPool`): when a session is next due, when it retires, how long an init takes, when a
 * pool learns its sessions' lifetime. Pure decisions on plain inputs (clock times in ms, options,
 * counters), so the backends differ only in where their state lives, and a rule is fixed once.
 */

/** The options that set a pool's session lifetime (the manager's `PoolHost` carries them). */
export interface LifetimeOptions {
    maxUsageCount: number | undefined;
    maxAgeSecs: number | undefined;
    /** Learn the lifetime from expiries; an explicit limit above wins, so nothing is learned then. */
    adaptiveLifetime: boolean;
}

/** A pool's lifetime learner: with `adaptiveLifetime` and no explicit limit, else `undefined`. */
export function lifetimeLearner(options: LifetimeOptions): LifetimeLearner | undefined {
    const explicit = options.maxUsageCount !== undefined || options.maxAgeSecs !== undefined;
    return options.adaptiveLifetime && !explicit ? new LifetimeLearner() : undefined;
}

/** Retire at this many uses: `maxUsageCount`, else the learned limit, if any. */
export function usesLimit(options: LifetimeOptions, learner: LifetimeLearner | undefined): number | undefined {
    return options.maxUsageCount ?? learner?.usesLimit;
}

/** Retire at this age (ms): `maxAgeSecs`, else the learned limit, if any. */
export function ageLimitMs(options: LifetimeOptions, learner: LifetimeLearner | undefined): number | undefined {
    return options.maxAgeSecs !== undefined ? options.maxAgeSecs * 1000 : learner?.ageLimitMs;
}

/**
 * When a session assigned at `now` may be assigned again: `delaySecs` later, times a factor in
 * [0.5, 1.5) with `randomizeDelay` (`random` is drawn only then, once).
 */
export function nextUseAt(now: number, delaySecs: number, randomizeDelay: boolean, random: () => number): number {
    const factor = randomizeDelay ? 0.5 + random() : 1;
    return now + delaySecs * factor * 1000;
}

/** Whether a session created at `createdAt` has reached `ageLimitMs` by `leadMs` after `now`. */
export function isPastAge(createdAt: number, now: number, ageLimitMs: number | undefined, leadMs: number): boolean {
    return ageLimitMs !== undefined && now + leadMs - createdAt >= ageLimitMs;
}

/**
 * Whether a session just assigned for the `uses`-th time retires with this attempt: on its last
 * allowed use, or when it would age out before a new one is ready (`initMsAverage` from now), so its
 * replacement initialises while the attempt runs.
 */
export function retiresAfterUse(
    uses: number,
    createdAt: number,
    now: number,
    usesLimit: number | undefined,
    ageLimitMs: number | undefined,
    initMsAverage: number,
): boolean {
    return (usesLimit !== undefined && uses >= usesLimit) || isPastAge(createdAt, now, ageLimitMs, initMsAverage);
}

/** The running average of init times after one that took `tookMs` (`average` 0: none yet). */
export function averageInitMs(average: number, tookMs: number): number {
    return average === 0 ? tookMs : average * 0.8 + tookMs * 0.2;
}

/** A pool's learned lifetime for its snapshot: only once a limit is learned (samples alone change nothing). */
export function learnedLifetime(learner: LifetimeLearner | undefined): LearnedLifetime | undefined {
    const learned = learner?.snapshot();
    return learned && (learned.uses !== undefined || learned.ageSecs !== undefined) ? learned : undefined;
}
