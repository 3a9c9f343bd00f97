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
            parsed = new URL(url);
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
