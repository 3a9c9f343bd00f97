/**
 * The published packages as users get them (issue #14): packed with `pnpm pack`, installed with npm
 * into temporary projects on the oldest and newest supported Crawlee (3.13.0 and 3.18.1), then used
 * from ESM and CommonJS scripts that crawl the demo shop, from TypeScript under `module: node16` and
 * `nodenext`, and mixed (`import` and `require` in one process). arethetypeswrong checks each tarball.
 *
 * Needs the npm registry (the projects install Crawlee); `pnpm build` runs first (a turbo cache hit when
 * the build is current), so a fresh clone needs nothing more than `pnpm install`.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { productName, startDemoSite } from '@managed-sessions/demo-site';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
    buildAndPack,
    declarationsImporting,
    installedCopies,
    installProject,
    type Project,
    PUBLISHED,
    type Published,
    REPO_ROOT,
    resultOf,
    run,
    writeTsconfig,
} from './support/packaging-project.js';

const CRAWLEE_VERSIONS = ['3.13.0', '3.18.1'] as const;
type CrawleeVersion = (typeof CRAWLEE_VERSIONS)[number];

let tarballs: Record<Published, string>;
const projects = new Map<CrawleeVersion, Project>();

beforeAll(async () => {
    tarballs = await buildAndPack();
    // One install per Crawlee version, shared by every check below; the newer one also has Playwright's
    // types, the older one shows that a project without Playwright compiles.
    const installed = await Promise.all(
        CRAWLEE_VERSIONS.map((version) => installProject(version, tarballs, version === '3.18.1')),
    );
    for (const project of installed) projects.set(project.crawleeVersion as CrawleeVersion, project);
}, 200_000);

afterAll(async () => {
    for (const project of projects.values()) await rm(project.dir, { recursive: true, force: true });
    if (tarballs) await rm(join(tarballs.core, '..'), { recursive: true, force: true });
});

describe('packed packages', () => {
    it.each(PUBLISHED)('@managed-sessions/%s passes arethetypeswrong (types for import and require)', async (name) => {
        const result = await run(
            join(REPO_ROOT, 'node_modules', '.bin', 'attw'),
            [tarballs[name], '--format', 'ascii'],
            {
                cwd: REPO_ROOT,
                env: { NO_COLOR: '1', FORCE_COLOR: '0' },
            },
        );
        expect(result.stdout + result.stderr).toContain('No problems found');
        expect(result.code).toBe(0);
    });

    it('no published declaration file imports zod', async () => {
        const project = projects.get('3.18.1')!;
        const hits = await Promise.all(
            PUBLISHED.map((name) =>
                declarationsImporting(join(project.dir, 'node_modules', '@managed-sessions', name), 'zod'),
            ),
        );
        expect(hits.flat()).toEqual([]);
    });
});

describe.each(CRAWLEE_VERSIONS)('in an npm project on crawlee@%s', (version) => {
    const project = () => projects.get(version)!;

    it('installs one @crawlee/core and one @managed-sessions/core, at the versions the project chose', async () => {
        expect(await installedCopies(project().dir, '@crawlee/core')).toEqual([
            `node_modules/@crawlee/core@${version}`,
        ]);
        expect(await installedCopies(project().dir, '@managed-sessions/core')).toEqual([
            'node_modules/@managed-sessions/core@0.1.0',
        ]);
    });

    it.each([
        ['ESM', 'crawl.mjs'],
        ['CommonJS', 'crawl.cjs'],
    ])(
        'a %s script crawls the demo shop with full success',
        async (_loader, script) => {
            const site = await startDemoSite();
            try {
                const output = await run('node', [script], {
                    cwd: project().dir,
                    env: {
                        DEMO_SITE_URL: site.url,
                        CRAWLEE_STORAGE_DIR: join(project().dir, `storage-${script}`),
                        CRAWLEE_LOG_LEVEL: 'ERROR',
                    },
                    timeoutMs: 60_000,
                });
                expect(resultOf(output)).toEqual({
                    loader: script.endsWith('.mjs') ? 'esm' : 'cjs',
                    requestsFinished: 51,
                    requestsFailed: 0,
                    products: Array.from({ length: 50 }, (_, i) => productName(1, i + 1)).sort(),
                    stats: { 'sessions/init/check-passed': 4, 'sessions/use/check-passed': 51 },
                });
                expect(output.code).toBe(0);
                expect(site.counters.inits).toBe(4);
                expect(site.counters.bans).toBe(0);
            } finally {
                await site.close();
            }
        },
        60_000,
    );

    it('import and require share one registry, one SessionConfig and Crawlee’s SessionError', async () => {
        const output = await run('node', ['mixed.mjs'], { cwd: project().dir });
        expect(resultOf(output)).toEqual({
            sameRegistry: true,
            sameSessionConfig: true,
            sameAttach: true,
            registeredViaImportFoundViaRequire: true,
            registeredViaRequireFoundViaImport: true,
            errorsAreCrawleeSessionErrors: true,
        });
        expect(output.code).toBe(0);
    });

    it.each(['node16', 'nodenext'] as const)(
        'TypeScript (module: %s) type-checks the public API',
        async (module) => {
            const tsconfig = await writeTsconfig(project(), module);
            const output = await run(join(project().dir, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], {
                cwd: project().dir,
            });
            expect(output.stdout + output.stderr).toBe('');
            expect(output.code).toBe(0);
        },
        60_000,
    );
});
