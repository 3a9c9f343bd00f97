import { SessionConfig } from '../config/session-config.js';
import { domainKey, hasRegistrableDomain, isIpHostname, parentKeys } from './domain-key.js';
import { Bucket, mayPrefixPath, type RuleEntry } from './entry.js';
import { UrlPattern } from './pattern.js';
import { type CompiledRule, compileRule, type SessionConfigRule } from './rule.js';
import { TargetUrl } from './target-url.js';

export type { SessionConfigRule } from './rule.js';

/**
 * Maps URLs to session config classes through url-matcher patterns, like scrapy-zyte-api's
 * `session_config` registry. A new registry is seeded with `SessionConfig` for every URL at the
 * lowest priority, so {@link SessionConfigRegistry.configFor} always returns a class.
 *
 * Patterns (`[scheme://]host[:port][/path][?query][#fragment]`):
 *
 * | pattern | matches |
 * |---|---|
 * | `shop.example` | that host and all its subdomains, any path |
 * | `shop.example/products` | paths starting with `/products` on `shop.example` and `www.shop.example` |
 * | `shop.example/*.jpg\|` | paths ending in `.jpg` (`*`: any characters; trailing `\|`: end) |
 * | `shop.example?id=*&tab=reviews` | URLs with an `id` parameter and `tab=reviews`, among others |
 * | `https://shop.example` | https URLs only (without a scheme any scheme matches) |
 * | `localhost:3000` | port 3000 only (without a port only default ports match) |
 * | `''` | every URL |
 *
 * Path, query and fragment compare case-insensitively; IP hosts match themselves only. Includes
 * must name a host (or be `''`); excludes may leave it out (`/login`). A URL matches a rule when
 * it matches one of its includes and none of its excludes.
 *
 * When several rules match a URL, the winner is the rule with:
 * 1. the highest `priority` (default 500);
 * 2. then the most specific matching include, comparing in order: more host labels
 *    (`a.shop.example` over `shop.example`), more literal path characters (`*` not counted), an
 *    anchored path (`|`), more query parameters, more literal fragment characters, an anchored
 *    fragment, an explicit port, a scheme;
 * 3. then the latest registration.
 *
 * `insteadOf`: a rule competes like any other, and in addition, when the winner is class `X`
 * and a rule with `insteadOf: X` matches the URL too, the best such rule's class is chosen
 * instead, whatever the priorities (as web-poet's `instead_of`). Replacements chain (`Z` instead
 * of `Y` instead of `X`); a cycle stops before a class would repeat.
 *
 * Lookups cost the same however many rules other sites have: rules are filed under the
 * registrable domain of their host (tldts), and each URL only tries the rules filed under its
 * own, plus rules that match every host. Within a domain, rules are kept best first, so the scan
 * stops at the first match, and a rule whose literal path cannot be a prefix of the URL's path is
 * skipped without being read (see `entry.ts`).
 *
 * @example
 * const registry = new SessionConfigRegistry();
 * registry.register(ShopSessions, { include: 'shop.example', exclude: 'shop.example/help' });
 * registry.register(ShopApiSessions, { include: 'shop.example/api' });
 * registry.configFor('https://www.shop.example/api/items'); // ShopApiSessions (longer path)
 * registry.configFor('https://blog.example/'); // SessionConfig
 */
export class SessionConfigRegistry {
    /** Entries with a host, by `domainKey()`. */
    readonly #byDomain = new Map<string, Bucket>();
    /** Entries whose include matches any host (`''`). */
    readonly #universal = new Bucket('');
    /** Classes some rule replaces. */
    readonly #replaced = new Set<typeof SessionConfig>();
    /** Whether a pattern is filed under a host without a registrable domain (`localhost`, `co.uk`). */
    #hasSuffixKeys = false;
    #nextOrder = 0;

    constructor() {
        // Below every finite priority: it wins only where nothing else matches.
        this.#add({
            cls: SessionConfig,
            includes: [UrlPattern.parse('', 'include', '')],
            excludes: [],
            priority: Number.NEGATIVE_INFINITY,
            insteadOf: undefined,
        });
    }

    /**
     * Makes `cls` serve the URLs `rule` matches. A class may be registered several times, with
     * different rules; every rule competes on its own.
     *
     * @throws TypeError when `cls` does not extend `SessionConfig`, or the rule is invalid (an
     * include without a host, `*` or `|` in a host, an unknown key, a non-finite priority); the
     * message names the pattern or key and how to fix it.
     */
    register(cls: typeof SessionConfig, rule: SessionConfigRule): void {
        this.#add(compileRule(cls, rule));
    }

    /**
     * The session config class for `url`: the class of the best matching rule (see the class
     * documentation), `SessionConfig` when no registered rule matches.
     *
     * @throws TypeError when `url` is not an absolute URL.
     */
    configFor(url: string): typeof SessionConfig {
        const target = TargetUrl.parse(url);
        const key = target.hostname === '' ? undefined : domainKey(target.hostname);
        // The seed entry matches every URL, so `best` is always set.
        let cls = this.#best(target, key, undefined)!.cls;
        if (this.#replaced.size === 0) return cls;
        let seen: Set<typeof SessionConfig> | undefined;
        while (this.#replaced.has(cls)) {
            const replacement = this.#best(target, key, cls);
            seen ??= new Set([cls]);
            if (replacement === undefined || seen.has(replacement.cls)) break;
            cls = replacement.cls;
            seen.add(cls);
        }
        return cls;
    }

    /**
     * The best entry that matches `target` (with `replacing`, among entries with `insteadOf:
     * replacing`), visiting the buckets of `key`, its parents when some pattern is filed under a
     * host without a registrable domain, and the universal one.
     */
    #best(
        target: TargetUrl,
        key: string | undefined,
        replacing: typeof SessionConfig | undefined,
    ): RuleEntry | undefined {
        let best: RuleEntry | undefined;
        if (key !== undefined) {
            const own = this.#byDomain.get(key);
            if (own !== undefined) best = bestMatch(own.compacted(), target, best, replacing);
            if (this.#hasSuffixKeys) {
                for (const parent of parentKeys(key)) {
                    const bucket = this.#byDomain.get(parent);
                    if (bucket !== undefined) best = bestMatch(bucket.compacted(), target, best, replacing);
                }
            }
        }
        return bestMatch(this.#universal.compacted(), target, best, replacing);
    }

    #add(rule: CompiledRule): void {
        const order = this.#nextOrder++;
        for (const include of rule.includes) {
            const hostname = include.hostname;
            const key = hostname === undefined ? undefined : domainKey(hostname);
            let bucket = key === undefined ? this.#universal : this.#byDomain.get(key);
            if (bucket === undefined) {
                bucket = new Bucket(key!);
                this.#byDomain.set(key!, bucket);
            }
            bucket.insert(
                {
                    cls: rule.cls,
                    priority: rule.priority,
                    order,
                    include,
                    excludes: rule.excludes,
                    insteadOf: rule.insteadOf,
                },
                outranks,
            );
            // Subdomains of such a host have keys of their own, so lookups must also visit parents.
            if (hostname !== undefined && !isIpHostname(hostname) && !hasRegistrableDomain(hostname)) {
                this.#hasSuffixKeys = true;
            }
        }
        if (rule.insteadOf !== undefined) this.#replaced.add(rule.insteadOf);
    }
}

/**
 * The registry that the `sessionConfig()` decorator registers into and that the `registry` option defaults
 * to. Seeded with `SessionConfig` for every URL.
 */
export const sessionConfigRegistry: SessionConfigRegistry = new SessionConfigRegistry();

/** Whether `a` ranks strictly above `b`: priority, then specificity, then later registration. */
function outranks(a: RuleEntry, b: RuleEntry): boolean {
    if (a.priority !== b.priority) return a.priority > b.priority;
    const length = Math.min(a.specificity.length, b.specificity.length);
    for (let i = 0; i < length; i++) {
        const x = a.specificity[i]!;
        const y = b.specificity[i]!;
        if (x !== y) return x > y;
    }
    return a.order > b.order;
}

/**
 * The best entry of `bucket` that matches `target` and outranks `current`,
 * else `current`. With `replacing`, only entries with `insteadOf: replacing` count.
 */
function bestMatch(
    bucket: Bucket,
    target: TargetUrl,
    current: RuleEntry | undefined,
    replacing: typeof SessionConfig | undefined,
): RuleEntry | undefined {
    const slots = bucket.slots;
    for (let i = 0; i < slots.length; i += 2) {
        // Reading the address does not read the entry: a skipped entry costs no cache miss.
        const entry = slots[i + 1] as RuleEntry;
        // Sorted best first: nothing further down can beat `current`.
        if (current !== undefined && !outranks(entry, current)) break;
        if (!mayPrefixPath(slots[i] as number, target)) continue;
        if (replacing !== undefined && entry.insteadOf !== replacing) continue;
        if (entry.matches(target)) return entry;
    }
    return current;
}
