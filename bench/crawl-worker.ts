/** Worker of benchmarks 2 and 3: runs one crawl per call (see crawls.ts). */
import { type BanCrawlArgs, banCrawl, type FriendlyCrawlArgs, friendlyCrawl } from './crawls.js';
import { serve } from './ipc.js';

serve({
    friendly: (args: FriendlyCrawlArgs) => friendlyCrawl(args),
    bans: (args: BanCrawlArgs) => banCrawl(args),
});
