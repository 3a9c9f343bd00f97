/** What a pool has learned about how long the site honours its sessions. */
export interface LearnedLifetime {
    /** Successful uses after which the site expires a session; sessions retire at this many uses. */
    uses?: number;
    /** Seconds after which the site expires a session; sessions retire a little before. */
    ageSecs?: number;
    /** Expiries observed (first failed use-check of a session). */
    samples: number;
}

/** Expiry samples kept per pool; old ones fall out so a changed site is relearned. */
const WINDOW = 24;
/** Fewer samples than this prove nothing. */
const MIN_SAMPLES = 4;
/** Share of samples that must agree (within the tolerance) for a lifetime to count as consistent. */
const AGREEMENT = 0.6;
/** Samples within this share of the median agree. */
const TOLERANCE = 0.1;
/** Ages below this say nothing about the site (and would retire sessions as fast as they init). */
const MIN_AGE_MS = 1_000;
/** Age-based retirement keeps this margin before the earliest consistent expiry. */
const AGE_MARGIN = 0.9;

/**
 * Learns a pool's session lifetime from observed expiries: the successful uses and the age at
 * which a session's use-check first failed. A lifetime is adopted only when most samples agree
 * (within 10 % of their median); random bans spread samples out and are ignored as outliers, or,
 * when expiries look random overall, nothing is learned and sessions are replaced on failure as
 * before. The limit is the smallest agreeing sample, so sessions retire just before the site
 * would expire them.
 */
export class LifetimeLearner {
    readonly #uses: number[] = [];
    readonly #ages: number[] = [];
    #total = 0;
    #learned: { uses?: number; ageMs?: number } = {};

    /** Records one expiry: `uses` successful uses before it, at `ageMs` after the session's init. */
    record(uses: number, ageMs: number): void {
        this.#total++;
        push(this.#uses, uses);
        push(this.#ages, ageMs);
        this.#learn();
    }

    /** Retire at this many uses, if learned. */
    get usesLimit(): number | undefined {
        return this.#learned.uses;
    }

    /** Retire at this age (ms), if learned. */
    get ageLimitMs(): number | undefined {
        return this.#learned.ageMs;
    }

    snapshot(): LearnedLifetime {
        const { uses, ageMs } = this.#learned;
        return {
            ...(uses !== undefined ? { uses } : {}),
            ...(ageMs !== undefined ? { ageSecs: Math.round(ageMs / 100) / 10 } : {}),
            samples: this.#total,
        };
    }

    #learn(): void {
        const byUses = agreeing(this.#uses);
        const byAge = agreeing(this.#ages);
        // Both agree when uses come at a steady rate: trust the tighter one, which is the site's rule.
        if (byUses && (!byAge || byUses.spread <= byAge.spread)) {
            // A session that expired after 0 uses never worked: nothing to retire ahead of.
            this.#learned = byUses.min >= 1 ? { uses: byUses.min } : {};
        } else if (byAge && byAge.min >= MIN_AGE_MS) {
            this.#learned = { ageMs: byAge.min * AGE_MARGIN };
        } else {
            this.#learned = {};
        }
    }
}

function push(window: number[], value: number): void {
    window.push(value);
    if (window.length > WINDOW) window.shift();
}

/** The agreeing cluster around the median, if most samples are in it. */
function agreeing(samples: readonly number[]): { min: number; spread: number } | undefined {
    if (samples.length < MIN_SAMPLES) return undefined;
    const sorted = [...samples].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const tolerance = Math.max(1, median * TOLERANCE);
    const cluster = sorted.filter((value) => Math.abs(value - median) <= tolerance);
    if (cluster.length / sorted.length < AGREEMENT) return undefined;
    const min = cluster[0]!;
    const max = cluster[cluster.length - 1]!;
    return { min, spread: median > 0 ? (max - min) / median : Number.POSITIVE_INFINITY };
}
