import { inspect } from 'node:util';
import type { Session } from '@crawlee/core';

/**
 * Removes credentials from text bound for logs or error messages: `user:password@` in URLs
 * (proxy passwords), values of cookie and authorization headers (`Cookie: a=1`, `"set-cookie":[…]`,
 * `authorization='Bearer x'`) and cookies quoted in prose (`bad cookie session=abc123`).
 *
 * Linear in the length of the text by construction: a hand-written scan that reads each character
 * a bounded number of times, because the text may be a whole response body or a huge error message.
 */
export function redact(text: string): string {
    return redactHeaders(redactUrlCredentials(text));
}

const WHITESPACE = /\s/;

function isWhitespace(char: string | undefined): boolean {
    return char !== undefined && WHITESPACE.test(char);
}

function isLetter(code: number): boolean {
    return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isDigit(code: number): boolean {
    return code >= 48 && code <= 57;
}

/** `[a-z0-9+.-]`: a character of a URL scheme. */
function isSchemeChar(code: number): boolean {
    return isLetter(code) || isDigit(code) || code === 43 || code === 46 || code === 45;
}

function isWordChar(code: number): boolean {
    return isLetter(code) || isDigit(code) || code === 95;
}

/** `scheme://user:password@` becomes `scheme://***:***@`. */
function redactUrlCredentials(text: string): string {
    let out = '';
    let copied = 0;
    let from = 0;
    for (;;) {
        const colon = text.indexOf('://', from);
        if (colon < 0) break;
        from = colon + 1;
        // A scheme ends here: letters, digits, + . - back to a word start that is a letter. The scan
        // back stops at the previous `://` (':' and '/' are no scheme characters), so it is linear.
        let start = colon;
        while (start > copied && isSchemeChar(text.charCodeAt(start - 1))) start--;
        let scheme = false;
        for (let p = start; p < colon && !scheme; p++) {
            scheme = isLetter(text.charCodeAt(p)) && (p === 0 || !isWordChar(text.charCodeAt(p - 1)));
        }
        if (!scheme) continue;
        // `user:password@`, neither part holding whitespace, '/' or '@' (nor ':' in the user). Both
        // scans stop at the '/' of the next `://`.
        let end = colon + 3;
        while (end < text.length && !'/@:'.includes(text[end]!) && !isWhitespace(text[end])) end++;
        if (text[end] !== ':') continue;
        end++;
        while (end < text.length && !'/@'.includes(text[end]!) && !isWhitespace(text[end])) end++;
        if (text[end] !== '@') continue;
        out += `${text.slice(copied, colon + 3)}***:***@`;
        copied = end + 1;
        from = copied;
    }
    return copied === 0 ? text : out + text.slice(copied);
}

// Fixed alternatives only: the engine tries a bounded number of characters at each position.
const SECRET_NAME = /\b(?:proxy-authorization|set-cookie|authorization|cookies?)(?![a-z0-9_-])/gi;
/** Words between a header name and its separator: `Cookie header: a=1`. */
const NAME_SUFFIXES = ['headers', 'header', 'values', 'value'];

/**
 * Where `char` next occurs at or after a position, remembering the last answer: the scan moves
 * forward, so every character is searched at most once per `char` (no rescans of a long tail).
 */
class NextIndex {
    #from = -1;
    #at = -1;

    constructor(
        readonly text: string,
        readonly char: string,
    ) {}

    from(position: number): number {
        if (this.#from < 0 || position < this.#from || (this.#at >= 0 && position > this.#at)) {
            this.#from = position;
            this.#at = this.text.indexOf(this.char, position);
        }
        return this.#at;
    }
}

/** Values of cookie and authorization headers become `***`. */
function redactHeaders(text: string): string {
    SECRET_NAME.lastIndex = 0;
    let out = '';
    let copied = 0;
    const closers = new Map(['"', "'", ']'].map((char) => [char, new NextIndex(text, char)]));
    for (let match = SECRET_NAME.exec(text); match; match = SECRET_NAME.exec(text)) {
        const masked = maskAfterName(text, match.index + match[0].length, closers);
        for (const [start, end] of masked) {
            if (start < copied) continue;
            out += `${text.slice(copied, start)}***`;
            copied = end;
        }
        if (masked.length > 0) SECRET_NAME.lastIndex = Math.max(SECRET_NAME.lastIndex, copied);
    }
    return copied === 0 ? text : out + text.slice(copied);
}

const BARE_VALUE_STOP = '"\'\r\n,}';

/** The ranges to mask after a secret header name that ends at `at`. */
function maskAfterName(text: string, at: number, closers: Map<string, NextIndex>): [number, number][] {
    let i = at;
    if (text[i] === '"' || text[i] === "'") i++;
    let j = i;
    while (isWhitespace(text[j])) j++;
    for (const suffix of NAME_SUFFIXES) {
        if (j > i && text.slice(j, j + suffix.length).toLowerCase() === suffix) {
            j += suffix.length;
            while (isWhitespace(text[j])) j++;
            break;
        }
    }
    if (text[j] === ':' || text[j] === '=') {
        j++;
        while (isWhitespace(text[j]) && text[j] !== '\n' && text[j] !== '\r') j++;
        const open = text[j];
        if (open === '[' || open === '"' || open === "'") {
            const close = closers.get(open === '[' ? ']' : open)!.from(j + 1);
            // An unclosed quote or list: mask to the end of the line.
            return [[j, close >= 0 ? close + 1 : lineEnd(text, j)]];
        }
        let end = j;
        while (end < text.length && !BARE_VALUE_STOP.includes(text[end]!)) end++;
        return end > j ? [[j, end]] : [];
    }
    // Prose: `cookie session=abc123; theme=dark` masks each value.
    if (j === i || !isWhitespace(text[i])) return [];
    const ranges: [number, number][] = [];
    for (;;) {
        let eq = j;
        while (eq < text.length && !'=;,"\'<>'.includes(text[eq]!) && !isWhitespace(text[eq])) eq++;
        if (eq === j || text[eq] !== '=') return ranges;
        let end = eq + 1;
        while (end < text.length && !';,"\''.includes(text[end]!) && !isWhitespace(text[end])) end++;
        if (end > eq + 1) ranges.push([eq + 1, end]);
        if (text[end] !== ';') return ranges;
        j = end + 1;
        while (text[j] === ' ') j++;
    }
}

function lineEnd(text: string, from: number): number {
    let end = from;
    while (end < text.length && text[end] !== '\n' && text[end] !== '\r') end++;
    return end;
}

/**
 * An error's message, redacted, for logs. Hooks may throw anything: `null`, a `Symbol`, an object
 * without a prototype or with a `message` getter that throws. Every value gets a text, and this
 * never throws.
 */
export function describeError(error: unknown): string {
    return redact(textOf(error));
}

function textOf(value: unknown): string {
    try {
        if (typeof value === 'string') return value;
        if (typeof value === 'symbol') return value.toString();
        if (typeof value !== 'object' && typeof value !== 'function') return String(value);
        if (value === null) return 'null';
        const { message } = value as { message?: unknown };
        if (typeof message === 'string') return message;
    } catch {
        // A getter or a Proxy trap threw: fall back to the value's tag below.
    }
    try {
        return String(value);
    } catch {
        // No toString (a null-prototype object) or one that throws.
    }
    try {
        return Object.prototype.toString.call(value);
    } catch {
        return '(a thrown value that cannot be shown)';
    }
}

/**
 * A stand-in for an error kept as another error's `cause`: the redacted message, name and code
 * only. HTTP clients' errors carry their request options (cookies, authorization headers, the
 * proxy URL with its password), which a user who logs an error whole would print.
 */
export function safeCause(error: unknown): Error | undefined {
    if (error === undefined) return undefined;
    const safe = new Error(describeError(error));
    try {
        if (error instanceof Error) {
            const { name, code } = error as { name: unknown; code?: unknown };
            if (typeof name === 'string') safe.name = name;
            if (typeof code === 'string') Object.assign(safe, { code });
        }
    } catch {
        // A getter or a Proxy trap threw: the message alone will do.
    }
    safe.stack = `${safe.name}: ${safe.message}`;
    return safe;
}

/**
 * An error's message, redacted, with every cookie value `session` holds masked too (for `url` and
 * any other host): a user's error may quote `session.getCookieString()` bare, without a header
 * name to spot.
 */
export function describeSessionError(error: unknown, session: Session, url: string): string {
    let text = describeError(error);
    for (const value of cookieValues(session, url)) {
        // Very short values would mask unrelated text and are hardly secrets.
        if (value.length >= 4) text = text.split(value).join('***');
    }
    return text;
}

/** Every cookie value the session holds: for `url`, and for any other site an init visited. */
function cookieValues(session: Session, url: string): Set<string> {
    const values = new Set<string>();
    try {
        for (const cookie of session.getCookies(url)) values.add(cookie.value);
        const serialized = session.cookieJar.serializeSync() as { cookies?: { value?: unknown }[] } | undefined;
        for (const cookie of serialized?.cookies ?? []) {
            if (typeof cookie.value === 'string') values.add(cookie.value);
        }
    } catch {
        // A jar that cannot be read holds nothing to mask here.
    }
    return values;
}

/** The longest description of a thrown value kept in a message. */
const MAX_SHOWN = 200;

/**
 * A thrown value as text for a message, whatever it is: `null`, `undefined`, a Symbol, a
 * null-prototype object (which `String()` and template literals throw on), a string; redacted.
 */
export function describeThrown(value: unknown): string {
    let text: string;
    try {
        text =
            value instanceof Error
                ? value.message
                : inspect(value, { depth: 2, breakLength: Number.POSITIVE_INFINITY });
    } catch {
        text = `a value of type ${typeof value}`;
    }
    if (text.length > MAX_SHOWN) text = `${text.slice(0, MAX_SHOWN)}…`;
    return redact(text);
}
