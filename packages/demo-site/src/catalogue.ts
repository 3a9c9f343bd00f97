import { hash32 } from './random.js';

const ADJECTIVES = ['Sturdy', 'Elegant', 'Compact', 'Rustic', 'Vivid', 'Silent', 'Nimble', 'Cosy', 'Bold', 'Sleek'];
const NOUNS = ['Lamp', 'Kettle', 'Backpack', 'Chair', 'Notebook', 'Teapot', 'Blanket', 'Clock', 'Mug', 'Umbrella'];

/**
 * The display name of product `id` under `seed`, e.g. `Sturdy Lamp 12`.
 */
export function productName(seed: number, id: number): string {
    const h = hash32(seed, `name:${id}`);
    return `${ADJECTIVES[h % ADJECTIVES.length]} ${NOUNS[(h >>> 8) % NOUNS.length]} ${id}`;
}

/**
 * The price (USD, two decimals) of product `id` as the site shows it to a session whose postal
 * code is `postalCode` (`undefined`: no location set). Deterministic in `seed`; a postal code
 * always moves the price by 1 to 20 % up or down, never leaves it unchanged, so a test can tell
 * whether a location was applied.
 *
 * @example
 * ```ts
 * const expected = productPrice(site.seed, 12, '10001').toFixed(2); // what `<span id="price">` shows
 * ```
 */
export function productPrice(seed: number, id: number, postalCode?: string): number {
    const baseCents = 500 + (hash32(seed, `price:${id}`) % 49_500);
    if (postalCode === undefined) return baseCents / 100;
    const pick = hash32(seed, `postal:${postalCode}`) % 40;
    const percent = pick < 20 ? 80 + pick : 81 + pick; // 80..99 or 101..120
    return Math.round((baseCents * percent) / 100) / 100;
}
