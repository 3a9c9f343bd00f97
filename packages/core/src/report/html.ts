import { redact } from '../redact.js';
import type { PoolReportData, SessionRecord, SessionReportData, TimelineEnd } from './timeline.js';

/** The key (and file name) of the report in the crawler's default key-value store. */
export const SESSIONS_REPORT_KEY = 'SESSIONS_REPORT.html';

/** Colour and legend label of each way a session bar ends. */
export const END_STYLES: Readonly<Record<TimelineEnd, { color: string; label: string }>> = {
    'check-failed': { color: '#d62728', label: 'check failed' },
    'check-error': { color: '#9467bd', label: 'check error' },
    'download-errors': { color: '#ff7f0e', label: 'download errors' },
    expired: { color: '#1f77b4', label: 'planned expiry' },
    'retired-by-crawler': { color: '#8c564b', label: 'retired by crawler' },
    'discarded-elsewhere': { color: '#7f7f7f', label: 'discarded by another process' },
    closed: { color: '#bcbd22', label: 'closed' },
    alive: { color: '#2ca02c', label: 'still alive at the end' },
};
const INIT_COLOR = '#c7c7c7';

/** Escapes text for HTML content and attribute values alike. */
export function escapeHtml(value: unknown): string {
    return String(value).replace(
        /[&<>"']/g,
        (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
    );
}

/** Text from outside (pool ids come from URLs and `userData`): credentials removed, then escaped. */
function text(value: string): string {
    return escapeHtml(redact(value));
}

function endStyle(reason: string): { key: string; color: string; label: string } {
    const style = END_STYLES[reason as TimelineEnd];
    return style ? { key: reason, ...style } : { key: 'other', color: '#444444', label: 'other' };
}

function ms(value: number): string {
    return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

function secs(value: number): string {
    return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`;
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 6px;word-break:break-all}
.meta{color:#666;margin:0 0 12px}
table{border-collapse:collapse;margin:6px 0 10px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f5f5f5}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;list-style:none;padding:0;margin:8px 0 16px}
.legend li{display:flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:14px;height:10px;border:1px solid rgba(0,0,0,.2)}
svg.timeline{display:block;max-width:100%;height:auto;border:1px solid #eee;background:#fcfcfc}
svg text{font:10px system-ui,sans-serif;fill:#333}svg .axis{stroke:#ccc}svg text.uses{fill:#fff}
.empty{color:#888;font-style:italic}
`;

const WIDTH = 960;
const LEFT = 16;
const RIGHT = 16;
const TOP = 8;
const AXIS = 22;

/**
 * The session report as one self-contained HTML page: inline CSS and SVG, no script, nothing
 * fetched when viewed. Per pool: a timeline with one bar per session (its init in grey, then its
 * life coloured by how it ended, with the requests it carried), init cost, waiting time, and a
 * stats table. Holds session and pool ids and counts only: no cookie, no proxy URL.
 */
export function renderSessionReport(data: SessionReportData, title = 'Managed sessions report'): string {
    const sessions = data.pools.flatMap((pool) => pool.sessions);
    const start = Math.min(data.generatedAt, ...sessions.map((s) => s.initStartAt));
    const end = Math.max(data.generatedAt, ...sessions.map((s) => s.endAt ?? s.readyAt));
    const span = Math.max(1, end - start);
    const reasons = new Map<string, number>();
    for (const s of sessions) reasons.set(endStyle(s.endReason).key, (reasons.get(endStyle(s.endReason).key) ?? 0) + 1);

    const legend = [...Object.keys(END_STYLES), ...(reasons.has('other') ? ['other'] : [])]
        .map((reason) => {
            const style = endStyle(reason);
            return `<li class="legend-item" data-reason="${style.key}"><span class="swatch" style="background:${style.color}"></span>${escapeHtml(style.label)} <span class="count">(${reasons.get(style.key) ?? 0})</span></li>`;
        })
        .concat(
            `<li class="legend-item" data-reason="init"><span class="swatch" style="background:${INIT_COLOR}"></span>initialising</li>`,
        )
        .join('');

    const globalStats = Object.entries(data.stats)
        .filter(([key]) => !key.startsWith('sessions/pools/'))
        .sort(([a], [b]) => a.localeCompare(b));
    const parts = [
        '<!DOCTYPE html>',
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        `<title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>`,
        `<h1>${escapeHtml(title)}</h1>`,
        `<p class="meta">Generated ${escapeHtml(new Date(data.generatedAt).toISOString())}; ` +
            `${data.pools.length} pool(s), ${sessions.length} session(s) over ${secs(span)}` +
            (data.closeReason ? `; the sessions stopped the crawl: <strong>${text(data.closeReason)}</strong>` : '') +
            (data.droppedSessions > 0 ? `; the ${data.droppedSessions} oldest sessions are left out` : '') +
            ((data.omittedPools ?? 0) > 0 ? `; ${data.omittedPools} less active pool(s) are left out` : '') +
            '.</p>',
        `<ul class="legend">${legend}</ul>`,
        globalStats.length > 0
            ? `<table class="stats global-stats"><thead><tr><th>stat</th><th>value</th></tr></thead><tbody>${globalStats
                  .map(([key, value]) => `<tr><td>${text(key)}</td><td class="num">${value}</td></tr>`)
                  .join('')}</tbody></table>`
            : '<p class="empty">No session activity.</p>',
        ...data.pools.map((pool, index) => renderPool(pool, index, start, span)),
        '</body></html>',
    ];
    return `${parts.join('\n')}\n`;
}

function renderPool(pool: PoolReportData, index: number, start: number, span: number): string {
    const t = pool.totals;
    const inits = t.initsPassed + t.initsFailed;
    const uses = pool.sessions.reduce((sum, s) => sum + s.uses, 0);
    const rows: [string, string, string][] = [
        ['size', 'target size', pool.size === undefined ? '–' : String(pool.size)],
        ['sessions', 'sessions', String(t.sessions)],
        ['requests', 'requests carried', String(uses)],
        ['inits-passed', 'inits passed', String(t.initsPassed)],
        ['inits-failed', 'inits failed', String(t.initsFailed)],
        ['init-avg', 'init time, average', t.initsPassed ? ms(t.initMsTotal / t.initsPassed) : '–'],
        ['init-max', 'init time, longest', t.initsPassed ? ms(t.initMsMax) : '–'],
        ['init-total', 'init time, total (failed inits too)', ms(t.initMsTotal + t.failedInitMsTotal)],
        ['acquires', 'requests given a session', String(t.acquires)],
        ['wait-total', 'waiting for a session, total', ms(t.waitMsTotal)],
        ['wait-avg', 'waiting for a session, average', t.acquires ? ms(t.waitMsTotal / t.acquires) : '–'],
        ['wait-max', 'waiting for a session, longest', ms(t.waitMsMax)],
        ...Object.entries(t.ended).map(([reason, n]): [string, string, string] => [
            `ended-${endStyle(reason).key}`,
            `ended: ${endStyle(reason).label}`,
            String(n),
        ]),
    ];
    const table = `<table class="stats pool-stats"><tbody>${rows
        .map(
            ([key, label, value]) =>
                `<tr data-stat="${key}"><th>${escapeHtml(label)}</th><td class="num">${value}</td></tr>`,
        )
        .join('')}</tbody></table>`;
    const failed = inits > 0 ? ` (${Math.round((100 * t.initsFailed) / inits)}% of inits failed)` : '';
    return [
        `<section class="pool" data-pool="${text(pool.id)}" id="pool-${index}">`,
        `<h2>Pool ${text(pool.id)}</h2>`,
        `<p class="meta">${t.sessions} sessions carried ${uses} requests${failed}.</p>`,
        renderTimeline(pool.sessions, start, span),
        table,
        '</section>',
    ].join('\n');
}

/** Sessions packed into lanes (a lane holds sessions that do not overlap), one bar each. */
function renderTimeline(sessions: SessionRecord[], start: number, span: number): string {
    if (sessions.length === 0) return '<p class="empty">No session in this pool.</p>';
    const lanes: number[] = [];
    const laneOf = sessions.map((s) => {
        const end = s.endAt ?? start + span;
        let lane = lanes.findIndex((free) => free <= s.initStartAt);
        if (lane < 0) lane = lanes.push(0) - 1;
        lanes[lane] = end + span * 0.002;
        return lane;
    });
    const laneHeight = lanes.length <= 40 ? 16 : lanes.length <= 150 ? 8 : 4;
    const barHeight = laneHeight - (laneHeight >= 8 ? 3 : 1);
    const plot = WIDTH - LEFT - RIGHT;
    const x = (at: number) => LEFT + ((at - start) / span) * plot;
    const height = TOP + lanes.length * laneHeight + AXIS;
    const out: string[] = [
        `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img">`,
    ];
    const axisY = TOP + lanes.length * laneHeight + 2;
    out.push(`<line class="axis" x1="${LEFT}" y1="${axisY}" x2="${WIDTH - RIGHT}" y2="${axisY}"/>`);
    const step = tickStep(span);
    for (let at = 0; at <= span + 1e-9; at += step) {
        const px = x(start + at).toFixed(1);
        out.push(
            `<line class="axis" x1="${px}" y1="${TOP}" x2="${px}" y2="${axisY + 3}"/>`,
            `<text x="${px}" y="${axisY + 14}" text-anchor="middle">${formatTick(at, step)}</text>`,
        );
    }
    sessions.forEach((s, i) => {
        const y = TOP + laneOf[i]! * laneHeight;
        const end = s.endAt ?? start + span;
        const style = endStyle(s.endReason);
        const x0 = x(s.initStartAt);
        const x1 = x(s.readyAt);
        const x2 = Math.max(x(end), x1 + 1);
        const tip =
            `session ${s.sessionId}: ${style.label}, ${s.uses} request${s.uses === 1 ? '' : 's'}` +
            (s.restored ? ', restored' : `, init ${ms(s.readyAt - s.initStartAt)}`) +
            `, in rotation ${secs(end - s.readyAt)}`;
        out.push(`<g class="session-bar" data-session="${text(s.sessionId)}" data-reason="${style.key}">`);
        if (x1 - x0 >= 0.5) {
            out.push(
                `<rect class="init" x="${x0.toFixed(1)}" y="${y}" width="${(x1 - x0).toFixed(1)}" height="${barHeight}" fill="${INIT_COLOR}"/>`,
            );
        }
        out.push(
            `<rect class="session reason-${style.key}" data-uses="${s.uses}" x="${x1.toFixed(1)}" y="${y}" width="${(x2 - x1).toFixed(1)}" height="${barHeight}" fill="${style.color}"><title>${text(tip)}</title></rect>`,
        );
        const label = String(s.uses);
        if (laneHeight >= 16 && x2 - x1 >= label.length * 6 + 4) {
            out.push(`<text class="uses" x="${(x1 + 3).toFixed(1)}" y="${y + barHeight - 3}">${label}</text>`);
        }
        out.push('</g>');
    });
    out.push('</svg>');
    return out.join('\n');
}

/** A round tick interval giving at most ~10 ticks over `span` ms. */
function tickStep(span: number): number {
    const steps = [100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000];
    for (const step of steps) if (span / step <= 10) return step;
    let step = 1_800_000;
    while (span / step > 10) step *= 2;
    return step;
}

function formatTick(at: number, step: number): string {
    if (step < 1_000) return `${(at / 1000).toFixed(1)}s`;
    if (step < 60_000) return `${Math.round(at / 1000)}s`;
    return `${Math.round(at / 60_000)}m`;
}
