/** ` (did you mean `x`?)` for the known key closest to `key` (edit distance ≤ 2), or `''`. */
export function suggest(key: string, knownKeys: readonly string[]): string {
    let best: string | undefined;
    let bestDistance = 3;
    for (const known of knownKeys) {
        const distance = editDistance(key.toLowerCase(), known.toLowerCase());
        if (distance < bestDistance) {
            best = known;
            bestDistance = distance;
        }
    }
    return best ? ` (did you mean \`${best}\`?)` : '';
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let previous = row[0]!;
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const current = row[j]!;
            row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
            previous = current;
        }
    }
    return row[b.length]!;
}
