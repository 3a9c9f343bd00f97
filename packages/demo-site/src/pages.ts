/**
 * The HTML the site serves. Pages are small strings with stable `id` markers that tests and
 * session checks look for; nothing here touches session state.
 */

/** Products per catalogue page. */
export const PAGE_SIZE = 50;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function layout(title: string, body: string, head = ''): string {
    return (
        `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${head}</head>` +
        `<body>${body}</body></html>`
    );
}

/** `GET /`: the CSRF token of the session in a meta tag. */
export function homePage(csrf: string): string {
    return layout(
        'Demo shop',
        '<h1 id="home">Demo shop</h1><nav><a href="/catalogue">Catalogue</a> <a href="/login">Log in</a></nav>',
        `<meta name="csrf-token" content="${csrf}">`,
    );
}

/** One catalogue page: links to its products and to the neighbouring pages. */
export function cataloguePage(page: number, pages: number, products: readonly { id: number; name: string }[]): string {
    let items = '';
    for (const { id, name } of products) {
        items += `<li><a class="product" href="/product/${id}">${escapeHtml(name)}</a></li>`;
    }
    const prev = page > 1 ? `<a id="prev" href="/catalogue?page=${page - 1}">Previous</a> ` : '';
    const next = page < pages ? `<a id="next" href="/catalogue?page=${page + 1}">Next</a>` : '';
    return layout(
        `Catalogue, page ${page}`,
        `<h1 id="catalogue">Catalogue</h1><p>Page <span id="page">${page}</span> of <span id="pages">${pages}</span></p>` +
            `<ul id="products">${items}</ul><nav>${prev}${next}</nav>`,
    );
}

/** `GET /product/:id`: name, price for the session's postal code, and that postal code (or `none`). */
export function productPage(id: number, name: string, price: number, postalCode: string | undefined): string {
    const safeName = escapeHtml(name);
    return layout(
        safeName,
        `<article id="product" data-id="${id}"><h1 id="product-name">${safeName}</h1>` +
            `<p>Price: <span id="price">${price.toFixed(2)}</span> <span id="currency">USD</span></p>` +
            `<p>Delivery to: <span id="postal-code">${postalCode === undefined ? 'none' : escapeHtml(postalCode)}</span></p>` +
            '</article><a href="/catalogue">Back to the catalogue</a>',
    );
}

/** `POST /location` answered with HTML (form bodies). */
export function locationPage(postalCode: string): string {
    return layout(
        'Delivery location',
        `<h1 id="location">Delivery location set</h1><p><span id="postal-code">${escapeHtml(postalCode)}</span></p>`,
    );
}

/** `GET /login`: a form with a one-time hidden `form_token`. */
export function loginPage(formToken: string, error?: string): string {
    return layout(
        'Log in',
        '<h1 id="login">Log in</h1>' +
            (error === undefined ? '' : `<p id="login-error">${escapeHtml(error)}</p>`) +
            '<form method="post" action="/login">' +
            `<input type="hidden" name="form_token" value="${formToken}">` +
            '<input name="username"> <input name="password" type="password"> <button>Log in</button></form>',
    );
}

/** `GET /account` of a logged-in session. */
export function accountPage(user: string): string {
    return layout('Account', `<h1 id="account">Account</h1><p id="user">${escapeHtml(user)}</p>`);
}

/** `GET /account` without login in friendly mode (200 instead of 403). */
export function guestAccountPage(): string {
    return layout('Account', '<h1 id="account">Account</h1><p id="guest">Not logged in</p>');
}

/** Status 200 for a session past `sessionMaxUses` / `sessionMaxAgeMs`: only a body check notices. */
export const EXPIRED_PAGE = layout(
    'Session expired',
    '<h1 id="expired">Session expired</h1><a href="/">Start again</a>',
);

/** Status 200 for a protected page without a valid session under `protection: 'challenge'`. */
export const CHALLENGE_PAGE = layout(
    'Just a moment',
    '<h1 id="challenge">Please enable cookies</h1><p>Visit <a href="/">the home page</a> first.</p>',
);

/** Why a 403 was served; shown in `<p id="reason">`. */
export type ForbiddenReason = 'no-session' | 'exit-banned' | 'csrf' | 'form-token' | 'login-required';

const FORBIDDEN_PAGES = new Map<ForbiddenReason, string>();

/** Status 403. */
export function forbiddenPage(reason: ForbiddenReason): string {
    let page = FORBIDDEN_PAGES.get(reason);
    if (page === undefined) {
        page = layout('Access denied', `<h1 id="forbidden">Access denied</h1><p id="reason">${reason}</p>`);
        FORBIDDEN_PAGES.set(reason, page);
    }
    return page;
}

/** Status 429. */
export const RATE_LIMITED_PAGE = layout('Too many requests', '<h1 id="rate-limited">Too many requests</h1>');

/** Status 404. */
export const NOT_FOUND_PAGE = layout('Not found', '<h1 id="not-found">Not found</h1>');

/** Status 520 / 521, as a CDN in front of a failing origin would answer. */
export function originErrorPage(status: 520 | 521): string {
    return status === 520 ? ORIGIN_520 : ORIGIN_521;
}

const ORIGIN_520 = layout('520', '<h1 id="origin-error">Error 520: web server returned an unknown error</h1>');
const ORIGIN_521 = layout('521', '<h1 id="origin-error">Error 521: web server is down</h1>');
