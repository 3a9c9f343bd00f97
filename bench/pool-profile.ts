/**
 * Diagnostic for benchmark 1's pools ratio (not part of `pnpm bench`): where the extra time of many
 * pools goes, function by function. It CPU-profiles benchmark 1's measured loop (acquire + check +
 * release) with 1 pool and with `--pools` pools, each in a process of its own as the benchmark runs
 * them, and prints each function's self time per op in both and the difference, largest first.
 *
 *   pnpm build && node --import tsx bench/pool-profile.ts [--pools 10000] [--top 20] [--keep /tmp/prof]
 *
 * Without `--conditions=@managed-sessions/source` it profiles the built engine (`packages/core/dist`):
 * the code users run, with real function names and lines.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { filledManager, measureOps } from './engine-cost.js';
import { profileRegion } from './profile-region.js';
import { type Profile, selfTimes } from './profile-summary.js';

const OPS = 200_000;
const WARMUP_SAMPLES = 3;
const SAMPLES = 5;

const { values } = parseArgs({
    options: {
        pools: { type: 'string', default: '10000' },
        top: { type: 'string', default: '20' },
        keep: { type: 'string' },
        child: { type: 'string' },
        out: { type: 'string' },
    },
});

if (values.child !== undefined) {
    // One variant: fill, warm up, then profile the measured samples only.
    const filled = await filledManager(Number(values.child));
    for (let i = 0; i < WARMUP_SAMPLES; i++) await measureOps(filled, OPS);
    const rates = await profileRegion(values.out!, async () => {
        const measured: number[] = [];
        for (let i = 0; i < SAMPLES; i++) measured.push(await measureOps(filled, OPS));
        return measured;
    });
    filled.manager.close();
    console.log(JSON.stringify({ ops: OPS * SAMPLES, rates }));
} else {
    const pools = Number(values.pools);
    if (!Number.isInteger(pools) || pools < 2)
        throw new TypeError(`--pools must be an integer >= 2, got ${values.pools}`);
    const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'pool-profile-'));
    // --keep may name a directory that does not exist yet: the children write their profiles there.
    mkdirSync(dir, { recursive: true });
    const self = fileURLToPath(import.meta.url);
    const run = (count: number) => {
        const out = join(dir, `pools-${count}.cpuprofile`);
        const stdout = execFileSync(
            process.execPath,
            [...process.execArgv, self, '--child', String(count), '--out', out],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
        );
        const { ops, rates } = JSON.parse(stdout.trim().split('\n').pop()!) as { ops: number; rates: number[] };
        const profile = JSON.parse(readFileSync(out, 'utf8')) as Profile;
        // µs per function over all measured ops -> ns per op.
        const perOp = new Map([...selfTimes(profile)].map(([name, us]) => [name, (us * 1000) / ops]));
        const total = [...perOp.values()].reduce((sum, ns) => sum + ns, 0);
        return { perOp, total, rates };
    };
    try {
        const one = run(1);
        const many = run(pools);
        const names = new Set([...one.perOp.keys(), ...many.perOp.keys()]);
        const rows = [...names]
            .map((name) => ({ name, one: one.perOp.get(name) ?? 0, many: many.perOp.get(name) ?? 0 }))
            .sort((a, b) => b.many - b.one - (a.many - a.one));
        const rate = (rates: number[]) => rates.map((r) => `${Math.round(r / 1000)}k`).join(' ');
        console.log(`ops/s, 1 pool: ${rate(one.rates)}; ${pools} pools: ${rate(many.rates)}`);
        console.log(`self time per op (ns): 1 pool ${one.total.toFixed(0)}, ${pools} pools ${many.total.toFixed(0)}`);
        console.log(`${'1 pool'.padStart(8)} ${`${pools}`.padStart(8)} ${'extra'.padStart(8)}  function`);
        for (const row of rows.slice(0, Number(values.top))) {
            const cells = [row.one, row.many, row.many - row.one].map((ns) => ns.toFixed(0).padStart(8));
            console.log(`${cells.join(' ')}  ${row.name}`);
        }
        if (values.keep) console.log(`profiles kept in ${dir}`);
    } finally {
        if (!values.keep) rmSync(dir, { recursive: true, force: true });
    }
}
