/**
 * Helpers of the reliability suite (`test/reliability-*.test.ts`, issue #6): servers that go down and come
 * back on the same port, a CheerioCrawler that records every outcome, the request ledger, and a log
 * capture that sees everything a crawl prints.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, Socket } from 'node:net';
import { inspect } from 'node:util';
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, log as crawleeLog, Log, LogLevel, RequestQueueV1 } from '@crawlee/core';
import { MemoryStorage } from '@crawlee/memory-storage';
import { afterEach, expect } from 'vitest';
import { testConfig } from './crawlee.js';
import { type SeenRequest, startServer, type TestServer } from './server.js';

type Handler = (request: SeenRequest, response: import('node:http').ServerResponse) => void | Promise<void>;

/** Something a test opened and the `afterEach` of {@link useCleanup} closes. */
interface Closable {
    close(): Promise<void>;
}

/** Registers an `afterEach` that closes what the returned function was given, in the calling test file. */
export function useCleanup(): <T extends Closable>(item: T) => T {
    const open: Closable[] = [];
    afterEach(async () => {
        await Promise.all(open.splice(0).map((item) => item.close()));
    });
    return (item) => {
        open.push(item);
        return item;
    };
}

/** A port on 127.0.0.1 where nothing listens: connecting to it is refused (ECONNREFUSED). */
export async function deadPort(): Promise<number> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    server.close();
    await once(server, 'close');
    return port;
}

/** The site of a host that was down (see {@link deadPort}) coming back up at the same address. */
export function startServerAt(port: number, handler: Handler): Promise<TestServer> {
    return startServer(handler, port);
}

/**
 * One in-memory storage that several crawlers open in turn, as processes restarted over the same storage
 * directory would: each `open()` gives a new `Configuration` (so nothing is shared but the stored data)
 * and a `RequestQueueV1` on it. Crawlee's default (v2) queue locks the requests it prefetched for at
 * least a minute, and a stopped crawl leaves them locked, so a second crawler would see them only then.
 */
export function sharedStorage(): () => Promise<{ config: Configuration; requestQueue: RequestQueueV1 }> {
    const storageClient = new MemoryStorage({ persistStorage: false, writeMetadata: false });
    return async () => {
        const config = new Configuration({ storageClient, persistStorage: false, purgeOnStart: false });
        return { config, requestQueue: await RequestQueueV1.open(null, { config }) };
    };
}

/**
 * A TCP relay in front of a local HTTP proxy (`startProxy()` of `proxy.ts`): what the client sends goes
 * through unchanged (proxy credentials included), except that a connection whose data matches `cut`
 * is destroyed at once: a network error between the crawler and its proxy, on chosen requests only.
 */
export async function startRelay(
    targetPort: number,
    cut: (data: string) => boolean,
): Promise<{ port: number; cuts: number; close(): Promise<void> }> {
    const sockets = new Set<Socket>();
    const relay = { port: 0, cuts: 0, close: async () => undefined };
    const server = createTcpServer((client) => {
        const upstream = new Socket();
        for (const socket of [client, upstream]) {
            sockets.add(socket);
            socket.on('error', () => undefined);
            socket.on('close', () => {
                sockets.delete(socket);
                client.destroy();
                upstream.destroy();
            });
        }
        upstream.connect(targetPort, '127.0.0.1');
        upstream.pipe(client);
        client.on('data', (chunk: Buffer) => {
            if (cut(chunk.toString())) {
                relay.cuts++;
                client.destroy();
                return;
            }
            upstream.write(chunk);
        });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    relay.port = (server.address() as AddressInfo).port;
    relay.close = async () => {
        for (const socket of sockets) socket.destroy();
        server.close();
        await once(server, 'close');
    };
    return relay;
}

type CheerioOptions = NonNullable<ConstructorParameters<typeof CheerioCrawler>[0]>;

/** What a {@link recordingCrawler} saw: the URL of each handled request and each final failure. */
export interface CrawlRecord {
    /** `request.url` of every request the handler finished. */
    handled: string[];
    /**
     * Every request that ended in `failedRequestHandler`, with the error it was given and the error
     * messages Crawlee stored on the request (they are saved with it in the request queue).
     */
    failed: { url: string; error: Error; errorMessages: string[] }[];
    /** `request.url` and message of every error that `errorHandler` saw (a retry followed). */
    retried: { url: string; message: string }[];
}

/**
 * A CheerioCrawler (one request at a time, no plain retries: every retry is a session rotation or a
 * request put back by a stop) that records every outcome in `record`. `onPage` runs in the handler.
 */
export function recordingCrawler(
    options: {
        log: Log;
        config?: Configuration;
        record?: CrawlRecord;
        onPage?: CheerioOptions['requestHandler'];
    } & Partial<Omit<CheerioOptions, 'log' | 'requestHandler'>>,
): { crawler: CheerioCrawler; record: CrawlRecord } {
    const { log, config = testConfig(), record = { handled: [], failed: [], retried: [] }, onPage, ...rest } = options;
    const crawler = new CheerioCrawler(
        {
            log,
            maxConcurrency: 1,
            maxRequestRetries: 0,
            requestHandler: async (context) => {
                await onPage?.(context);
                record.handled.push(context.request.url);
            },
            errorHandler: ({ request }, error) =>
                void record.retried.push({ url: request.url, message: error.message }),
            failedRequestHandler: ({ request }, error) =>
                void record.failed.push({ url: request.url, error, errorMessages: [...request.errorMessages] }),
            ...rest,
        },
        config,
    );
    return { crawler, record };
}

/** Where every added request is after a run: handled by the handler, failed, or still in the queue. */
export interface Ledger {
    added: number;
    handled: number;
    failed: number;
    pending: number;
}

/**
 * The request ledger of a crawl, from two sides that must agree: what the crawler's handlers saw
 * (`record`) and what its request queue holds. Fails the test when a request is unaccounted for
 * (handled + failed + pending != added), handled twice, or marked handled in the queue without
 * reaching a handler.
 */
export async function ledger(crawler: CheerioCrawler, record: CrawlRecord): Promise<Ledger> {
    const info = await (await crawler.getRequestQueue()).getInfo();
    const queue = {
        total: info?.totalRequestCount ?? 0,
        handled: info?.handledRequestCount ?? 0,
        pending: info?.pendingRequestCount ?? 0,
    };
    const result: Ledger = {
        added: queue.total,
        handled: record.handled.length,
        failed: record.failed.length,
        pending: queue.pending,
    };
    expect({
        accounted: result.handled + result.failed + result.pending,
        queueHandled: queue.handled,
        handledTwice: record.handled.filter((url, i) => record.handled.indexOf(url) !== i),
    }).toEqual({ accounted: result.added, queueHandled: result.handled + result.failed, handledTwice: [] });
    return result;
}

/** One captured log line or console write, with its data and exception (cause chain included) inspected. */
function describeEntry(message: unknown, data?: unknown, exception?: unknown): string {
    return [
        String(message),
        data === undefined ? '' : inspect(data, { depth: 6 }),
        exception === undefined ? '' : inspect(exception, { depth: 6 }),
    ]
        .filter(Boolean)
        .join(' ');
}

/**
 * Captures everything a crawl prints, at DEBUG level: the returned crawler `log`, Crawlee's global
 * `log`, `console.*`, and raw `process.stdout` / `process.stderr` writes. Exceptions and data are
 * inspected deeply (cause chains, own properties), as a user's `log.exception(error)` or
 * `console.error(error)` would print them. Call `restore()` when the crawl is over.
 */
export function captureEverything(): { log: Log; lines: string[]; restore(): void } {
    const lines: string[] = [];
    const logger = {
        log: (_level: number, message: string, data?: unknown, exception?: unknown) =>
            void lines.push(describeEntry(message, data, exception)),
        setOptions: () => undefined,
        getOptions: () => ({}),
    };
    const log = new Log({ level: LogLevel.DEBUG, logger: logger as never });

    const globalOptions = crawleeLog.getOptions();
    crawleeLog.setOptions({ level: LogLevel.DEBUG, logger: logger as never });
    const consoleMethods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
    const originalConsole = consoleMethods.map((name) => [name, console[name]] as const);
    for (const name of consoleMethods) {
        console[name] = (...args: unknown[]) =>
            void lines.push(args.map((arg) => inspect(arg, { depth: 6 })).join(' '));
    }
    const writes = [process.stdout, process.stderr].map((stream) => [stream, stream.write] as const);
    for (const [stream] of writes) {
        stream.write = ((chunk: unknown) => {
            lines.push(String(chunk));
            return true;
        }) as typeof stream.write;
    }
    return {
        log,
        lines,
        restore: () => {
            crawleeLog.setOptions(globalOptions);
            for (const [name, original] of originalConsole) console[name] = original as never;
            for (const [stream, write] of writes) stream.write = write;
        },
    };
}

/** Resolves once `condition()` holds: it watches state that no event announces. */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
        if (Date.now() > deadline) throw new Error(`until(): condition not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
}
