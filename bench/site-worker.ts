/**
 * The demo shop in a process of its own, so the CPU time a crawl benchmark measures in the crawler's
 * process is the crawler's alone. One site at a time; each `start` gives a fresh site (fresh sessions,
 * counters and 520/521 draw sequence from the same seed).
 */
import { type DemoSite, type DemoSiteCounters, type DemoSiteOptions, startDemoSite } from '@managed-sessions/demo-site';
import { serve } from './ipc.js';

let site: DemoSite | undefined;

serve({
    async start(options: DemoSiteOptions): Promise<{ url: string }> {
        await site?.close();
        site = await startDemoSite(options);
        return { url: site.url };
    },
    counters(): DemoSiteCounters {
        if (!site) throw new Error('no site running');
        return site.counters;
    },
    async close(): Promise<void> {
        await site?.close();
        site = undefined;
    },
});
