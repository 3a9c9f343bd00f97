import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** What a script run by {@link runScript} did: its output lines, when each came, and how it ended. */
export interface ScriptRun {
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    /** Every stdout line, with the time it arrived (ms since the epoch). */
    lines: { text: string; at: number }[];
    exitedAt: number;
    /** Whether the deadline killed it. */
    killed: boolean;
}

/**
 * Runs `script` with workspace sources (`--conditions=@managed-sessions/source --import tsx`) in its own
 * Node.js process. A process kept alive by a leaked handle never exits: `deadline(lines)` (checked at
 * start and on every stdout line) returns the ms it may still live, after which it is killed, so a test
 * fails rather than hangs.
 */
export async function runScript(
    script: string,
    args: string[],
    options: { nodeArgs?: string[]; deadline: (lines: ScriptRun['lines']) => number },
): Promise<ScriptRun> {
    const child = spawn(
        process.execPath,
        [...(options.nodeArgs ?? []), '--conditions=@managed-sessions/source', '--import', 'tsx', script, ...args],
        { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: ScriptRun['lines'] = [];
    let stdout = '';
    let stderr = '';
    let killed = false;
    let killer: NodeJS.Timeout | undefined;
    const arm = () => {
        if (killer) clearTimeout(killer);
        killer = setTimeout(() => {
            killed = true;
            child.kill('SIGKILL');
        }, options.deadline(lines));
    };
    arm();
    child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        let newline = stdout.indexOf('\n');
        while (newline >= 0) {
            lines.push({ text: stdout.slice(0, newline), at: Date.now() });
            stdout = stdout.slice(newline + 1);
            newline = stdout.indexOf('\n');
        }
        arm();
    });
    child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
    });
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    const exitedAt = Date.now();
    clearTimeout(killer);
    return { code, signal, stderr, lines, exitedAt, killed };
}
