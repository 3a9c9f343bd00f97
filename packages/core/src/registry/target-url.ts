import { parseUrl } from '../url.js';

/**
 * A URL being looked up, parsed once per lookup and shared by every pattern tried on it. Path,
 * query and fragment are lowercased (url-matcher compares them case-insensitively) and only
 * computed when a pattern asks for them.
 */
export class TargetUrl {
    /** Lowercase scheme without `:` (`https`). */
    readonly scheme: string;
    /** Lowercase hostname without a trailing dot; IPv6 in brackets (`[::1]`). */
    readonly hostname: string;
    /** The port, or `''` for the scheme's default port (`new URL()` drops `:443` on `https`). */
    readonly port: string;
    readonly #url: URL;
    #path: string | undefined;
    #fragment: string | undefined;
    #query: Map<string, string[]> | undefined;
    /** `textHash()` of the path's first `i` characters at `i`, computed as far as asked. */
    #prefixHashes: number[] | undefined;

    private constructor(url: URL) {
        this.#url = url;
        this.scheme = url.protocol.slice(0, -1);
        // Non-special schemes keep the hostname's case; `shop.example.` is the same host as `shop.example`.
        const hostname = url.hostname.toLowerCase();
        this.hostname = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
        this.port = url.port;
    }

    /**
     * Parses an absolute URL.
     *
     * @throws TypeError naming `url` when it is not an absolute URL.
     */
    static parse(url: string): TargetUrl {
        let parsed: URL;
        try {
            parsed = parseUrl(url);
        } catch (error) {
            throw new TypeError(
                `configFor() needs an absolute URL, got '${url}'; ` +
                    "write it with a scheme and a host, e.g. 'https://shop.example/products'.",
                { cause: error },
            );
        }
        return new TargetUrl(parsed);
    }

    /** The path as `new URL()` normalises it (percent-encoded, always starting with `/` on http), lowercased. */
    get path(): string {
        this.#path ??= this.#url.pathname.toLowerCase();
        return this.#path;
    }

    /**
     * `textHash()` of the first `length` characters of {@link path}, or `-1` when the path is
     * shorter: a literal path pattern can only be a prefix of the path when their hashes agree.
     */
    pathPrefixHash(length: number): number {
        const path = this.path;
        if (length > path.length) return -1;
        let hashes = this.#prefixHashes;
        if (hashes === undefined) {
            hashes = [TEXT_HASH_SEED];
            this.#prefixHashes = hashes;
        }
        for (let i = hashes.length; i <= length; i++) hashes.push(nextTextHash(hashes[i - 1]!, path.charCodeAt(i - 1)));
        return hashes[length]!;
    }

    /** The fragment without `#`, lowercased; `''` when the URL has none. */
    get fragment(): string {
        this.#fragment ??= this.#url.hash.slice(1).toLowerCase();
        return this.#fragment;
    }

    /** Decoded query parameters: lowercase name → every lowercase value it has in the URL. */
    get query(): ReadonlyMap<string, readonly string[]> {
        if (this.#query === undefined) {
            const query = new Map<string, string[]>();
            for (const [name, value] of this.#url.searchParams) {
                const key = name.toLowerCase();
                const values = query.get(key);
                if (values === undefined) query.set(key, [value.toLowerCase()]);
                else values.push(value.toLowerCase());
            }
            this.#query = query;
        }
        return this.#query;
    }
}

const TEXT_HASH_SEED = 7;

function nextTextHash(hash: number, charCode: number): number {
    // 20 bits: with a length beside it, a path key is still a small integer for V8 (unboxed).
    return (Math.imul(hash, 31) + charCode) & 0xfffff;
}

/** A hash of `text`, equal to `TargetUrl.pathPrefixHash(text.length)` of a URL whose path starts with `text`. */
export function textHash(text: string): number {
    let hash = TEXT_HASH_SEED;
    for (let i = 0; i < text.length; i++) hash = nextTextHash(hash, text.charCodeAt(i));
    return hash;
}
