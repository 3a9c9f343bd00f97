/**
 * The URL text parsed last, and what was read of it. An attempt parses its URL several times in a
 * row (the registry's `configFor()`, then `pool()`'s `hostOf()`), so one entry serves them all and
 * saves a `new URL()` (several hundred bytes of garbage) per request.
 */
let lastText: string | undefined;
let lastParsed: URL | undefined;
let lastHost: string | undefined;

/**
 * `new URL(url)`, shared with the engine's other reads of the same text: the result must not be
 * modified.
 *
 * @throws TypeError when `url` is not an absolute URL (as `new URL()`).
 */
export function parseUrl(url: string): URL {
    if (url !== lastText || lastParsed === undefined) {
        lastParsed = new URL(url);
        lastText = url;
        lastHost = undefined;
    }
    return lastParsed;
}

/** The URL's host: hostname plus a non-default port (`127.0.0.1:8080`, `shop.example`), as pool ids use it. */
export function hostOf(url: string): string {
    const parsed = parseUrl(url);
    lastHost ??= parsed.host;
    return lastHost;
}
