import type { SessionConfig } from '../config/session-config.js';
import type { HostMode, UrlPattern } from './pattern.js';
import { type TargetUrl, textHash } from './target-url.js';

/** What an entry is made of: one include of a rule, and the rest of the rule. */
export type EntrySource = Pick<RuleEntry, 'cls' | 'priority' | 'order' | 'include' | 'insteadOf'> & {
    excludes: readonly UrlPattern[] | undefined;
};

/**
 * One include pattern of one rule: the unit that is indexed and ranked. What a lookup reads is
 * copied into plain fields of the entry (host, port, literal path), so that the common patterns
 * (a host and a literal path) match without following pointers to the pattern, a closure and its
 * strings: with rules spread over thousands of domains, each of those is a cache miss.
 */
export class RuleEntry {
    // Declared in the order a lookup reads them: fields are laid out in this order, so a match
    // reads the first two cache lines of the entry only.
    readonly scheme: string | undefined;
    readonly hostname: string | undefined;
    readonly port: string;
    readonly hostMode: HostMode;
    readonly wwwHostname: string;
    readonly dotHostname: string;
    /** The path when it has no `*` (compared here); `undefined` when there is none or `pathPattern` decides. */
    readonly pathLiteral: string | undefined;
    readonly pathAnchored: boolean;
    /** Set only for a path with `*`. */
    readonly pathPattern: UrlPattern['path'];
    readonly hasQueryOrFragment: boolean;
    /** `undefined` when the rule has none, so most lookups skip them without loading an array. */
    readonly excludes: readonly UrlPattern[] | undefined;
    readonly priority: number;
    readonly cls: typeof SessionConfig;
    readonly insteadOf: typeof SessionConfig | undefined;
    readonly specificity: readonly number[];
    /** Registration order: later registrations win ties. */
    readonly order: number;
    readonly include: UrlPattern;

    /**
     * @param strings Strings already held by the entry's bucket: equal hostnames share one string,
     * which a lookup then finds in the cache after its first comparison.
     */
    constructor(source: EntrySource, strings: Map<string, string>) {
        const include = source.include;
        const hostname = include.hostname;
        const share = (text: string): string => {
            const known = strings.get(text);
            if (known !== undefined) return known;
            strings.set(text, text);
            return text;
        };
        this.cls = source.cls;
        this.priority = source.priority;
        this.specificity = include.specificity;
        this.order = source.order;
        this.insteadOf = source.insteadOf;
        this.include = include;
        this.excludes = source.excludes === undefined || source.excludes.length === 0 ? undefined : source.excludes;
        this.scheme = include.scheme;
        this.hostname = hostname === undefined ? undefined : share(hostname);
        this.port = include.port;
        this.hostMode = include.hostMode;
        this.wwwHostname = hostname === undefined ? '' : share(`www.${hostname}`);
        this.dotHostname = hostname === undefined ? '' : share(`.${hostname}`);
        const path = include.path;
        this.pathLiteral = path?.literal;
        this.pathAnchored = path?.anchored ?? false;
        this.pathPattern = path?.literal === undefined ? path : undefined;
        this.hasQueryOrFragment = include.hasQueryOrFragment;
    }

    /** A copy of this entry, allocated now: copies made together lie together in memory. */
    copy(strings: Map<string, string>): RuleEntry {
        return new RuleEntry(this, strings);
    }

    /** Whether `url` matches the include and none of the excludes. */
    matches(url: TargetUrl): boolean {
        if (this.scheme !== undefined && url.scheme !== this.scheme) return false;
        const hostname = this.hostname;
        if (hostname !== undefined) {
            if (url.port !== this.port) return false;
            const urlHostname = url.hostname;
            if (
                urlHostname !== hostname &&
                !(this.hostMode === 'www' && urlHostname === this.wwwHostname) &&
                !(this.hostMode === 'subdomains' && urlHostname.endsWith(this.dotHostname))
            ) {
                return false;
            }
        }
        const literal = this.pathLiteral;
        if (literal !== undefined) {
            const path = url.path;
            if (this.pathAnchored ? path !== literal : !path.startsWith(literal)) return false;
        } else if (this.pathPattern !== undefined && !this.pathPattern.test(url.path)) {
            return false;
        }
        if (this.hasQueryOrFragment && !this.include.matchesQueryAndFragment(url)) return false;
        const excludes = this.excludes;
        if (excludes !== undefined) {
            for (const exclude of excludes) if (exclude.matches(url)) return false;
        }
        return true;
    }
}

/** Bits of a path key that hold the literal path's length; the hash is above them. */
const PATH_LENGTH_BITS = 10;
const PATH_LENGTH_MASK = (1 << PATH_LENGTH_BITS) - 1;

/**
 * `textHash(literal)` and `literal.length` in one small integer; `-1` (check the entry) when the
 * entry has no literal path or a longer one than the key can hold.
 */
function pathKey(literal: string | undefined): number {
    if (literal === undefined || literal.length > PATH_LENGTH_MASK) return -1;
    return textHash(literal) * (PATH_LENGTH_MASK + 1) + literal.length;
}

/**
 * Whether the literal path behind `key` may be a prefix of `url`'s path: `false` means it is
 * certainly not; `true` must be confirmed by the entry (hashes may collide).
 */
export function mayPrefixPath(key: number, url: TargetUrl): boolean {
    return key < 0 || url.pathPrefixHash(key & PATH_LENGTH_MASK) === key >>> PATH_LENGTH_BITS;
}

/**
 * The entries filed under one key, best first. Entries are added one by one, at registration,
 * scattered in memory among everything else registration allocates; the first lookup after a
 * change copies them once, together, into {@link slots}, so a lookup's scan reads adjacent memory.
 */
export class Bucket {
    /** Every entry, best first; the same objects as in {@link slots} once compacted. */
    entries: RuleEntry[] = [];
    /**
     * What a lookup scans: for entry `i`, at `2i` its path key (see `mayPrefixPath()`) and at
     * `2i + 1` the entry. The key lets a lookup skip an entry whose literal path cannot be a prefix
     * of the URL's path without reading the entry; interleaved, a key and the entry's address
     * share a cache line.
     */
    slots: Array<number | RuleEntry> = [];
    #compact = true;
    readonly #strings = new Map<string, string>();

    constructor(key: string) {
        // Hostnames equal to the key share the key's string.
        this.#strings.set(key, key);
    }

    /** Adds an entry made of `source`, keeping the entries sorted best first (binary search: buckets can be large). */
    insert(source: EntrySource, outranks: (a: RuleEntry, b: RuleEntry) => boolean): void {
        const entry = new RuleEntry(source, this.#strings);
        const entries = this.entries;
        let low = 0;
        let high = entries.length;
        while (low < high) {
            const middle = (low + high) >>> 1;
            if (outranks(entry, entries[middle]!)) high = middle;
            else low = middle + 1;
        }
        entries.splice(low, 0, entry);
        this.#compact = false;
    }

    /** Compacts the bucket if it changed since the last lookup; returns it. */
    compacted(): this {
        if (!this.#compact) {
            // The array first, then the entries in scan order, each right after the previous one.
            const slots = new Array<number | RuleEntry>(2 * this.entries.length);
            this.entries.forEach((entry, i) => {
                const copy = entry.copy(this.#strings);
                slots[2 * i] = pathKey(copy.pathLiteral);
                slots[2 * i + 1] = copy;
                this.entries[i] = copy;
            });
            this.slots = slots;
            this.#compact = true;
        }
        return this;
    }
}
