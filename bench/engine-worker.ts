/** Worker of benchmark 1 (see engine-cost.ts): holds one pool variant, or the registry variants. */
import {
    type FilledManager,
    filledManager,
    measureLookups,
    measureOps,
    type RegistryVariant,
    registryVariant,
} from './engine-cost.js';
import { serve } from './ipc.js';

let filled: FilledManager | undefined;
const registries = new Map<string, RegistryVariant>();

serve({
    async setupPools({ pools }: { pools: number }) {
        filled = await filledManager(pools);
        const snapshot = filled.manager.pools();
        const ready = snapshot.reduce((sum, pool) => sum + pool.ready, 0);
        return { pools: snapshot.length, ready };
    },
    measurePools: ({ ops }: { ops: number }) => measureOps(filled!, ops),
    setupRules(variants: Record<string, { rules: number; domains: number; urlDomains: number }>) {
        for (const [key, { rules, domains, urlDomains }] of Object.entries(variants)) {
            registries.set(key, registryVariant(rules, domains, urlDomains));
        }
        return registries.size;
    },
    measureRules: ({ variant, lookups }: { variant: string; lookups: number }) =>
        measureLookups(registries.get(variant)!, lookups),
});
