import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Configuration, KeyValueStore } from '@crawlee/core';
import { SESSIONS_REPORT_KEY } from '@managed-sessions/core';
import type { SessionManager } from '@managed-sessions/core/internal';

/** Options of `sessions.report()`. */
export interface SessionReportOptions {
    /** Also write the HTML to this file (directories are created). */
    path?: string;
}

/**
 * Renders the engine's session report and writes it to the crawler's default key-value store
 * (`SESSIONS_REPORT.html`, `text/html`) and, with `path`, to that file. Returns the HTML.
 */
export async function writeSessionReport(
    config: Configuration,
    manager: SessionManager,
    options: SessionReportOptions = {},
): Promise<string> {
    const html = manager.renderReport();
    const store = await KeyValueStore.open(null, { config });
    await store.setValue(SESSIONS_REPORT_KEY, html, { contentType: 'text/html; charset=utf-8' });
    if (options.path !== undefined) {
        const file = resolve(options.path);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, html);
    }
    return html;
}
