/** Every stat the engine counts, without the `sessions/` prefix. */
export const STAT_NAMES = [
    'init/check-passed',
    'init/check-failed',
    'init/check-error',
    'init/param-error',
    'init/failed',
    'use/check-passed',
    'use/check-failed',
    'use/check-error',
    'use/failed',
    'use/expired',
    'use/disabled',
] as const;

/** One stat name, e.g. `init/check-passed`. */
export type StatName = (typeof STAT_NAMES)[number];

/** The counter key of each stat, built once: a key built per count cost a string per request. */
const KEYS = Object.fromEntries(STAT_NAMES.map((name) => [name, `sessions/${name}`])) as Record<StatName, string>;

/**
 * Session stats as flat counters (`sessions/init/check-passed`, …), optionally also per pool
 * (`sessions/pools/{pool}/init/check-passed`).
 */
export class SessionStats {
    readonly #perPool: boolean;
    readonly #counts: Record<string, number> = {};

    constructor(perPool: boolean) {
        this.#perPool = perPool;
    }

    /** Adds one to `name`, and to its per-pool twin when `statsPerPool` is on. */
    increment(name: StatName, pool: string | undefined): void {
        const key = KEYS[name];
        this.#counts[key] = (this.#counts[key] ?? 0) + 1;
        if (this.#perPool && pool !== undefined) {
            const poolKey = `sessions/pools/${pool}/${name}`;
            this.#counts[poolKey] = (this.#counts[poolKey] ?? 0) + 1;
        }
    }

    /** Continues counting from a saved snapshot (restored state). */
    restore(saved: Record<string, number>): void {
        for (const [key, value] of Object.entries(saved)) {
            if (key.startsWith('sessions/') && Number.isFinite(value)) this.#counts[key] = value;
        }
    }

    /** A copy of the counters; stats never counted are absent. */
    snapshot(): Record<string, number> {
        return { ...this.#counts };
    }
}
