import { describe, expect, it } from 'vitest';
import { DEMO_SITE_DEFAULTS, type DemoSiteOptions, DemoSiteOptionsError, startDemoSite } from '../src/index.js';

describe('options', () => {
    it('has documented defaults', async () => {
        const site = await startDemoSite();
        try {
            expect(site.options).toEqual(DEMO_SITE_DEFAULTS);
            expect(DEMO_SITE_DEFAULTS).toEqual({
                port: 0,
                seed: 1,
                protection: 'forbidden',
                sessionMaxUses: undefined,
                sessionMaxAgeMs: undefined,
                minReuseIntervalMs: 0,
                errorRate: 0,
                friendly: false,
                products: 1000,
                requireLogin: false,
                users: { alice: 'wonderland' },
                bannedExits: [],
                clock: Date.now,
            });
        } finally {
            await site.close();
        }
    });

    const bad: [DemoSiteOptions, string, string][] = [
        [{ errorRate: 2 }, 'errorRate', 'Expected `errorRate` to be a number between 0 and 1, got `2` (number)'],
        [{ seed: -1 }, 'seed', 'Expected `seed` to be an integer in [0, 4294967295], got `-1` (number)'],
        [{ sessionMaxUses: 0 }, 'sessionMaxUses', 'Expected `sessionMaxUses` to be an integer >= 1, got `0` (number)'],
        [
            { sessionMaxAgeMs: Number.NaN },
            'sessionMaxAgeMs',
            'Expected `sessionMaxAgeMs` to be a finite number > 0, got `NaN` (number)',
        ],
        [
            { minReuseIntervalMs: -5 },
            'minReuseIntervalMs',
            'Expected `minReuseIntervalMs` to be a finite number >= 0, got `-5` (number)',
        ],
        [
            { protection: 'captcha' as never },
            'protection',
            "Expected `protection` to be 'forbidden' or 'challenge', got `\"captcha\"` (string)",
        ],
        [{ products: 1.5 }, 'products', 'Expected `products` to be an integer in [1, 100000000], got `1.5` (number)'],
        [{ friendly: 'yes' as never }, 'friendly', 'Expected `friendly` to be a boolean, got `"yes"` (string)'],
        [{ port: 70_000 }, 'port', 'Expected `port` to be an integer in [0, 65535], got `70000` (number)'],
        [
            { bannedExits: [0, -1] },
            'bannedExits[1]',
            'Expected `bannedExits[1]` to be an integer >= 0, got `-1` (number)',
        ],
        [{ clock: 5 as never }, 'clock', 'Expected `clock` to be a function returning milliseconds, got `5` (number)'],
        [
            { users: { alice: '' } },
            'users.alice',
            'Expected `users.alice` to be a non-empty password for a non-empty username, got `""` (string)',
        ],
    ];

    it.each(bad)('rejects %o naming %s', async (options, option, message) => {
        const error = await startDemoSite(options).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DemoSiteOptionsError);
        expect(error).toMatchObject({ option, message, code: 'ERR_DEMO_SITE_OPTIONS' });
    });

    it('rejects an unknown option and lists the known ones', async () => {
        await expect(startDemoSite({ maxUses: 3 } as never)).rejects.toThrow(
            /^Unknown option `maxUses`; known options: port, seed, protection, sessionMaxUses, /,
        );
    });
});
