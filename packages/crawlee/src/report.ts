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

/** The end-of-crawl summary: stats and a per-pool table, as plain aligned text. */
export function formatSummary(
    stats: Record<string, number>,
    pools: PoolSnapshot[],
    closeReason: string | undefined,
): string {
    const lines: string[] = [`Managed sessions summary${closeReason ? ` (stopped: ${closeReason})` : ''}`];
    const global = Object.entries(stats).filter(([key]) => !key.startsWith('sessions/pools/'));
    if (global.length === 0) lines.push('  no session activity');
    const width = Math.max(0, ...global.map(([key]) => key.length));
    for (const [key, value] of global.sort(([a], [b]) => a.localeCompare(b))) {
        lines.push(`  ${key.padEnd(width)}  ${value}`);
    }
    if (pools.length > 0) {
        const rows = [['pool', 'size', 'ready', 'initializing', 'waiting', 'discarded']].concat(
            pools.map((p) => [p.id, p.size, p.ready, p.initializing, p.waiting, p.discarded].map(String)),
        );
        const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
        for (const row of rows) lines.push(`  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')}`);
    }
    return lines.join('\n');
}
