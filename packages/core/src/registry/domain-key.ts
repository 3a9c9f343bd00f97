import { getDomain } from 'tldts';

// Hostnames reach this module already parsed and lowercased by `new URL()`, so tldts need not
// extract or re-validate them.
const TLDTS_OPTIONS = { extractHostname: false } as const;

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * Whether `hostname` (as `URL.hostname` writes it) is an IP address. `new URL()` rewrites every
 * IPv4 form (`127.1`, `0x7f.1`) to four decimal parts and keeps IPv6 in brackets.
 */
export function isIpHostname(hostname: string): boolean {
    return hostname.startsWith('[') || IPV4.test(hostname);
}

/**
 * Whether `hostname` has a registrable domain (`shop.example` for `a.shop.example`). IPs, public
 * suffixes (`co.uk`) and single labels (`localhost`) have none.
 */
export function hasRegistrableDomain(hostname: string): boolean {
    return !isIpHostname(hostname) && getDomain(hostname, TLDTS_OPTIONS) !== null;
}

/**
 * The key under which the registry files patterns on `hostname` and looks URLs on `hostname`
 * up: its registrable domain, so a host and all its subdomains share one key; the hostname
 * itself when it has no registrable domain (IPs, `localhost`, public suffixes).
 */
export function domainKey(hostname: string): string {
    if (hostname === '' || isIpHostname(hostname)) return hostname;
    return getDomain(hostname, TLDTS_OPTIONS) ?? hostname;
}

/**
 * The parent names of a key (`co.uk` and `uk` for `x.co.uk`): where patterns on hosts without a
 * registrable domain are filed, which still match subdomains whose key is longer.
 */
export function parentKeys(key: string): string[] {
    const parents: string[] = [];
    if (isIpHostname(key)) return parents;
    for (let dot = key.indexOf('.'); dot !== -1; dot = key.indexOf('.', dot + 1)) {
        const parent = key.slice(dot + 1);
        if (parent !== '') parents.push(parent);
    }
    return parents;
}
