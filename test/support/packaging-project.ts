/**
 * Helpers of the packaging test (`test/packaging.test.ts`): build and pack the published packages as
 * npm would receive them, and install them with npm into temporary projects on a given Crawlee
 * version, the way a user adds them to an existing Crawlee project.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The files the temporary projects run and type-check (see `test/packaging/`). */
export const FIXTURES = join(REPO_ROOT, 'test', 'packaging');
export const PUBLISHED = ['core', 'crawlee', 'redis'] as const;
export type Published = (typeof PUBLISHED)[number];

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a command to its end; never throws for a non-zero exit (the caller asserts on `code`). */
export function run(
    command: string,
    args: readonly string[],
    options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunResult> {
    return new Promise((done) => {
        execFile(
            command,
            args,
            {
                cwd: options.cwd,
                env: { ...process.env, ...options.env },
                timeout: options.timeoutMs ?? 120_000,
                maxBuffer: 64 * 1024 * 1024,
            },
            (error, stdout, stderr) => {
                const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
                done({ code, stdout, stderr: error && code === 1 && !stderr ? String(error) : stderr });
            },
        );
    });
}

/** Runs a command and throws, with its output, unless it exits 0. */
export async function runOk(
    command: string,
    args: readonly string[],
    options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<string> {
    const result = await run(command, args, options);
    if (result.code !== 0) {
        throw new Error(
            `\`${command} ${args.join(' ')}\` in ${options.cwd} exited ${result.code}:\n${result.stdout}\n${result.stderr}`,
        );
    }
    return result.stdout;
}

/**
 * Builds the workspace (`pnpm build`: turbo, so an up-to-date build is a cache hit) and packs each
 * published package with `pnpm pack`, which rewrites `workspace:^` to real versions as publishing does.
 * Returns the tarball path per package.
 */
export async function buildAndPack(): Promise<Record<Published, string>> {
    await runOk('pnpm', ['build'], { cwd: REPO_ROOT, timeoutMs: 180_000 });
    const destination = await mkdtemp(join(tmpdir(), 'managed-sessions-tarballs-'));
    const tarballs = {} as Record<Published, string>;
    for (const name of PUBLISHED) {
        await runOk('pnpm', ['pack', '--pack-destination', destination], { cwd: join(REPO_ROOT, 'packages', name) });
        const file = (await readdir(destination)).find((entry) => entry.startsWith(`managed-sessions-${name}-`));
        if (!file) throw new Error(`pnpm pack wrote no tarball for @managed-sessions/${name} in ${destination}`);
        tarballs[name] = join(destination, file);
    }
    return tarballs;
}

export interface Project {
    dir: string;
    crawleeVersion: string;
    withPlaywright: boolean;
}

/**
 * A temporary npm project with `crawlee@crawleeVersion`, TypeScript and the three tarballs, installed in
 * one `npm install` (the harder case for npm's peer placement than adding the tarballs to an existing
 * install), plus the fixture files. `withPlaywright` adds `playwright-core` (types only: no browser).
 */
export async function installProject(
    crawleeVersion: string,
    tarballs: Record<Published, string>,
    withPlaywright: boolean,
): Promise<Project> {
    const dir = await mkdtemp(join(tmpdir(), `managed-sessions-crawlee-${crawleeVersion}-`));
    const dependencies: Record<string, string> = {
        crawlee: crawleeVersion,
        typescript: '~5.9.3',
        '@managed-sessions/core': `file:${tarballs.core}`,
        '@managed-sessions/crawlee': `file:${tarballs.crawlee}`,
        '@managed-sessions/redis': `file:${tarballs.redis}`,
    };
    if (withPlaywright) dependencies['playwright-core'] = '1.65.1';
    await writeFile(
        join(dir, 'package.json'),
        `${JSON.stringify(
            {
                name: `packaging-check-crawlee-${crawleeVersion}`,
                private: true,
                dependencies,
                // The crawlee meta-package's linkedom range admits releases that no longer load on Node 20.
                overrides: { linkedom: '0.18.14' },
            },
            null,
            4,
        )}\n`,
    );
    await runOk('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: dir,
        timeoutMs: 180_000,
        env: { PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
    });
    for (const file of await readdir(FIXTURES)) {
        if (file.endsWith('.mts') || file.endsWith('.cts')) {
            // The first line (`// @ts-nocheck …`) only keeps the workspace typecheck off the fixture.
            const source = await readFile(join(FIXTURES, file), 'utf8');
            if (!source.startsWith('// @ts-nocheck')) throw new Error(`${file} must start with // @ts-nocheck`);
            await writeFile(join(dir, file), source.slice(source.indexOf('\n') + 1));
        } else {
            await copyFile(join(FIXTURES, file), join(dir, file));
        }
    }
    return { dir, crawleeVersion, withPlaywright };
}

/** Writes `tsconfig.<module>.json` for a type check of the fixtures with that `module` setting. */
export async function writeTsconfig(project: Project, module: 'node16' | 'nodenext'): Promise<string> {
    const file = `tsconfig.${module}.json`;
    const files = ['api.mts', 'api.cts', ...(project.withPlaywright ? ['page.mts'] : [])];
    const compilerOptions = {
        module,
        moduleResolution: module,
        target: 'ES2022',
        strict: true,
        noEmit: true,
        // As Crawlee's project templates (@apify/tsconfig) have it.
        skipLibCheck: true,
    };
    await writeFile(join(project.dir, file), `${JSON.stringify({ compilerOptions, files }, null, 4)}\n`);
    return file;
}

/** Every `package.json` of `name` installed anywhere under `dir`'s node_modules, with its version. */
export async function installedCopies(dir: string, name: string): Promise<string[]> {
    const copies: string[] = [];
    const visit = async (nodeModules: string): Promise<void> => {
        let entries: string[];
        try {
            entries = await readdir(nodeModules);
        } catch {
            return;
        }
        try {
            const manifest = JSON.parse(await readFile(join(nodeModules, name, 'package.json'), 'utf8'));
            copies.push(`${resolve(nodeModules, name).slice(dir.length + 1)}@${manifest.version}`);
        } catch {
            // not installed at this level
        }
        for (const entry of entries) {
            if (entry.startsWith('.')) continue;
            const packages = entry.startsWith('@')
                ? (await readdir(join(nodeModules, entry)).catch(() => [])).map((sub) => join(entry, sub))
                : [entry];
            for (const pkg of packages) await visit(join(nodeModules, pkg, 'node_modules'));
        }
    };
    await visit(join(dir, 'node_modules'));
    return copies.sort();
}

/** The `.d.ts`/`.d.cts` files of an installed package that import `module`, as `file: line`. */
export async function declarationsImporting(packageDir: string, module: string): Promise<string[]> {
    const hits: string[] = [];
    const dist = join(packageDir, 'dist');
    for (const file of await readdir(dist)) {
        if (!/\.d\.c?ts$/.test(file)) continue;
        const lines = (await readFile(join(dist, file), 'utf8')).split('\n');
        const pattern = new RegExp(`(from|import\\()\\s*['"]${module.replace(/[/]/g, '\\/')}(/[^'"]*)?['"]`);
        lines.forEach((line, index) => {
            if (pattern.test(line) && !line.trimStart().startsWith('*'))
                hits.push(`${file}:${index + 1}: ${line.trim()}`);
        });
    }
    return hits;
}

/** Parses the `RESULT {json}` line a fixture script prints. */
export function resultOf(output: RunResult): unknown {
    const line = output.stdout.split('\n').find((entry) => entry.startsWith('RESULT '));
    if (!line) throw new Error(`no RESULT line (exit ${output.code}):\n${output.stdout}\n${output.stderr}`);
    return JSON.parse(line.slice('RESULT '.length));
}
