/**
 * A small seeded PRNG (mulberry32): fast, 32-bit state, good enough for reproducible demo
 * behaviour. Returns floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
}

/**
 * A stable 32-bit hash of `key` under `seed` (FNV-1a, then a murmur3 finaliser so nearby keys
 * such as `product:1` and `product:2` land far apart). Used for values that must not depend on
 * the order of requests, such as prices.
 */
export function hash32(seed: number, key: string): number {
    let h = (0x811c9dc5 ^ seed) >>> 0;
    for (let i = 0; i < key.length; i++) {
        h ^= key.charCodeAt(i);
        h = Math.imul(h, 0x01000193);
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
}
