import type { PoolSnapshot } from '@managed-sessions/core';

/** One status line for the crawler's log: the busiest pools first. */
export function formatStatusLine(pools: PoolSnapshot[], limit = 8): string {
    if (pools.length === 0) return 'Sessions: no pool yet.';
    const shown = [...pools].sort((a, b) => b.ready + b.waiting - (a.ready + a.waiting)).slice(0, limit);
    const parts = shown.map(
        (p) =>
            `${p.id}: ${p.ready}/${p.size} ready, ${p.initializing} initializing, ${p.waiting} waiting, ${p.discarded} discarded`,
    );
    const more = pools.length > shown.length ? ` (+${pools.length - shown.length} more pools)` : '';
    return `Sessions: ${parts.join(' | ')}${more}`;
}

/** Pool rows in the end-of-crawl summary; the rest are counted in one line. */
export const MAX_SUMMARY_POOLS = 20;

function activity(pool: PoolSnapshot): number {
    return pool.ready + pool.initializing + pool.waiting + pool.discarded;
}

/** The lifetime a pool learned (`3 uses`, `120 s`, `3 uses, 120 s`), or `-`. */
function formatLifetime(lifetime: PoolSnapshot['lifetime']): string {
    const parts: string[] = [];
    if (lifetime?.uses !== undefined) parts.push(`${lifetime.uses} uses`);
    if (lifetime?.ageSecs !== undefined) parts.push(`${Math.round(lifetime.ageSecs)} s`);
    return parts.length > 0 ? parts.join(', ') : '-';
}

/**
 * The end-of-crawl summary: stats and a per-pool table (with the lifetime each pool learned), as
 * plain aligned text. At most `maxPools` pool rows, the most active first, then how many more.
 */
export function formatSummary(
    stats: Record<string, number>,
    pools: PoolSnapshot[],
    closeReason: string | undefined,
    maxPools = MAX_SUMMARY_POOLS,
): string {
    const lines: string[] = [`Managed sessions summary${closeReason ? ` (stopped: ${closeReason})` : ''}`];
    const global = Object.entries(stats).filter(([key]) => !key.startsWith('sessions/pools/'));
    if (global.length === 0) lines.push('  no session activity');
    const width = Math.max(0, ...global.map(([key]) => key.length));
    for (const [key, value] of global.sort(([a], [b]) => a.localeCompare(b))) {
        lines.push(`  ${key.padEnd(width)}  ${value}`);
    }
    if (pools.length > 0) {
        // The most active pools first; a crawl over thousands of hosts gets a bounded table.
        const shown = [...pools].sort((a, b) => activity(b) - activity(a)).slice(0, maxPools);
        const rows = [['pool', 'size', 'ready', 'initializing', 'waiting', 'discarded', 'lifetime']].concat(
            shown.map((p) =>
                [p.id, p.size, p.ready, p.initializing, p.waiting, p.discarded, formatLifetime(p.lifetime)].map(String),
            ),
        );
        const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
        for (const row of rows) {
            lines.push(`  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')}`.trimEnd());
        }
        if (pools.length > shown.length) lines.push(`  … and ${pools.length - shown.length} more pools`);
    }
    return lines.join('\n');
}
