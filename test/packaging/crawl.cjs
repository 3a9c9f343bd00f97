// CommonJS user of the packed packages: the same crawl as crawl.mjs, loaded with require().
const { attachManagedSessions } = require('@managed-sessions/crawlee');
const { CheerioCrawler } = require('crawlee');

async function main() {
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
        `RESULT ${JSON.stringify({ loader: 'cjs', requestsFinished, requestsFailed, products: products.sort(), stats: sessions.stats })}`,
    );
}

main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
});
