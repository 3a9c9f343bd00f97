import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Configuration } from '@crawlee/core';
import { ManagedSessionsOptionsError } from '@managed-sessions/core';

/** Where one loaded copy of `@crawlee/core` lives. */
export interface CrawleeCoreCopy {
    version: string | undefined;
    /** Its package folder. */
    path: string | undefined;
}

/**
 * Throws when `crawler`'s Crawlee is another copy of `@crawlee/core` than the one this adapter loaded.
 *
 * A project on `crawlee@3.13` whose package manager gives the adapter its own `@crawlee/core@3.18` (from
 * the peer range) runs two Crawlees: the adapter's `Session`, `SessionError` and storages are not the
 * crawler's, so sessions never rotate and `run()` fails deep inside Crawlee with `Expected property
 * object config Configuration…` (its storages check `config` with `instanceof`). The crawler's
 * `config` (always set, by the user or as its copy's global one) shows which copy it uses.
 */
export function assertOneCrawlee(crawlerConfig: unknown): void {
    if (crawlerConfig === undefined || crawlerConfig === null || crawlerConfig instanceof Configuration) return;
    const crawlerClass = (crawlerConfig as { constructor?: unknown }).constructor;
    if (typeof crawlerClass !== 'function' || crawlerClass.name !== 'Configuration') return;
    const theirs = locateCrawleeCore(crawlerClass);
    const ours = locateCrawleeCore(Configuration);
    throw new ManagedSessionsOptionsError(mismatchMessage(theirs, ours));
}

export function mismatchMessage(theirs: CrawleeCoreCopy, ours: CrawleeCoreCopy): string {
    const describe = (copy: CrawleeCoreCopy) =>
        `@crawlee/core ${copy.version ?? '(version unknown)'} at ${copy.path ?? '(location unknown)'}`;
    const target = theirs.version ?? '<the version of your crawlee package>';
    return (
        `attachManagedSessions(): the crawler uses ${describe(theirs)}, but @managed-sessions/crawlee loaded ` +
        `${describe(ours)}. Two copies of Crawlee cannot share sessions, errors or storages. Install one ` +
        `version of every Crawlee package: \`npm install @crawlee/core@${target} @crawlee/basic@${target}\` ` +
        `(or align your crawlee package with them), or pin it for the whole tree with ` +
        `"overrides": { "@crawlee/core": "${target}", "@crawlee/basic": "${target}" } in package.json ` +
        '(pnpm: "pnpm": { "overrides": … }; yarn: "resolutions"), then reinstall.'
    );
}

/**
 * The package folder and version of the `@crawlee/core` copy that exports `configurationClass`. Crawlee 3
 * is CommonJS (its ESM entry re-exports it), so every loaded copy is in the module cache.
 */
export function locateCrawleeCore(configurationClass: unknown): CrawleeCoreCopy {
    const cache = createRequire(join(process.cwd(), 'noop.js')).cache;
    for (const [filename, module] of Object.entries(cache)) {
        if (!filename.includes('@crawlee') || !module) continue;
        let exported: unknown;
        try {
            exported = (module.exports as Record<string, unknown> | undefined)?.Configuration;
        } catch {
            continue;
        }
        if (exported !== configurationClass) continue;
        const path = packageFolder(filename);
        if (path) return { path, version: readVersion(path) };
    }
    return { version: undefined, path: undefined };
}

/** The nearest folder above `filename` whose package.json names `@crawlee/core`. */
function packageFolder(filename: string): string | undefined {
    for (let folder = dirname(filename); folder !== dirname(folder); folder = dirname(folder)) {
        const manifest = join(folder, 'package.json');
        if (existsSync(manifest) && readManifest(manifest)?.name === '@crawlee/core') return folder;
    }
    return undefined;
}

function readVersion(folder: string): string | undefined {
    return readManifest(join(folder, 'package.json'))?.version;
}

function readManifest(path: string): { name?: string; version?: string } | undefined {
    try {
        return JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
    } catch {
        return undefined;
    }
}
