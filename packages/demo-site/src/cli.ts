/**
 * Starts the demo shop for humans to poke at:
 * `pnpm --filter @managed-sessions/demo-site start --port 3000 --max-uses 5 --proxies 2`.
 */
import { parseArgs } from 'node:util';
import { DEMO_SITE_DEFAULTS, type DemoSiteOptions, DemoSiteOptionsError } from './options.js';
import { startProxyExits } from './proxies.js';
import { startDemoSite } from './site.js';

const USAGE = `Usage: demo-site [options]
  --port N            port on 127.0.0.1 (default 3000; 0 for a free one)
  --seed N            seed of prices and 520/521 draws (default ${DEMO_SITE_DEFAULTS.seed})
  --protection P      forbidden | challenge (default ${DEMO_SITE_DEFAULTS.protection})
  --max-uses N        session lifetime in uses (default unlimited)
  --max-age-ms N      session lifetime in milliseconds (default unlimited)
  --min-reuse-ms N    per-session rate limit, 429 below it (default 0: off)
  --error-rate X      probability of a 520/521 per request (default 0)
  --products N        number of products (default ${DEMO_SITE_DEFAULTS.products})
  --require-login     product pages need a logged-in session (user alice, password wonderland)
  --friendly          no bans and no checks at all
  --proxies N         also start N proxy exits in front of the site
  --help              show this text`;

function number(value: string | undefined): number | undefined {
    return value === undefined ? undefined : Number(value);
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        // `pnpm start -- --port 1` passes the separator through.
        args: process.argv.slice(2).filter((arg) => arg !== '--'),
        options: {
            port: { type: 'string', default: '3000' },
            seed: { type: 'string' },
            protection: { type: 'string' },
            'max-uses': { type: 'string' },
            'max-age-ms': { type: 'string' },
            'min-reuse-ms': { type: 'string' },
            'error-rate': { type: 'string' },
            products: { type: 'string' },
            'require-login': { type: 'boolean', default: false },
            friendly: { type: 'boolean', default: false },
            proxies: { type: 'string' },
            help: { type: 'boolean', default: false },
        },
    });
    if (values.help) {
        console.log(USAGE);
        return;
    }
    const options: DemoSiteOptions = {
        port: number(values.port),
        seed: number(values.seed),
        protection: values.protection as DemoSiteOptions['protection'],
        sessionMaxUses: number(values['max-uses']),
        sessionMaxAgeMs: number(values['max-age-ms']),
        minReuseIntervalMs: number(values['min-reuse-ms']),
        errorRate: number(values['error-rate']),
        products: number(values.products),
        requireLogin: values['require-login'],
        friendly: values.friendly,
    };
    const site = await startDemoSite(options);
    const proxies = values.proxies === undefined ? undefined : await startProxyExits(Number(values.proxies), { site });
    const { seed, protection } = site.options;
    console.log(`Demo shop listening on ${site.url} (seed ${seed}, protection ${protection})`);
    console.log(`  curl -i ${site.url}/    then    curl -i -b 'sid=…' ${site.url}/product/1`);
    for (const [i, url] of (proxies?.urls ?? []).entries()) console.log(`  proxy exit ${proxies?.exits[i]}: ${url}`);
    console.log('Press Ctrl+C to stop.');

    const stop = async (): Promise<void> => {
        await proxies?.close();
        await site.close();
        const { requests, inits, pages, bans, challenges, expired, rateLimited, errors520, errors521 } = site.counters;
        console.log({ requests, inits, pages, bans, challenges, expired, rateLimited, errors520, errors521 });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
    const known = error instanceof DemoSiteOptionsError || error instanceof TypeError;
    console.error(known ? `${error.message}\nRun with --help for the options.` : error);
    process.exitCode = 1;
});
