/** Median of a non-empty list. */
export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Runs each variant once per round, in alternating order, so that both sides of a comparison
 * see the same machine noise; returns every variant's samples.
 */
export async function alternate<K extends string>(
    rounds: number,
    variants: Record<K, () => Promise<number> | number>,
): Promise<Record<K, number[]>> {
    const keys = Object.keys(variants) as K[];
    const samples = Object.fromEntries(keys.map((key) => [key, [] as number[]])) as unknown as Record<K, number[]>;
    for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? keys : [...keys].reverse();
        for (const key of order) samples[key].push(await variants[key]());
    }
    return samples;
}

/** Prints an aligned table. */
export function printTable(title: string, rows: (string | number)[][]): void {
    const text = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? format(cell) : cell)));
    const widths = text[0]!.map((_, column) => Math.max(...text.map((row) => row[column]!.length)));
    console.log(`\n${title}`);
    for (const row of text) console.log(`  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')}`);
}

function format(value: number): string {
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(3);
}
