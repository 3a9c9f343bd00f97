import { defineConfig } from 'vitest/config';

// Workspace packages export a private `@managed-sessions/source` condition that points at
// `src/`, so tests run against the sources without a build step.
export default defineConfig({
    resolve: { conditions: ['@managed-sessions/source'] },
    ssr: { resolve: { conditions: ['@managed-sessions/source'] } },
    test: {
        include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
        testTimeout: 30_000,
        hookTimeout: 30_000,
        pool: 'forks',
    },
});
