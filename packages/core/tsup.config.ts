import { defineConfig } from 'tsup';

// One CommonJS build; `../core/scripts/esm-entry.mjs` (run after tsup by `build`) adds the ESM entry
// that re-exports it, so `import` and `require` share one module instance (one session-config
// registry, one class per export) and no project meets the dual-package hazard.
export default defineConfig({
    entry: ['src/index.ts'],
    format: ['cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node18',
});
