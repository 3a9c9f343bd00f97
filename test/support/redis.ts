import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** The path of Debian's `redis-server`, if installed. */
function findRedisServer(): string | undefined {
    try {
        return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
    } catch {
        return undefined;
    }
}

const redisServerPath = findRedisServer();

/**
 * Whether the Redis tests can run. Without `redis-server` they are skipped with a loud message on a
 * developer machine, and fail in CI (`CI` set), where `.ci/run` installs it.
 */
export function redisAvailable(): boolean {
    if (redisServerPath) return true;
    const message =
        'redis-server is not installed: the RedisSessionStore tests need it (Debian: `apt-get install -y redis-server`).';
    if (process.env.CI) throw new Error(`${message} CI must install it before running the tests.`);
    console.warn(`\n${'!'.repeat(100)}\n!!! SKIPPING the Redis tests: ${message}\n${'!'.repeat(100)}\n`);
    return false;
}

/** A real `redis-server` on 127.0.0.1, on a free port, without persistence. */
export interface RedisServer {
    url: string;
    /** A client for assertions (the keys a crawl left). */
    client: Redis;
    stop(): Promise<void>;
}

async function freePort(): Promise<number> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    server.close();
    await once(server, 'close');
    return port;
}

/** Starts `redis-server` (killed by `stop()`, to be called in `afterAll`). */
export async function startRedis(): Promise<RedisServer> {
    if (!redisServerPath) throw new Error('redis-server is not installed');
    let lastError: unknown;
    // Another process may take the free port between the probe and redis-server's bind: try again.
    for (let attempt = 0; attempt < 3; attempt++) {
        const port = await freePort();
        const child = spawn(
            redisServerPath,
            ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
            { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        try {
            await waitReady(child);
        } catch (error) {
            lastError = error;
            child.kill('SIGKILL');
            continue;
        }
        const url = `redis://127.0.0.1:${port}`;
        const client = new Redis(url);
        return {
            url,
            client,
            stop: async () => {
                client.disconnect();
                if (child.exitCode === null) {
                    child.kill('SIGKILL');
                    await once(child, 'exit');
                }
            },
        };
    }
    throw new Error(`redis-server did not start: ${String(lastError)}`);
}

function waitReady(child: ChildProcess): Promise<void> {
    return new Promise((resolve, reject) => {
        let output = '';
        const timer = setTimeout(() => reject(new Error(`no "Ready" line within 10 s:\n${output}`)), 10_000);
        const onData = (chunk: Buffer) => {
            output += chunk.toString();
            if (output.includes('Ready to accept connections')) {
                clearTimeout(timer);
                child.stdout?.off('data', onData);
                // Keep draining the pipe so redis-server never blocks on a full one.
                child.stdout?.resume();
                resolve();
            }
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', (chunk: Buffer) => {
            output += chunk.toString();
        });
        child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`redis-server exited with ${code}:\n${output}`));
        });
    });
}

/** Every key in the server, sorted. */
export async function allKeys(server: RedisServer): Promise<string[]> {
    return (await server.client.keys('*')).sort();
}
