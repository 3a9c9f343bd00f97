/**
 * Long-lived benchmark workers: a child process per variant, driven over IPC, so each variant has
 * a heap of its own (a 10,000-pool manager does not slow the 1-pool one down with its GC work) while
 * the main process still alternates their measurements round by round.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Call {
    id: number;
    command: string;
    args: unknown;
}

type Reply = { id: number; result: unknown } | { id: number; error: string };

/** Node flags every worker runs with: workspace sources through tsx, like `pnpm bench` itself. */
const BASE_EXEC_ARGV = ['--conditions=@managed-sessions/source', '--import', 'tsx'];

/** The main side of one worker. */
export interface Worker {
    call<T>(command: string, args?: unknown): Promise<T>;
    /** Ends the worker and waits for its exit. */
    close(): Promise<void>;
}

/**
 * Starts `module` (a file of this folder that calls {@link serve}) in a child process.
 * `execArgv` adds Node flags, e.g. `--expose-gc`.
 */
export function startWorker(module: string, execArgv: string[] = []): Worker {
    const file = fileURLToPath(new URL(module, import.meta.url));
    // `BENCH_CPU_PROF_DIR=/tmp/prof pnpm bench --only …`: every worker writes a .cpuprofile there on exit.
    const profileDir = process.env.BENCH_CPU_PROF_DIR;
    const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const child: ChildProcess = fork(file, [], {
        execArgv: [...BASE_EXEC_ARGV, ...profile, ...execArgv],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let nextId = 0;
    const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
    const exited = new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
            for (const { reject } of pending.values()) {
                reject(new Error(`worker ${module} exited (${signal ?? code}) during a call`));
            }
            pending.clear();
            resolve();
        });
    });
    child.on('message', (message: Reply) => {
        const waiting = pending.get(message.id);
        if (!waiting) return;
        pending.delete(message.id);
        if ('error' in message) waiting.reject(new Error(`${module}: ${message.error}`));
        else waiting.resolve(message.result);
    });
    return {
        call<T>(command: string, args?: unknown): Promise<T> {
            const id = nextId++;
            return new Promise<T>((resolve, reject) => {
                pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
                child.send({ id, command, args } satisfies Call);
            });
        },
        async close(): Promise<void> {
            if (child.exitCode === null && child.signalCode === null) child.disconnect();
            await exited;
        },
    };
}

/**
 * The worker side: answers calls with `handlers[command](args)`. The process exits when the
 * main process disconnects (every handler must leave nothing running by then).
 */
export function serve(handlers: Record<string, (args: any) => unknown>): void {
    if (!process.send) throw new Error('A benchmark worker must be started by startWorker().');
    process.on('message', async ({ id, command, args }: Call) => {
        let reply: Reply;
        try {
            const handler = handlers[command];
            if (!handler) throw new Error(`unknown command ${command}`);
            reply = { id, result: await handler(args) };
        } catch (error) {
            reply = { id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
        }
        process.send!(reply);
    });
    process.once('disconnect', () => process.exit(0));
}
