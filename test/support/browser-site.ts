import type { ServerResponse } from 'node:http';
import { EXIT_HEADER } from '@managed-sessions/demo-site';
import { cookieValue, html, type SeenRequest, startServer, type TestServer } from './server.js';

/** One page request the shop answered (favicons left out). */
export interface ShopVisit {
    method: string;
    path: string;
    /** The `sid` cookie sent, if any. */
    sid: string | undefined;
    /** The `viewed` cookie sent: set by the product page's script, so only a browser sets it. */
    viewed: string | undefined;
    /** The proxy exit it came through (`x-demo-exit`), if any. */
    exit: string | undefined;
    headers: SeenRequest['headers'];
}

/** A shop that needs JavaScript, from {@link startJsShop}. */
export interface JsShop {
    url: string;
    host: string;
    visits: ShopVisit[];
    /** The postal code each session set through the location form. */
    postalCodes: Map<string, string>;
    /** The exit each session was created through (`undefined` without a proxy). */
    createdVia: Map<string, string | undefined>;
    /** From its `nth` product page on (1-based), session `sid` gets the soft-ban page (status 200). */
    banFrom(sid: string, nth: number): void;
    /** The next request for `path` is answered with `status` (an origin error such as 520). */
    failOnce(path: string, status: number): void;
    /** The HTML the server sends for product `id` (before any script ran). */
    productHtml(id: number, postalCode: string | undefined): string;
    close(): Promise<void>;
}

/**
 * A small shop on 127.0.0.1 whose content exists only after its scripts ran, like the sites browser
 * crawlers are for:
 * - `GET /` starts a session (`sid` cookie) and renders, by script, a form that posts a postal code;
 * - `POST /location` (needs a session) stores the postal code and renders it in `#postal-code`;
 * - `GET /product/:id` (needs a session, else 403) renders `#product` and `#postal-code` from inline
 *   data, and sets the `viewed` cookie to its id from script.
 */
export async function startJsShop(): Promise<JsShop> {
    let issued = 0;
    const visits: ShopVisit[] = [];
    const postalCodes = new Map<string, string>();
    const createdVia = new Map<string, string | undefined>();
    const bans = new Map<string, number>();
    const productViews = new Map<string, number>();
    const failures = new Map<string, number>();

    const server: TestServer = await startServer((request, response) => {
        const path = request.path.split('?')[0]!;
        if (path === '/favicon.ico') return notFound(response);
        const sid = cookieValue(request.cookie, 'sid');
        const exit = request.headers[EXIT_HEADER] as string | undefined;
        visits.push({
            method: request.method,
            path,
            sid,
            viewed: cookieValue(request.cookie, 'viewed'),
            exit,
            headers: request.headers,
        });
        const failure = failures.get(path);
        if (failure !== undefined) {
            failures.delete(path);
            return html(response, '<h1 id="origin-error">Origin error</h1>', failure);
        }
        const known = sid !== undefined && createdVia.has(sid);
        if (path === '/' && request.method === 'GET') {
            if (known) return html(response, FORM_PAGE);
            const created = `s${++issued}`;
            createdVia.set(created, exit);
            return html(response, FORM_PAGE, 200, { 'set-cookie': `sid=${created}; Path=/; HttpOnly` });
        }
        if (!known) return html(response, '<h1 id="forbidden">Forbidden</h1>', 403);
        if (path === '/location' && request.method === 'POST') {
            const postalCode = new URLSearchParams(request.body).get('postalCode') ?? '';
            postalCodes.set(sid, postalCode);
            return html(response, render({ postalCode }));
        }
        const product = /^\/product\/(\d+)$/.exec(path);
        if (product && request.method === 'GET') {
            const views = (productViews.get(sid) ?? 0) + 1;
            productViews.set(sid, views);
            if (views >= (bans.get(sid) ?? Number.POSITIVE_INFINITY)) {
                return html(response, '<h1 id="banned">Please verify you are a human</h1>');
            }
            return html(response, productHtml(Number(product[1]), postalCodes.get(sid)));
        }
        return notFound(response);
    });

    return {
        url: server.url,
        host: server.host,
        visits,
        postalCodes,
        createdVia,
        banFrom: (sid, nth) => void bans.set(sid, nth),
        failOnce: (path, status) => void failures.set(path, status),
        productHtml,
        close: () => server.close(),
    };
}

/** The location form, built by script. */
const FORM_PAGE =
    '<div id="app">Loading…</div><script>' +
    "const form = document.createElement('form'); form.id = 'location-form'; form.method = 'post'; form.action = '/location';" +
    "const input = document.createElement('input'); input.id = 'postal-code-input'; input.name = 'postalCode';" +
    "const save = document.createElement('button'); save.id = 'save'; save.textContent = 'Save';" +
    "form.append(input, save); document.getElementById('app').replaceChildren(form);" +
    '</script>';

function productHtml(id: number, postalCode: string | undefined): string {
    return `${render({ id, postalCode: postalCode ?? null })}<script>document.cookie = 'viewed=${id}; path=/';</script>`;
}

/**
 * A page whose content a script builds from inline data: `<h1 id="product">` (with an id) and
 * `<span id="postal-code">`. Neither tag is in the HTML sent, only in the rendered page.
 */
function render(data: { id?: number; postalCode: string | null }): string {
    return (
        `<div id="app">Loading…</div><script>const data = ${JSON.stringify(data)};` +
        "const app = document.getElementById('app'); app.replaceChildren();" +
        "if (data.id) { const h = document.createElement('h1'); h.id = 'product'; h.textContent = 'Product ' + data.id; app.append(h); }" +
        "const p = document.createElement('p'); const span = document.createElement('span'); span.id = 'postal-code';" +
        "span.textContent = data.postalCode || 'none'; p.append('Delivery to ', span); app.append(p);</script>"
    );
}

function notFound(response: ServerResponse): void {
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found');
}
