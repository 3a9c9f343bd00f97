import { MemorySessionStore, type SessionStore } from '@managed-sessions/core';
import type { StoreConnection } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { captureLog, req, setup } from './helpers.js';

const HOST = 'shop.example';
const alice = { url: `https://${HOST}/login?account=alice` };
const bob = { url: `https://${HOST}/login?account=bob` };
const page = (account: string, params: object) => req(`https://${HOST}/p/${account}`, { sessionParams: params });

/**
 * A store shared by several engines (as processes sharing Redis would): in-memory pools, with the
 * params numbering kept in one place, as `StoreConnection.paramsIndex()` asks.
 */
function sharedNumberingStore(): SessionStore & { asked: string[] } {
    const numbers = new Map<string, Map<string, number>>();
    const memory = new MemorySessionStore().open();
    const asked: string[] = [];
    return {
        asked,
        open: (): StoreConnection => ({
            keepsSessions: false,
            createPool: memory.createPool,
            close: memory.close,
            paramsIndex: async (host, fingerprint) => {
                asked.push(`${host} ${fingerprint}`);
                const byFingerprint = numbers.get(host) ?? new Map<string, number>();
                numbers.set(host, byFingerprint);
                if (!byFingerprint.has(fingerprint)) byFingerprint.set(fingerprint, byFingerprint.size);
                return byFingerprint.get(fingerprint)!;
            },
        }),
    };
}

async function poolOf(h: ReturnType<typeof setup>, account: string, params: object): Promise<string> {
    const lease = h.manager.acquire(page(account, params));
    await h.clock.advance(0);
    const got = (await lease)!;
    h.manager.release(got);
    return got.poolId;
}

describe('host[N] for sessionParams', () => {
    it('is the same N for the same params, whatever their key order, with a fingerprint of 16 hex digits', async () => {
        const h = setup();
        expect(await poolOf(h, 'alice', { url: alice.url, method: 'GET' })).toBe(`${HOST}[0]`);
        expect(await poolOf(h, 'bob', bob)).toBe(`${HOST}[1]`);
        expect(await poolOf(h, 'alice', { method: 'GET', url: alice.url })).toBe(`${HOST}[0]`);
        const state = h.manager.snapshot(true);
        expect(state.paramsPools).toEqual([
            { host: HOST, fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/), index: 0 },
            { host: HOST, fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/), index: 1 },
        ]);
        expect(state.pools.find((pool) => pool.id === `${HOST}[1]`)!.sessions[0]!.paramsFingerprint).toBe(
            state.paramsPools![1]!.fingerprint,
        );
    });

    it('keeps its pairings across a restart: known params keep N, new params get the next free N', async () => {
        const first = setup({ poolSize: 1 });
        await poolOf(first, 'alice', alice);
        await poolOf(first, 'bob', bob);
        const state = JSON.parse(JSON.stringify(first.manager.snapshot(true)));

        const second = setup({ poolSize: 1 });
        second.manager.restore(state);
        expect(await poolOf(second, 'bob', bob)).toBe(`${HOST}[1]`);
        expect(await poolOf(second, 'carol', { url: `https://${HOST}/login?account=carol` })).toBe(`${HOST}[2]`);
        expect(await poolOf(second, 'alice', alice)).toBe(`${HOST}[0]`);
        // bob's and alice's saved sessions served them: only carol's pool initialised.
        expect(second.site.calls.map((call) => call.url)).toEqual([`https://${HOST}/login?account=carol`]);
    });

    it('asks a shared store for N, once per params, so engines that saw the params in another order agree', async () => {
        const store = sharedNumberingStore();
        const one = setup({ store });
        const two = setup({ store });
        expect(await poolOf(one, 'alice', alice)).toBe(`${HOST}[0]`);
        expect(await poolOf(two, 'bob', bob)).toBe(`${HOST}[1]`);
        expect(await poolOf(two, 'alice', alice)).toBe(`${HOST}[0]`);
        expect(await poolOf(one, 'bob', bob)).toBe(`${HOST}[1]`);
        // Concurrent first requests of one engine ask once.
        const three = setup({ store });
        const leases = [three.manager.acquire(page('bob', bob)), three.manager.acquire(page('bob', bob))];
        await three.clock.advance(0);
        expect((await Promise.all(leases)).map((lease) => lease!.poolId)).toEqual([`${HOST}[1]`, `${HOST}[1]`]);
        expect(store.asked).toHaveLength(5);
    });

    it('drops a saved session whose params differ from its pool, or saved without a fingerprint, and logs it', async () => {
        const first = setup({ poolSize: 1 });
        await poolOf(first, 'alice', alice);
        const state = JSON.parse(JSON.stringify(first.manager.snapshot(true)));
        // Records written before pairings were stable carry neither pairings nor fingerprints.
        const legacy = structuredClone(state);
        delete legacy.paramsPools;
        delete legacy.pools[0].sessions[0].paramsFingerprint;
        // A record whose pairing says bob's params are host[0], while its session was alice's.
        const other = setup({ poolSize: 1 });
        await poolOf(other, 'bob', bob);
        const swapped = structuredClone(state);
        swapped.paramsPools[0].fingerprint = other.manager.snapshot(true).paramsPools![0]!.fingerprint;

        for (const [record, params] of [
            [legacy, alice],
            [swapped, bob],
        ] as const) {
            const { log, lines } = captureLog();
            const h = setup({ poolSize: 1 }, { log });
            h.manager.restore(record);
            const lease = h.manager.acquire(page('x', params));
            await h.clock.advance(0);
            const got = (await lease)!;
            expect(got.session.id).not.toBe(state.pools[0].sessions[0].id);
            expect(h.site.calls).toHaveLength(1);
            expect(lines.map((line) => line.message)).toContain(
                `Dropped 1 saved sessions of pool ${HOST}[0]: they were initialised for other userData.sessionParams.`,
            );
        }
    });

    it('does not number params a second way when a store answers badly', async () => {
        const store: SessionStore = {
            open: () => ({ ...new MemorySessionStore().open(), paramsIndex: async () => -1 }),
        };
        const h = setup({ store });
        await expect(h.manager.acquire(page('alice', alice))).rejects.toThrow(
            `The session store numbered sessionParams of ${HOST} as -1; paramsIndex() must resolve to an integer >= 0.`,
        );
    });
});
