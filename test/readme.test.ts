/**
 * Every TypeScript / JavaScript block of the READMEs (README.md and every packages/*\/README.md) is
 * type-checked with tsc against the workspace packages, each block as a module of its own, imported
 * as users write them: `crawlee` is the meta-package (the workspace has the `@crawlee/*` packages it
 * re-exports, not `crawlee` itself, so a stand-in package re-exports them under that name). The
 * quickstart block is also run against the demo shop.
 *
 * Markers, an HTML comment on the line right before the opening fence (invisible on GitHub):
 *
 * - `<!-- readme-test: run -->`: also run it (with `SHOP_URL` set to a demo shop) and check its output;
 * - `<!-- readme-test: partial name1 name2 -->`: a fragment that uses names it does not define
 *   (`requestHandler`, `urls`, …); they are declared as `any` before it, and the rest is checked;
 * - `<!-- readme-test: skip reason… -->`: not compiled at all (say why).
 *
 * Without a marker, a block must compile on its own.
 */
import { execFile } from 'node:child_process';
import {
    existsSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    realpathSync,
    rmSync,
    symlinkSync,
    writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startDemoSite } from '@managed-sessions/demo-site';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Snippet {
    /** `README.md:63`: where its opening fence is. */
    where: string;
    code: string;
    marker: { kind: 'run' | 'partial' | 'skip'; args: string[] } | undefined;
}

const FENCE = /^```(ts|typescript|js|javascript)\s*$/;
const MARKER = /^<!--\s*readme-test:\s*(run|partial|skip)\b\s*(.*?)\s*-->\s*$/;

function readmes(): string[] {
    const packages = join(root, 'packages');
    const inPackages = readdirSync(packages)
        .map((name) => join(packages, name, 'README.md'))
        .filter((path) => existsSync(path));
    return [join(root, 'README.md'), ...inPackages];
}

export function extractSnippets(path: string): Snippet[] {
    const lines = readFileSync(path, 'utf8').split('\n');
    const snippets: Snippet[] = [];
    for (let i = 0; i < lines.length; i++) {
        if (!FENCE.test(lines[i]!)) continue;
        const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
        if (end < 0) throw new Error(`${relative(root, path)}:${i + 1}: code block never closed`);
        const match = MARKER.exec(lines[i - 1] ?? '');
        snippets.push({
            where: `${relative(root, path)}:${i + 1}`,
            code: lines.slice(i + 1, end).join('\n'),
            marker: match
                ? { kind: match[1] as 'run' | 'partial' | 'skip', args: match[2]!.split(/\s+/).filter(Boolean) }
                : undefined,
        });
        i = end;
    }
    return snippets;
}

/** The `@crawlee/*` packages the workspace has, re-exported as `crawlee` like the meta-package does. */
const META_PACKAGE_PARTS = [
    '@crawlee/core',
    '@crawlee/utils',
    '@crawlee/basic',
    '@crawlee/http',
    '@crawlee/jsdom',
    '@crawlee/cheerio',
    '@crawlee/playwright',
    '@crawlee/memory-storage',
];

/**
 * A folder outside the repository (nothing there is picked up by the repository's own tsc or vitest)
 * with the snippets, a tsconfig, links to the packages test/ sees, and the `crawlee` stand-in.
 */
function workspaceDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'readme-snippets-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
            extends: join(root, 'tsconfig.base.json'),
            compilerOptions: { noEmit: true, declaration: false, sourceMap: false },
            include: ['*.ts'],
        }),
    );
    // test/node_modules first (the workspace packages and Crawlee), then the root's (@types, tsx, …).
    for (const from of [join(root, 'test', 'node_modules'), join(root, 'node_modules')]) {
        for (const name of readdirSync(from).filter((entry) => !entry.startsWith('.'))) {
            const names = name.startsWith('@') ? readdirSync(join(from, name)).map((n) => `${name}/${n}`) : [name];
            for (const entry of names) {
                const link = join(dir, 'node_modules', entry);
                if (existsSync(link)) continue;
                mkdirSync(dirname(link), { recursive: true });
                symlinkSync(realpathSync(join(from, entry)), link);
            }
        }
    }
    const meta = join(dir, 'node_modules', 'crawlee');
    mkdirSync(meta, { recursive: true });
    writeFileSync(
        join(meta, 'package.json'),
        JSON.stringify({
            name: 'crawlee',
            version: '3.18.1',
            type: 'module',
            exports: { '.': { types: './index.d.ts', default: './index.js' } },
        }),
    );
    const reexports = META_PACKAGE_PARTS.map((name) => `export * from '${name}';`).join('\n');
    writeFileSync(join(meta, 'index.js'), reexports);
    writeFileSync(join(meta, 'index.d.ts'), reexports);
    return dir;
}

function fileName(snippet: Snippet): string {
    return `${snippet.where.replace(/[^\w]+/g, '_')}.ts`;
}

function source(snippet: Snippet): string {
    const declared =
        snippet.marker?.kind === 'partial'
            ? snippet.marker.args.map((name) => `declare const ${name}: any;`).join(' ')
            : '';
    // `export {}` keeps every snippet a module of its own, with its own names.
    return `${declared}${snippet.code}\nexport {};\n`;
}

const snippets = readmes().flatMap(extractSnippets);
const dir = workspaceDir();

describe('README code blocks', () => {
    it('finds the blocks, with the quickstart marked to run', () => {
        expect(snippets.filter((s) => s.where.startsWith('README.md')).length).toBeGreaterThanOrEqual(5);
        expect(snippets.filter((s) => s.marker?.kind === 'run').map((s) => s.where)).toHaveLength(1);
        for (const snippet of snippets.filter((s) => s.marker?.kind === 'skip')) {
            // A skipped block says why.
            expect(snippet.marker!.args.length, snippet.where).toBeGreaterThan(0);
        }
    });

    it('every block compiles against the workspace packages (imports as users write them)', async () => {
        const compiled = snippets.filter((s) => s.marker?.kind !== 'skip');
        for (const snippet of compiled) writeFileSync(join(dir, fileName(snippet)), source(snippet));
        const tsc = join(root, 'node_modules', '.bin', 'tsc');
        const result = await run(tsc, ['-p', join(dir, 'tsconfig.json')], { cwd: root }).then(
            () => '',
            (error: { stdout?: string }) => error.stdout ?? String(error),
        );
        // Map each diagnostic back to its README line: `README.md:63` + row 5 is `README.md:68`.
        const report = compiled.reduce(
            (text, snippet) => {
                const [file, fence] = snippet.where.split(':') as [string, string];
                return text.replace(
                    new RegExp(`${fileName(snippet).replace('.', '\\.')}\\((\\d+),(\\d+)\\)`, 'g'),
                    (_match, row: string, column: string) => `${file}:${Number(fence) + Number(row)}:${column}`,
                );
            },
            result.replaceAll(`${relative(root, dir)}/`, ''),
        );
        expect(report).toBe('');
    }, 120_000);

    it('the quickstart runs against the demo shop: 50 products with 8 sessions', async () => {
        const quickstart = snippets.find((s) => s.marker?.kind === 'run')!;
        const file = join(dir, `run-${fileName(quickstart)}`);
        writeFileSync(file, source(quickstart));
        const site = await startDemoSite();
        try {
            const { stdout } = await run(
                process.execPath,
                ['--conditions=@managed-sessions/source', '--import', 'tsx', file],
                // cwd: tsx and the packages resolve through the folder's links.
                {
                    cwd: dir,
                    env: {
                        ...process.env,
                        SHOP_URL: site.url,
                        CRAWLEE_STORAGE_DIR: join(dir, 'storage'),
                        CRAWLEE_LOG_LEVEL: 'ERROR',
                    },
                    timeout: 60_000,
                },
            );
            expect(stdout.split('\n')[0]).toBe('Scraped 50 products with 8 sessions.');
            expect(site.counters).toMatchObject({ inits: 8, bans: 0, pages: 51 });
        } finally {
            await site.close();
        }
    }, 90_000);
});
