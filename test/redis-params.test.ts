import type { StoreConnection } from '@managed-sessions/core/internal';
import { RedisSessionStore } from '@managed-sessions/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { captureLog } from './support/crawlee.js';
import { type RedisServer, redisAvailable, startRedis } from './support/redis.js';
import { uniquePrefix } from './support/redis-harness.js';

const HOST = 'shop.example';

describe.skipIf(!redisAvailable())('RedisSessionStore.paramsIndex: one N per sessionParams, shared', () => {
    let redis: RedisServer;
    const connections: StoreConnection[] = [];

    beforeAll(async () => {
        redis = await startRedis();
    });
    afterAll(async () => {
        await redis?.stop();
    });
    afterEach(async () => {
        await Promise.all(connections.splice(0).map((connection) => connection.close()));
    });

    /** One engine's connection to the store (a new store object each, as in another process). */
    function open(prefix: string) {
        const { log, lines } = captureLog();
        const connection = new RedisSessionStore({ url: redis.url, prefix }).open({ log });
        connections.push(connection);
        const index = (host: string, fingerprint: string) => connection.paramsIndex!(host, fingerprint);
        return { connection, index, lines };
    }

    const fingerprints = (count: number, tag = 'fp') => Array.from({ length: count }, (_, i) => `${tag}${i}`);

    it('two engines racing for distinct fingerprints get distinct numbers 0..k-1', async () => {
        const prefix = uniquePrefix('params');
        const a = open(prefix);
        const b = open(prefix);
        const onA = fingerprints(20, 'a');
        const onB = fingerprints(20, 'b');
        // Interleaved, all in flight at once.
        const calls = onA.flatMap((fp, i) => [a.index(HOST, fp), b.index(HOST, onB[i]!)]);
        const numbers = await Promise.all(calls);
        expect([...numbers].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
        // Asked again, by either engine: the same number.
        const again = await Promise.all([...onA, ...onB].map((fp, i) => (i % 2 ? a : b).index(HOST, fp)));
        const expected = new Map<string, number>();
        for (const [i, fp] of onA.entries()) expected.set(fp, numbers[2 * i]!);
        for (const [i, fp] of onB.entries()) expected.set(fp, numbers[2 * i + 1]!);
        expect(again).toEqual([...onA, ...onB].map((fp) => expected.get(fp)));
    });

    it('two engines racing for the same fingerprints agree: each fingerprint gets exactly one N', async () => {
        const prefix = uniquePrefix('same');
        const a = open(prefix);
        const b = open(prefix);
        const fps = fingerprints(25);
        const [onA, onB] = await Promise.all([
            Promise.all(fps.map((fp) => a.index(HOST, fp))),
            Promise.all([...fps].reverse().map((fp) => b.index(HOST, fp))),
        ]);
        expect(onB.reverse()).toEqual(onA);
        expect([...onA].sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    });

    it('a later engine with the same prefix keeps the pairing; hosts and prefixes number apart', async () => {
        const prefix = uniquePrefix('later');
        const first = open(prefix);
        expect(await first.index(HOST, 'x')).toBe(0);
        expect(await first.index(HOST, 'y')).toBe(1);
        expect(await first.index('other.example:8080', 'y')).toBe(0);
        await first.connection.close();

        const later = open(prefix);
        expect(await later.index(HOST, 'y')).toBe(1);
        expect(await later.index(HOST, 'z')).toBe(2);
        expect(await later.index(HOST, 'x')).toBe(0);
        expect(await open(uniquePrefix('elsewhere')).index(HOST, 'z')).toBe(0);

        const keys = (await redis.client.keys('*')).filter((key) => key.includes(prefix)).sort();
        expect(keys).toEqual([
            `${prefix}:{other.example:8080}:params`,
            `${prefix}:{other.example:8080}:params-next`,
            `${prefix}:{${HOST}}:params`,
            `${prefix}:{${HOST}}:params-next`,
        ]);
    });

    it('a lost counter resumes above the highest number in use: no duplicate', async () => {
        const prefix = uniquePrefix('lost');
        const a = open(prefix);
        for (const fp of fingerprints(3)) await a.index(HOST, fp);
        await redis.client.del(`${prefix}:{${HOST}}:params-next`);
        expect(await a.index(HOST, 'new')).toBe(3);
        expect(a.lines).toEqual([]);
    });

    it('corrupt entries are dropped with one warning per kind, and numbering goes on without a duplicate', async () => {
        const prefix = uniquePrefix('corrupt');
        const a = open(prefix);
        for (const fp of fingerprints(3)) await a.index(HOST, fp);
        const index = `${prefix}:{${HOST}}:params`;
        const counter = `${prefix}:{${HOST}}:params-next`;
        await redis.client.set(counter, 'SECRET-many');
        await redis.client.hset(index, 'fp1', 'SECRET-one');
        // fp1's number is unreadable: it gets a new one, above every number in use.
        expect(await a.index(HOST, 'fp1')).toBe(3);
        expect(await a.index(HOST, 'fp0')).toBe(0);
        expect(await a.index(HOST, 'fp4')).toBe(4);
        await redis.client.hset(index, 'fp0', 'x');
        expect(await a.index(HOST, 'fp0')).toBe(5);
        // The index is a list: the pairings are lost, and numbering goes on from the counter.
        await redis.client.del(index);
        await redis.client.rpush(index, 'SECRET-list');
        expect(await a.index(HOST, 'fp9')).toBe(6);
        expect(a.lines).toEqual([
            `Session store: dropped an unreadable sessionParams pool number (key ${index}); ` +
                'those params get a new number. ' +
                'Something other than this version of managed-sessions wrote under this prefix.',
            `Session store: reset an unreadable sessionParams counter (key ${counter}); ` +
                'numbering goes on above the highest number in use. ' +
                'Something other than this version of managed-sessions wrote under this prefix.',
            `Session store: dropped a key of the wrong Redis type (key ${index}); ` +
                `the sessionParams of ${HOST} get new pool numbers. ` +
                'Something other than this version of managed-sessions wrote under this prefix.',
        ]);
        expect(a.lines.join('\n')).not.toContain('SECRET');
    });
});
