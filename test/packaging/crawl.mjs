// ESM user of the packed packages: a CheerioCrawler with managed sessions crawls the demo shop at
// DEMO_SITE_URL (its catalogue page and the 50 products it links to) and prints one RESULT line.
import { attachManagedSessions } from '@managed-sessions/crawlee';
import { CheerioCrawler } from 'crawlee';

const siteUrl = process.env.DEMO_SITE_URL;
if (!siteUrl) throw new Error('Set DEMO_SITE_URL to the base URL of a running demo shop.');

const products = [];
const crawler = new CheerioCrawler({
    async requestHandler({ request, $, enqueueLinks }) {
        if (request.label === 'product') {
            products.push($('#product-name').text());
            return;
        }
        await enqueueLinks({ selector: 'a.product', label: 'product' });
    },
});
// The shop hands out sessions on its home page only.
const sessions = attachManagedSessions(crawler, { poolSize: 4, params: { url: `${siteUrl}/` } });
const { requestsFinished, requestsFailed } = await crawler.run([`${siteUrl}/catalogue`]);
console.log(
    `RESULT ${JSON.stringify({ loader: 'esm', requestsFinished, requestsFailed, products: products.sort(), stats: sessions.stats })}`,
);
