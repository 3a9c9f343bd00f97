/**
 * The registry part of benchmark 1 in one process, fast to rerun while working on the registry:
 * the same variants, URLs and alternation as `pnpm bench --only engine`, optionally under the CPU
 * profiler (measured rounds only, not setup).
 *
 *     node --conditions=@managed-sessions/source --import tsx bench/profile-registry.ts [--rounds 7] [--lookups 200000] [--profile /tmp/registry.cpuprofile] [--variant '10000 rules']
 */
import { parseArgs } from 'node:util';
import { measureLookups, RULE_VARIANTS, type RuleVariant, registryVariant } from './engine-cost.js';
import { profileRegion } from './profile-region.js';
import { alternate, median } from './stats.js';

const { values } = parseArgs({
    options: {
        rounds: { type: 'string', default: '7' },
        lookups: { type: 'string', default: '200000' },
        profile: { type: 'string' },
        variant: { type: 'string' },
    },
});
const rounds = Number(values.rounds);
const lookups = Number(values.lookups);
const names = (values.variant ? [values.variant] : Object.keys(RULE_VARIANTS)) as RuleVariant[];
const variants = Object.fromEntries(
    names.map((name) => {
        const { rules, domains, urlDomains } = RULE_VARIANTS[name];
        return [name, registryVariant(rules, domains, urlDomains)];
    }),
);
for (const name of names) measureLookups(variants[name]!, lookups);
const run = () =>
    alternate(rounds, Object.fromEntries(names.map((name) => [name, () => measureLookups(variants[name]!, lookups)])));
const samples = values.profile ? await profileRegion(values.profile, run) : await run();
for (const name of names)
    console.log(`${name.padEnd(24)} ${Math.round(median(samples[name]!)).toString().padStart(9)} lookups/s`);
if (samples['1 rule'] && samples['10000 rules']) {
    console.log(`ratio 1 ÷ 10k: ${(median(samples['1 rule']) / median(samples['10000 rules'])).toFixed(3)}`);
}
if (samples['1 rule'] && samples['10000 rules, 1 domain']) {
    console.log(
        `ratio 1 ÷ 10k on 1 domain: ${(median(samples['1 rule']) / median(samples['10000 rules, 1 domain'])).toFixed(3)}`,
    );
}
