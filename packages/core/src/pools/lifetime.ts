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
/** A cluster spans this share of its lowest sample (at least {@link MIN_USES_WIDTH} uses). */
const WIDTH = 0.2;
const MIN_USES_WIDTH = 2;
/**
 * A cluster this likely (or likelier) under memoryless expiries, i.e. random bans, is chance. Random
 * bans give geometric lifetimes; a site rule gives a spike that random bans can only cut short.
 * Simulated with 5 % bans per page, 400 pools of 150 expiries each: one adopted a limit; with a
 * fixed lifetime of 20 ± 1 uses among the same bans, all 400 did. It still adopts 4 identical
 * expiries, or 3 of 4.
 */
const MAX_CHANCE = 3e-5;
/** The estimated saving in requests per page a limit must bring before sessions retire early. */
const MIN_GAIN = 0.005;
/** Ages below this say nothing about the site (and would retire sessions as fast as they init). */
const MIN_AGE_MS = 1_000;
/** Age-based retirement keeps this margin before the earliest consistent expiry. */
const AGE_MARGIN = 0.9;

interface Sample {
    uses: number;
    ageMs: number;
}

/**
 * Learns a pool's session lifetime from observed expiries: the successful uses and the age at
 * which a session's use-check first failed. Retiring sessions early costs inits and only pays when
 * the site really has a rule, so a limit is adopted only when three tests agree:
 *
 * 1. a tight cluster of samples (within 20 % of its lowest, or 2 uses) holds at least 3 of them and
 *    a quarter of the window;
 * 2. that cluster is very unlikely under random bans: with a fixed chance per page, lifetimes are
 *    geometric (memoryless) with the samples' mean, and the cluster's count is checked against the
 *    binomial tail of that distribution (a site rule is a spike; random bans only cut it short);
 * 3. replaying the samples with sessions retired at the limit costs fewer requests per page
 *    (one init request per session, one wasted request per expiry) than replacing on failure.
 *
 * Otherwise nothing is learned and sessions are replaced on failure as before. The limit is the
 * cluster's lowest sample, so sessions retire just before the site would expire them.
 */
export class LifetimeLearner {
    readonly #samples: Sample[] = [];
    #total = 0;
    #learned: { uses?: number; ageMs?: number } = {};
    /** Samples recorded when the current limit was last found in them. */
    #confirmedAt = 0;

    /** Records one expiry: `uses` successful uses before it, at `ageMs` after the session's init. */
    record(uses: number, ageMs: number): void {
        this.#total++;
        this.#samples.push({ uses, ageMs });
        if (this.#samples.length > WINDOW) this.#samples.shift();
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
        const found = this.#find();
        if (found) {
            this.#learned = found;
            this.#confirmedAt = this.#total;
        } else if (this.#total - this.#confirmedAt >= WINDOW) {
            // While sessions retire at the limit, only expiries below it are seen (random bans), and
            // they push the cluster out of the window. Keep the limit for a window's worth of them, then
            // let sessions reach the site's expiry again: that relearns a rule and drops a fluke.
            this.#learned = {};
        }
    }

    #find(): { uses?: number; ageMs?: number } | undefined {
        const samples = this.#samples;
        if (samples.length < MIN_SAMPLES) return undefined;
        const uses = samples.map((s) => s.uses);
        const ages = samples.map((s) => s.ageMs);
        // A session that expired after 0 uses never worked: nothing to retire ahead of.
        const byUses = spike(uses, true, 1);
        const usesGain = byUses === undefined ? 0 : gain(samples, (s) => (s.uses < byUses ? undefined : byUses));
        const byAge = spike(ages, false, MIN_AGE_MS);
        const ageLimit = byAge === undefined ? undefined : byAge * AGE_MARGIN;
        // Uses passed before the age limit, at the session's own steady rate.
        const ageGain =
            ageLimit === undefined
                ? 0
                : gain(samples, (s) => (s.ageMs < ageLimit ? undefined : (s.uses * ageLimit) / s.ageMs));
        // Both hold when uses come at a steady rate: take the one that saves more, which is the site's rule.
        if (byUses !== undefined && usesGain >= MIN_GAIN && usesGain >= ageGain) return { uses: byUses };
        if (ageLimit !== undefined && ageGain >= MIN_GAIN) return { ageMs: ageLimit };
        return undefined;
    }
}

/**
 * The lowest value of the least-likely-by-chance cluster of `values`, if that cluster is large and
 * unlikely under a memoryless (geometric or exponential) distribution with their mean. Every
 * cluster from one sample to another at most {@link WIDTH} above it is tried, so the smallest chance
 * is multiplied by the number tried (Bonferroni): searching many clusters must not find one by luck.
 */
function spike(values: readonly number[], discrete: boolean, floor: number): number | undefined {
    const sorted = [...values].sort((a, b) => a - b);
    const n = sorted.length;
    const mean = sorted.reduce((total, value) => total + value, 0) / n;
    if (!(mean > 0)) return undefined;
    let best: { low: number; chance: number } | undefined;
    let tried = 0;
    for (let i = 0; i < n; i++) {
        const low = sorted[i]!;
        if (low < floor || (i > 0 && sorted[i - 1] === low)) continue;
        const widest = low + (discrete ? Math.max(MIN_USES_WIDTH, Math.floor(low * WIDTH)) : low * WIDTH);
        for (let j = i + MIN_SAMPLES - 2; j < n && sorted[j]! <= widest; j++) {
            const high = sorted[j]!;
            if (j + 1 < n && sorted[j + 1] === high) continue; // the cluster takes every sample equal to its top
            const count = j - i + 1;
            if (count < MIN_SAMPLES - 1 || count < n / 4) continue;
            tried++;
            const chance = binomialTail(n, count, memorylessMass(low, high, mean, discrete));
            if (!best || chance < best.chance) best = { low, chance };
        }
    }
    return best && best.chance * tried <= MAX_CHANCE ? best.low : undefined;
}

/** P(low ≤ X ≤ high) for X geometric on 0, 1, 2, … (discrete) or exponential, with mean `mean`. */
function memorylessMass(low: number, high: number, mean: number, discrete: boolean): number {
    if (discrete) {
        const q = mean / (mean + 1);
        return q ** low - q ** (high + 1);
    }
    return Math.exp(-low / mean) - Math.exp(-high / mean);
}

/** P(K ≥ k) for K binomial(n, p). */
function binomialTail(n: number, k: number, p: number): number {
    let total = 0;
    if (p >= 1) return 1;
    let term = (1 - p) ** n; // P(K = 0)
    for (let j = 0; j <= n; j++) {
        if (j >= k) total += term;
        term *= ((n - j) / (j + 1)) * (p / (1 - p));
    }
    return Math.min(1, total);
}

/**
 * The share of requests per page saved by retiring sessions early, replaying the samples: each
 * session costs one init request, its pages, and one wasted request if it expired on the site;
 * `retiredAfter(s)` is how many pages it serves when the limit retires it first, `undefined` when
 * the site expires it before the limit.
 */
function gain(samples: readonly Sample[], retiredAfter: (sample: Sample) => number | undefined): number {
    let pages = 0;
    let requests = 0;
    let limitedPages = 0;
    let limitedRequests = 0;
    for (const sample of samples) {
        pages += sample.uses;
        requests += 1 + sample.uses + 1;
        const retired = retiredAfter(sample);
        const served = retired ?? sample.uses;
        limitedPages += served;
        limitedRequests += 1 + served + (retired === undefined ? 1 : 0);
    }
    if (pages === 0 || limitedPages === 0) return 0;
    return 1 - limitedRequests / limitedPages / (requests / pages);
}
