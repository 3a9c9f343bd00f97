/**
 * Issue #16: one table of defaults. The schema fills in exactly OPTION_DEFAULTS, and the `@default`
 * tag of each option in the TSDoc of ManagedSessionsOptions shows the same value.
 */
import { readFileSync } from 'node:fs';
import { OPTION_DEFAULTS, resolveOptions } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';

/** `@default` text per option of the `ManagedSessionsOptions` interface in options.ts. */
function documentedDefaults(): Map<string, string> {
    const source = readFileSync(new URL('../src/options.ts', import.meta.url), 'utf8');
    const body = source.slice(source.indexOf('export interface ManagedSessionsOptions {'));
    const end = body.indexOf('\n}\n');
    const found = new Map<string, string>();
    // Each option: a /** … */ block, then `name?:`.
    for (const match of body.slice(0, end).matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(\w+)\?:/g)) {
        const tag = /@default\s+(.+?)\s*(?:\*\/|\n|$)/.exec(match[1]!);
        if (tag) found.set(match[2]!, tag[1]!.replace(/\s*\*$/, '').trim());
    }
    return found;
}

describe('OPTION_DEFAULTS', () => {
    it('is what resolveOptions({}) fills in, key by key', () => {
        const resolved = resolveOptions({}) as unknown as Record<string, unknown>;
        for (const [key, value] of Object.entries(OPTION_DEFAULTS)) expect([key, resolved[key]]).toEqual([key, value]);
        expect(Object.keys(OPTION_DEFAULTS).sort()).toEqual(
            Object.keys(resolved)
                .filter((key) => resolved[key] !== undefined && key !== 'registry')
                .sort(),
        );
    });

    it('hands out copies: changing resolved options changes neither the table nor the next resolve', () => {
        const first = resolveOptions({});
        first.errorStatusCodes.push(500);
        first.persistState.key = 'CHANGED';
        first.pools.x = { size: 1 };
        expect(OPTION_DEFAULTS.errorStatusCodes).toEqual([520, 521]);
        expect(resolveOptions({})).toMatchObject({
            errorStatusCodes: [520, 521],
            persistState: { key: 'MANAGED_SESSIONS_STATE' },
            pools: {},
        });
    });

    it('matches the @default of every option in the TSDoc', () => {
        const documented = documentedDefaults();
        for (const [key, value] of Object.entries(OPTION_DEFAULTS)) {
            const text = documented.get(key);
            expect([key, text]).not.toEqual([key, undefined]);
            // The tags are JavaScript literals: evaluate them and compare values.
            expect([key, new Function(`return (${text});`)()]).toEqual([key, value]);
        }
        // Options without a table entry document a default that is not a plain value (an instance, a
        // reference to another option, the in-memory store), or none. `report` alone resolves to
        // `undefined`, read as true, so the resolved options keep the shape users compare against.
        const literal = /^(?:[\d[{'"-]|true$|false$)/;
        const literalOutsideTable = [...documented].filter(
            ([key, text]) => !(key in OPTION_DEFAULTS) && literal.test(text),
        );
        expect(literalOutsideTable).toEqual([['report', 'true']]);
        expect(resolveOptions({}).report).toBeUndefined();
    });
});
