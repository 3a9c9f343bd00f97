import type { SessionConfig } from '../config/session-config.js';
import type { HostMode, UrlPattern } from './pattern.js';
import { type TargetUrl, textHash } from './target-url.js';

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
    constructor(
        source: Pick<RuleEntry, 'cls' | 'priority' | 'order' | 'include' | 'insteadOf'> & {
            excludes: readonly UrlPattern[] | undefined;
        },
        strings: Map<string, string>,
    ) {
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

/**
 * The entries filed under one key, best first. Entries are added one by one, at registration,
 * scattered in memory among everything else registration allocates; the first lookup after a
 * change copies them once, together, so a lookup's scan reads adjacent memory.
 */
export class Bucket {
    entries: RuleEntry[] = [];
    /**
     * For entry `i` of a compacted bucket, at `2i` the length of its literal path (`-1`: none, or
     * one with `*`) and at `2i + 1` its `textHash()`: a lookup skips entries whose literal path
     * cannot be a prefix of the URL's path reading this one array of small integers, not the
     * entries themselves.
     */
    pathFilter: number[] = [];
    #compact = true;
    readonly #strings = new Map<string, string>();

    constructor(key: string) {
        // Hostnames equal to the key share the key's string.
        this.#strings.set(key, key);
    }

    /** Inserts `entry`, keeping the entries sorted best first (binary search: buckets can be large). */
    insert(entry: RuleEntry, outranks: (a: RuleEntry, b: RuleEntry) => boolean): void {
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
            this.entries = this.entries.map((entry) => entry.copy(this.#strings));
            this.pathFilter = this.entries.flatMap((entry) => {
                const literal = entry.pathLiteral;
                return literal === undefined ? [-1, 0] : [literal.length, textHash(literal)];
            });
            this.#compact = true;
        }
        return this;
    }
}
