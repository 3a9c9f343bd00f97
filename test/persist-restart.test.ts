import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { cookieValue, html, startServer, type TestServer } from './support/server.js';

const script = fileURLToPath(new URL('./support/persist-crawl.ts', import.meta.url));
const URLS = 30;

let server: TestServer | undefined;
let dir: string | undefined;
afterEach(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    server = undefined;
});

function crawl(storage: string, handled: string): { child: ChildProcess; stdout: () => string } {
    let stdout = '';
    const child = spawn(
        process.execPath,
        [
            '--conditions=@managed-sessions/source',
            '--import',
            'tsx',
            script,
            storage,
            server!.url,
            handled,
            String(URLS),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
    });
    return { child, stdout: () => stdout };
}

function handledUrls(file: string): string[] {
    try {
        return readFileSync(file, 'utf8').split('\n').filter(Boolean);
    } catch {
        return [];
    }
}

it('a crawl killed with SIGKILL resumes over the same storage with its sessions: no new init, no lost request', async () => {
    let inits = 0;
    server = await startServer(async (request, response) => {
        const sid = cookieValue(request.cookie, 'sid');
        if (!sid) {
            inits++;
            return html(response, 'welcome', 200, { 'set-cookie': `sid=s${inits}; Path=/` });
        }
        // Slow pages, so the crawl is still running when it is killed.
        await new Promise((resolve) => setTimeout(resolve, 40));
        html(response, `<p>${sid}</p>`);
    });
    dir = mkdtempSync(join(tmpdir(), 'managed-sessions-restart-'));
    const storage = join(dir, 'storage');
    const handled = join(dir, 'handled.txt');

    const first = crawl(storage, handled);
    while (handledUrls(handled).length < 10) await new Promise((resolve) => setTimeout(resolve, 20));
    // Two persistState intervals, so the saved record has the sessions.
    await new Promise((resolve) => setTimeout(resolve, 250));
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const handledAtKill = handledUrls(handled).length;
    const beforeRestart = new Set(handledUrls(handled));
    expect(beforeRestart.size).toBeGreaterThanOrEqual(10);
    expect(beforeRestart.size).toBeLessThan(URLS);
    expect(inits).toBe(2);

    const second = crawl(storage, handled);
    const [code] = (await once(second.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const result = JSON.parse(second.stdout());
    const all = new Set(handledUrls(handled));
    expect(all.size).toBe(URLS);
    // The restored sessions served the rest: the site saw no new init.
    expect(inits).toBe(2);
    expect(result.stats['sessions/init/check-passed']).toBe(2);
    // Stats continue across the restart: more passed checks than the second run alone made (the
    // record is at most one persistState interval behind the kill, so not necessarily all of them).
    const secondRun = handledUrls(handled).length - handledAtKill;
    expect(result.stats['sessions/use/check-passed']).toBeGreaterThan(secondRun);
    expect(result.stats['sessions/use/check-passed']).toBeLessThanOrEqual(handledUrls(handled).length);
    expect(result.pools).toEqual([{ id: server.host, size: 2, ready: 2, initializing: 0, waiting: 0, discarded: 0 }]);
    // Only the two inits (which visit a page URL) came without a cookie; every other request carried one
    // of the two sessions' cookies, in both runs.
    expect(server.seen.filter((r) => !r.cookie)).toHaveLength(2);
    const cookies = new Set(server.seen.filter((r) => r.cookie).map((r) => cookieValue(r.cookie, 'sid')));
    expect([...cookies].sort()).toEqual(['s1', 's2']);
}, 60_000);
