import { defineConfig } from 'tsup';

// One CommonJS build; `scripts/esm-entry.mjs` (run after tsup by `build`) adds an ESM entry per
// entry point that re-exports it, so `import` and `require` share one module instance (one
// session-config registry, one class per export) and no project meets the dual-package hazard.
// Two entry points (the user API and `./internal`, for the adapter and store packages) share their
// modules through chunks (`splitting`): without it each entry would bundle its own copy of the
// engine, and a config registered through one would be unknown to the other.
export default defineConfig({
    entry: ['src/index.ts', 'src/internal.ts'],
    format: ['cjs'],
    splitting: true,
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node18',
    // Rollup does the CJS splitting: tsup's own path runs sucrase, which turns every `?.` and `??`
    // into helper calls (and an extra `await` per acquire), a quarter of the engine's time per request.
    treeshake: true,
});
