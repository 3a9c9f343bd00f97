/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self and inclusive time per function, and
 * self time per file, as shares of all samples.
 *
 *     node --cpu-prof --cpu-prof-dir=/tmp/prof --conditions=@managed-sessions/source --import tsx bench/main.ts --only engine
 *     node --import tsx bench/profile-summary.ts /tmp/prof/CPU.….cpuprofile [--top 30] [--filter packages/]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
}

export interface Profile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
}

export interface FunctionCost {
    name: string;
    /** Share of all sampled time spent in the function itself, in %. */
    selfPct: number;
    /** Share of all sampled time with the function on the stack, in %. */
    totalPct: number;
}

export interface ProfileSummary {
    totalMs: number;
    functions: FunctionCost[];
    files: { file: string; selfPct: number }[];
}

function shortUrl(url: string): string {
    if (url === '') return '(native)';
    const path = url.replace(/^file:\/\//, '');
    const pnpm = path.lastIndexOf('/node_modules/');
    if (pnpm >= 0) return path.slice(pnpm + '/node_modules/'.length);
    const work = path.indexOf('/packages/');
    if (work >= 0) return path.slice(work + 1);
    return path.replace(/^.*\/(bench|examples|test)\//, '$1/');
}

/** A function's name as the summaries show it: `name file:line`. */
function functionKey(node: ProfileNode): string {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
}

/** Self time per function in µs (the garbage collector and the VM show as functions too). */
export function selfTimes(profile: Profile): Map<string, number> {
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const self = new Map<string, number>();
    profile.samples.forEach((id, i) => {
        const name = functionKey(byId.get(id)!);
        self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
    return self;
}

export function summarise(profile: Profile): ProfileSummary {
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const selfTime = new Map<number, number>();
    let total = 0;
    profile.samples.forEach((id, i) => {
        const delta = profile.timeDeltas[i] ?? 0;
        selfTime.set(id, (selfTime.get(id) ?? 0) + delta);
        total += delta;
    });
    const key = functionKey;
    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    const files = new Map<string, number>();
    for (const [id, time] of selfTime) {
        const node = byId.get(id)!;
        self.set(key(node), (self.get(key(node)) ?? 0) + time);
        const file = shortUrl(node.callFrame.url);
        files.set(file, (files.get(file) ?? 0) + time);
        // Inclusive: count the sample once for every distinct function on its stack.
        const seen = new Set<string>();
        for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
            const name = key(byId.get(current)!);
            if (seen.has(name)) continue;
            seen.add(name);
            inclusive.set(name, (inclusive.get(name) ?? 0) + time);
        }
    }
    const pct = (time: number) => (100 * time) / Math.max(1, total);
    return {
        totalMs: total / 1000,
        functions: [...inclusive.keys()]
            .map((name) => ({ name, selfPct: pct(self.get(name) ?? 0), totalPct: pct(inclusive.get(name)!) }))
            .sort((a, b) => b.selfPct - a.selfPct),
        files: [...files].map(([file, time]) => ({ file, selfPct: pct(time) })).sort((a, b) => b.selfPct - a.selfPct),
    };
}

if (import.meta.url === `file://${process.argv[1]}`) {
    const { values, positionals } = parseArgs({
        allowPositionals: true,
        options: {
            top: { type: 'string', default: '25' },
            filter: { type: 'string' },
            inclusive: { type: 'boolean', default: false },
        },
    });
    const top = Number(values.top);
    for (const file of positionals) {
        const summary = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile);
        const keep = (name: string) => values.filter === undefined || name.includes(values.filter);
        console.log(`\n${file}: ${summary.totalMs.toFixed(0)} ms sampled`);
        const functions = values.inclusive
            ? [...summary.functions].sort((a, b) => b.totalPct - a.totalPct)
            : summary.functions;
        console.log('  self%  total%  function');
        for (const f of functions.filter((f) => keep(f.name)).slice(0, top)) {
            console.log(`  ${f.selfPct.toFixed(1).padStart(5)}  ${f.totalPct.toFixed(1).padStart(6)}  ${f.name}`);
        }
        console.log('  self%  file');
        for (const f of summary.files.filter((f) => keep(f.file)).slice(0, top)) {
            console.log(`  ${f.selfPct.toFixed(1).padStart(5)}  ${f.file}`);
        }
    }
}
