/**
 * Diagnostic for benchmark 1's pools ratio (not part of `pnpm bench`): in ONE process holding 10,000
 * full pools, the engine's ops/s when the same 10,000 requests spread over 1, 100, 1,000 or all
 * 10,000 pools, next to a "floor" loop doing what any per-host pool must (parse the URL, one `Map`
 * lookup by host, touch the pool and one session) on compact objects. Same heap, same requests:
 * what changes is only how many pools' objects a run of requests touches.
 *
 *   node --conditions=@managed-sessions/source --import tsx bench/pool-locality.ts
 */
import { Request } from '@crawlee/core';
import { filledManager, measureOps } from './engine-cost.js';
import { median } from './stats.js';

const POOLS = 10_000;
const SPREADS = [1, 100, 1_000, 10_000];
const ROUNDS = 5;
const OPS = 200_000;

interface FloorSession {
    inFlight: number;
    uses: number;
}
interface FloorPool {
    busy: number;
    head: FloorSession;
    sessions: FloorSession[];
}

/** The floor loop over `requests`: URL parse, host lookup, pool and session touched. */
function floorOps(pools: Map<string, FloorPool>, requests: Request[], ops: number): number {
    const started = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) {
        const pool = pools.get(new URL(requests[i % requests.length]!.url).hostname)!;
        pool.busy++;
        const session = pool.head;
        session.inFlight++;
        session.uses++;
        pool.head = pool.sessions[session.uses % pool.sessions.length]!;
        session.inFlight--;
        pool.busy--;
    }
    return ops / (Number(process.hrtime.bigint() - started) / 1e9);
}

const filled = await filledManager(POOLS);
const floorPools = new Map<string, FloorPool>();
for (let p = 0; p < POOLS; p++) {
    const sessions = Array.from({ length: 8 }, () => ({ inFlight: 0, uses: 0 }));
    floorPools.set(`h${p}.example`, { busy: 0, head: sessions[0]!, sessions });
}
const bySpread = new Map(
    SPREADS.map((spread) => [
        spread,
        Array.from({ length: POOLS }, (_, j) => new Request({ url: `http://h${j % spread}.example/q${j}` })),
    ]),
);
const engine = new Map<number, number[]>(SPREADS.map((spread) => [spread, []]));
const floor = new Map<number, number[]>(SPREADS.map((spread) => [spread, []]));
for (let round = -1; round < ROUNDS; round++) {
    for (const spread of round % 2 === 0 ? SPREADS : [...SPREADS].reverse()) {
        const requests = bySpread.get(spread)!;
        const ops = await measureOps({ manager: filled.manager, requests }, OPS);
        const floorRate = floorOps(floorPools, requests, OPS * 2);
        // Round -1 warms up.
        if (round >= 0) {
            engine.get(spread)!.push(ops);
            floor.get(spread)!.push(floorRate);
        }
    }
}
console.log(`${POOLS} full pools in one process; requests spread over N of them (median of ${ROUNDS} rounds)`);
console.log('  N pools used   engine ops/s   ns/op   floor ops/s   ns/op');
for (const spread of SPREADS) {
    const e = median(engine.get(spread)!);
    const f = median(floor.get(spread)!);
    console.log(
        `  ${String(spread).padStart(11)}   ${String(Math.round(e)).padStart(12)}   ${(1e9 / e).toFixed(0).padStart(5)}   ${String(Math.round(f)).padStart(11)}   ${(1e9 / f).toFixed(0).padStart(5)}`,
    );
}
filled.manager.close();
await filled.manager.dispose();
