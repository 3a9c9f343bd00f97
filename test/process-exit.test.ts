import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { html, startServer, type TestServer } from './support/server.js';

let server: TestServer | undefined;
afterEach(async () => {
    await server?.close();
    server = undefined;
});

const script = fileURLToPath(new URL('./support/exit-crawl.ts', import.meta.url));

it('the process exits by itself right after run() resolves, with an init still pending', async () => {
    let inits = 0;
    server = await startServer(async (_request, response) => {
        inits++;
        // The first init never gets an answer; the second fails, and with maxBadInits 1 that stops the crawl.
        if (inits === 1) return new Promise<void>(() => undefined);
        html(response, 'denied', 403);
    });
    const child = spawn(
        process.execPath,
        ['--conditions=@managed-sessions/source', '--import', 'tsx', script, server.url],
        {
            stdio: ['ignore', 'pipe', 'pipe'],
        },
    );
    let stdout = '';
    let stderr = '';
    let doneAt: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (doneAt === undefined && stdout.includes('\n')) doneAt = Date.now();
    });
    child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
    });
    // A process kept alive by a leaked handle would never exit: kill it so the test fails, not hangs.
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    const exitedAt = Date.now();
    clearTimeout(killer);

    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({
        closeReason: 'bad_session_inits',
        stats: { 'sessions/init/check-failed': 1 },
        queue: { added: 2, handled: 0, failed: 0, pending: 2 },
    });
    expect(inits).toBe(2);
    expect(exitedAt - doneAt!).toBeLessThan(2_000);
}, 30_000);
