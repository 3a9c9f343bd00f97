import { accessSync, constants } from 'node:fs';
import type { PlaywrightLaunchContext } from '@crawlee/playwright';
import { chromium } from 'playwright-core';
import { describe, it } from 'vitest';

/** The system Chromium (Debian's `chromium` package); playwright-core never downloads a browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless flags for a closed network: without the background-networking ones Chromium keeps
 * calling Google services (through the test proxies, too).
 */
export const CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
];

function chromiumInstalled(): boolean {
    try {
        accessSync(CHROMIUM_PATH, constants.X_OK);
        return true;
    } catch {
        return false;
    }
}

/**
 * `describe()` for tests that drive a real Chromium. Without one at {@link CHROMIUM_PATH} the suite
 * fails on CI (`CI` set: CI installs it, so its absence is a broken setup) and is skipped, with a
 * warning, elsewhere.
 */
export function describeWithChromium(name: string, suite: () => void): void {
    if (chromiumInstalled()) {
        describe(name, suite);
        return;
    }
    const missing = `Chromium not found at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.`;
    if (process.env.CI) {
        describe(name, () => {
            it('has a Chromium to run in', () => {
                throw new Error(missing);
            });
        });
        return;
    }
    // Reason for the skip: README's `pnpm test` must work on a machine with only Node and npm; there the
    // browser suite is skipped loudly, while CI (which installs Chromium) fails instead, above.
    console.warn(`\n*** SKIPPING "${name}": ${missing} ***\n`);
    describe.skip(name, suite);
}

/** The PlaywrightCrawler launch context of these tests: system Chromium, incognito pages. */
export function launchContext(): PlaywrightLaunchContext {
    return {
        launcher: chromium,
        useIncognitoPages: true,
        launchOptions: { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true },
    };
}
