import { isIpHostname } from './domain-key.js';
import type { TargetUrl } from './target-url.js';

/** Includes must name a host (or be `''`); excludes may constrain only a path, query or fragment. */
export type PatternRole = 'include' | 'exclude';

/** How a pattern's host relates to the URL hosts it matches. */
export type HostMode = 'exact' | 'www' | 'subdomains';

interface PatternParts {
    source: string;
    scheme: string | undefined;
    hostname: string | undefined;
    port: string;
    hostMode: HostMode;
    path: TextPattern | undefined;
    query: ReadonlyArray<readonly [string, readonly TextPattern[]]> | undefined;
    fragment: TextPattern | undefined;
    specificity: readonly number[];
}

// RFC 3986 scheme followed by `//`, as url-matcher recognises it.
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const HOST_END = /[/?#]/;
const TRAILING_PORT = /:(\d*)$/;
// `new URL()` drops these ports for these schemes, so a URL on them reports port `''`.
const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443', ws: '80', wss: '443', ftp: '21' };

/**
 * One url-matcher pattern, parsed once at registration and matched against many URLs.
 *
 * Syntax, as in Zyte's url-matcher: `[scheme://]host[:port][/path][?query][#fragment]`.
 * - A bare host (`shop.example`, nothing after it) matches that host and all its subdomains. With
 *   a path, query or fragment the host matches itself and its `www.` subdomain only. IP hosts
 *   match themselves only. Hosts compare case-insensitively; `*` and `|` are rejected in hosts.
 * - Without a scheme any scheme matches. Without a port only the scheme's default port matches;
 *   `:80` implies `http` and `:443` implies `https`, as in url-matcher.
 * - The path and the fragment are prefix matches; `*` matches any run of characters and a
 *   trailing `|` anchors the end.
 * - Every query parameter of the pattern must be present in the URL, in any order, with one of
 *   the values the pattern gives for it (`*` wildcards allowed in values). Other parameters may
 *   be present. `?*` alone constrains nothing.
 * - Path, query and fragment compare ASCII-case-insensitively, after the same normalisation
 *   (percent-encoding) that `new URL()` applies to the URL.
 * - `''` matches every URL.
 */
export class UrlPattern {
    /** The pattern as written. */
    readonly source: string;
    /** The normalised hostname (`xn--bcher-kva.example`), or `undefined` when any host matches. */
    readonly hostname: string | undefined;
    /**
     * Compared element by element, higher first, to rank patterns that match the same URL:
     * host labels, literal path characters, anchored path, query parameters, literal fragment
     * characters, anchored fragment, explicit port, scheme.
     */
    readonly specificity: readonly number[];
    /** The lowercase scheme a URL must have, or `undefined` for any. */
    readonly scheme: string | undefined;
    /** The port a URL must have (`''`: the scheme's default); checked only when there is a hostname. */
    readonly port: string;
    readonly hostMode: HostMode;
    /** The path a URL must have, or `undefined` for any. */
    readonly path: TextPattern | undefined;
    /** Whether the pattern constrains the query or the fragment ({@link matchesQueryAndFragment}). */
    readonly hasQueryOrFragment: boolean;
    readonly #dotHostname: string;
    readonly #wwwHostname: string;
    readonly #query: ReadonlyArray<readonly [string, readonly TextPattern[]]> | undefined;
    readonly #fragment: TextPattern | undefined;

    private constructor(parts: PatternParts) {
        this.source = parts.source;
        this.hostname = parts.hostname;
        this.specificity = parts.specificity;
        this.scheme = parts.scheme;
        this.port = parts.port;
        this.hostMode = parts.hostMode;
        this.path = parts.path;
        this.hasQueryOrFragment = parts.query !== undefined || parts.fragment !== undefined;
        this.#dotHostname = `.${parts.hostname}`;
        this.#wwwHostname = `www.${parts.hostname}`;
        this.#query = parts.query;
        this.#fragment = parts.fragment;
    }

    /**
     * Parses `source`.
     *
     * @param context Prefix of error messages, naming what is being registered.
     * @throws TypeError naming the pattern and how to fix it.
     */
    static parse(source: string, role: PatternRole, context: string): UrlPattern {
        const fail = (problem: string): never => {
            throw new TypeError(`${context}${role} pattern '${source}' ${problem}`);
        };

        const schemeMatch = SCHEME.exec(source);
        let scheme = schemeMatch?.[1]?.toLowerCase();
        const rest = schemeMatch === null ? source : source.slice(schemeMatch[0].length);
        const hostEnd = rest.search(HOST_END);
        const hostPart = hostEnd === -1 ? rest : rest.slice(0, hostEnd);
        const tail = hostEnd === -1 ? '' : rest.slice(hostEnd);
        const hashAt = tail.indexOf('#');
        const beforeHash = hashAt === -1 ? tail : tail.slice(0, hashAt);
        const fragmentText = hashAt === -1 ? '' : tail.slice(hashAt + 1);
        const queryAt = beforeHash.indexOf('?');
        const pathText = queryAt === -1 ? beforeHash : beforeHash.slice(0, queryAt);
        const queryText = queryAt === -1 ? '' : beforeHash.slice(queryAt + 1);

        let hostname: string | undefined;
        let port = '';
        let hostMode: HostMode = 'exact';
        if (source === '') {
            // The universal pattern: nothing to check.
        } else if (hostPart === '') {
            if (role === 'include' || scheme !== undefined) fail(noHostProblem(source, schemeMatch?.[0], rest, role));
        } else {
            ({ hostname, port } = parseHost(hostPart, tail, fail));
            if (port !== '') {
                // url-matcher reads `:80` and `:443` as the default port of http and https.
                if (scheme === undefined && (port === '80' || port === '443')) {
                    scheme = port === '80' ? 'http' : 'https';
                    port = '';
                } else if (scheme !== undefined && DEFAULT_PORTS[scheme] === port) {
                    port = '';
                }
            }
            const bare = pathText === '' && queryText === '' && fragmentText === '';
            hostMode = isIpHostname(hostname) ? 'exact' : bare ? 'subdomains' : 'www';
        }

        const path =
            pathText === '' ? undefined : anchoredText(pathText, (body) => new URL(`http://h${body}`).pathname);
        const fragment =
            fragmentText === ''
                ? undefined
                : anchoredText(fragmentText, (body) => new URL(`http://h/#${body}`).hash.slice(1));
        const query = parseQuery(queryText, fail);

        return new UrlPattern({
            source,
            scheme,
            hostname,
            port,
            hostMode,
            path: path?.pattern,
            query,
            fragment: fragment?.pattern,
            specificity: [
                hostname === undefined ? 0 : hostname.split('.').length,
                path?.literalLength ?? 0,
                path?.anchored ? 1 : 0,
                query?.length ?? 0,
                fragment?.literalLength ?? 0,
                fragment?.anchored ? 1 : 0,
                port === '' ? 0 : 1,
                scheme === undefined ? 0 : 1,
            ],
        });
    }

    /** Whether `url` matches this pattern. */
    matches(url: TargetUrl): boolean {
        if (this.scheme !== undefined && url.scheme !== this.scheme) return false;
        if (this.hostname !== undefined && (url.port !== this.port || !this.#matchesHost(url.hostname))) return false;
        if (this.path !== undefined && !this.path.test(url.path)) return false;
        return !this.hasQueryOrFragment || this.matchesQueryAndFragment(url);
    }

    /** Whether the query and the fragment of `url` match this pattern's (scheme, host and path not checked). */
    matchesQueryAndFragment(url: TargetUrl): boolean {
        if (this.#fragment !== undefined && !this.#fragment.test(url.fragment)) return false;
        if (this.#query !== undefined) {
            const query = url.query;
            for (const [name, alternatives] of this.#query) {
                const values = query.get(name);
                if (values === undefined || !values.some((value) => alternatives.some((match) => match.test(value)))) {
                    return false;
                }
            }
        }
        return true;
    }

    #matchesHost(hostname: string): boolean {
        if (hostname === this.hostname) return true;
        if (this.hostMode === 'subdomains') return hostname.endsWith(this.#dotHostname);
        return this.hostMode === 'www' && hostname === this.#wwwHostname;
    }
}

function noHostProblem(source: string, scheme: string | undefined, rest: string, role: PatternRole): string {
    const everyUrl = role === 'include' ? ", or '' to match every URL" : '';
    if (scheme === undefined && source.startsWith('//')) {
        // url-matcher reads `//shop.example/x` as a path; the user almost certainly meant a host.
        return `has no host (a leading '//' starts a path); write it as '${source.slice(2)}'${everyUrl}.`;
    }
    return `has no host; write it as '${scheme ?? ''}shop.example${rest}' with your site's host${everyUrl}.`;
}

function parseHost(
    hostPart: string,
    tail: string,
    fail: (problem: string) => never,
): { hostname: string; port: string } {
    if (hostPart.includes('*')) {
        // Only a bare host matches subdomains, so only then does dropping `*.` keep the meaning.
        const parent = hostPart.replace(/^(\*\.)+/, '');
        const fix =
            tail === '' && !/[*|]/.test(parent)
                ? `To match ${parent} and all its subdomains, write '${parent}'.`
                : "Write the host without '*' (a bare host such as 'shop.example' matches all its subdomains) " +
                  "and put wildcards after it ('shop.example/*.pdf|').";
        fail(`has '*' in its host; '*' works in paths, query values and fragments only. ${fix}`);
    }
    if (hostPart.includes('|')) {
        const host = hostPart.replaceAll('|', '');
        fail(
            tail === ''
                ? `has '|' in its host; '|' anchors the end of a path or fragment only. ` +
                      `Write '${host}/' to match ${host} and www.${host} but no other subdomain, ` +
                      `or '${host}/|' to match its home page only.`
                : `has '|' in its host; '|' anchors the end of a path or fragment only. Write '${host}${tail}'.`,
        );
    }
    if (hostPart.includes('@')) {
        fail(
            `has user info in its host; write the host alone, e.g. '${hostPart.slice(hostPart.lastIndexOf('@') + 1)}'.`,
        );
    }
    let url: URL | undefined;
    try {
        url = new URL(`http://${hostPart}/`);
    } catch {
        // Reported below.
    }
    const hostname = url?.hostname.replace(/\.$/, '') ?? '';
    // A backslash would end the host for `new URL()`; anything left after the host is invalid.
    if (url === undefined || hostname === '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
        fail(`has an invalid host '${hostPart}'; write a hostname or IP, with an optional port ('localhost:3000').`);
    }
    // `new URL()` drops `:80` for http, but the pattern's port decides its scheme, so read it as written.
    const port = TRAILING_PORT.exec(hostPart)?.[1] ?? '';
    return { hostname, port: port === '' ? '' : String(Number(port)) };
}

function parseQuery(
    queryText: string,
    fail: (problem: string) => never,
): ReadonlyArray<readonly [string, readonly TextPattern[]]> | undefined {
    // url-matcher reads `?*` as "any query": a wildcard name it drops.
    if (queryText === '' || queryText === '*') return undefined;
    const alternativesByName = new Map<string, TextPattern[]>();
    for (const [rawName, value] of new URLSearchParams(queryText)) {
        const name = rawName.toLowerCase();
        if (name === '') fail("has a query parameter without a name; write it as 'name=value'.");
        if (name.includes('*')) {
            fail(
                `has '*' in the query parameter name '${rawName}'; '*' works in query values only. ` +
                    "Write 'name=*' for a parameter that must be present with any value.",
            );
        }
        const alternatives = alternativesByName.get(name) ?? [];
        alternatives.push(new TextPattern(value.toLowerCase(), true));
        alternativesByName.set(name, alternatives);
    }
    return alternativesByName.size === 0 ? undefined : [...alternativesByName];
}

/** A path or fragment pattern: a prefix match unless it ends with `|`. */
function anchoredText(
    text: string,
    normalize: (body: string) => string,
): { pattern: TextPattern; literalLength: number; anchored: boolean } {
    const anchored = text.endsWith('|');
    const literal = normalize(anchored ? text.slice(0, -1) : text).toLowerCase();
    return { pattern: new TextPattern(literal, anchored), literalLength: literal.replaceAll('*', '').length, anchored };
}

/**
 * A lowercase path, fragment or query value pattern: a prefix (or, anchored, the whole text) with
 * `*` matching any run of characters. Plain fields rather than a closure, so that the registry can
 * copy the common literal case into its own entries.
 */
export class TextPattern {
    /** The text to compare with when there is no `*`; `undefined` when {@link regExp} decides. */
    readonly literal: string | undefined;
    /** Whether the text must end where the pattern ends (`|`), not merely start with it. */
    readonly anchored: boolean;
    /** The compiled pattern when it has a `*`. */
    readonly regExp: RegExp | undefined;

    constructor(text: string, anchored: boolean) {
        this.anchored = anchored;
        if (!text.includes('*')) {
            this.literal = text;
            this.regExp = undefined;
        } else {
            this.literal = undefined;
            // Runs of `*` collapse so that `a**b` cannot backtrack more than `a*b`.
            const source = text.replace(/\*+/g, '*').split('*').map(escapeRegExp).join('.*');
            this.regExp = new RegExp(`^${source}${anchored ? '$' : ''}`, 's');
        }
    }

    test(text: string): boolean {
        if (this.literal === undefined) return this.regExp!.test(text);
        return this.anchored ? text === this.literal : text.startsWith(this.literal);
    }
}

function escapeRegExp(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
