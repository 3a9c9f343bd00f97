export { productName, productPrice } from './catalogue.js';
export type { DemoSiteCounters } from './counters.js';
export {
    DEMO_SITE_DEFAULTS,
    type DemoSiteOptions,
    DemoSiteOptionsError,
    type Protection,
    type ResolvedDemoSiteOptions,
} from './options.js';
export { type ForbiddenReason, PAGE_SIZE } from './pages.js';
export { type ProxyExits, type ProxyExitsOptions, startProxyExits } from './proxies.js';
export type { DemoSessionSnapshot } from './sessions.js';
export { type DemoSite, EXIT_HEADER, SESSION_COOKIE, startDemoSite } from './site.js';
