/**
 * Diagnostic for benchmark 1 (not part of `pnpm bench`): the bytes benchmark 1's loop (acquire +
 * check + release) allocates per op, by allocating function, from V8's sampling heap profiler with
 * collected objects kept in the samples. Garbage matters at 10,000 pools: every byte allocated streams
 * through the caches and evicts the pools the next requests need (bench/README.md, engine cost).
 *
 *   node --conditions=@managed-sessions/source --import tsx bench/alloc-profile.ts [--pools 1] [--top 20]
 *
 * Add `--no-turbo-inlining` before `--import` to see inlined callees apart from their callers.
 */
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { filledManager, measureOps } from './engine-cost.js';

const OPS = 100_000;
/** Bytes between samples: small, so a few bytes per op still show. */
const SAMPLING_INTERVAL = 256;

interface HeapNode {
    callFrame: { functionName: string; url: string; lineNumber: number };
    selfSize: number;
    children: HeapNode[];
}

const { values } = parseArgs({
    options: {
        pools: { type: 'string', default: '1' },
        top: { type: 'string', default: '20' },
    },
});
const pools = Number(values.pools);
const top = Number(values.top);
if (!Number.isInteger(pools) || pools < 1)
    throw new Error(`--pools must be a whole number >= 1, got '${values.pools}'`);
if (!Number.isInteger(top) || top < 1) throw new Error(`--top must be a whole number >= 1, got '${values.top}'`);

const filled = await filledManager(pools);
// Warm-up: the JIT settles before anything is sampled.
await measureOps(filled, OPS);
const inspector = new Session();
inspector.connect();
await inspector.post('HeapProfiler.startSampling', {
    samplingInterval: SAMPLING_INTERVAL,
    includeObjectsCollectedByMinorGC: true,
    includeObjectsCollectedByMajorGC: true,
});
await measureOps(filled, OPS);
const { profile } = (await inspector.post('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } };
inspector.disconnect();
filled.manager.close();
await filled.manager.dispose();

/** Bytes by "function < caller < caller's caller". */
const bySite = new Map<string, number>();
let total = 0;
const frameName = ({ functionName, url, lineNumber }: HeapNode['callFrame']) =>
    `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
const walk = (node: HeapNode, callers: string[]) => {
    const stack = [frameName(node.callFrame), ...callers];
    if (node.selfSize > 0) {
        const site = stack.slice(0, 3).join(' < ');
        bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
        total += node.selfSize;
    }
    for (const child of node.children) walk(child, stack);
};
walk(profile.head, []);

console.log(`${pools} pool(s): ${(total / OPS).toFixed(0)} bytes allocated per op (sampled over ${OPS} ops)`);
console.log('  B/op  allocated in < called by < …');
for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(bytes / OPS).toFixed(0).padStart(6)}  ${site}`);
}
