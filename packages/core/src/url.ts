/** The URL's host: hostname plus a non-default port (`127.0.0.1:8080`, `shop.example`), as pool ids use it. */
export function hostOf(url: string): string {
    return new URL(url).host;
}
