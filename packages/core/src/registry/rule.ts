import { SessionConfig } from '../config/session-config.js';
import { UrlPattern } from './pattern.js';

/** The priority of a rule that does not set one, as in url-matcher and scrapy-zyte-api. */
export const DEFAULT_PRIORITY = 500;

/**
 * Which URLs a session config class serves. Patterns use the url-matcher syntax; see
 * `SessionConfigRegistry` for the syntax and how ties are broken.
 *
 * @example
 * { include: ['shop.example', 'shop.example.co.uk'], exclude: 'shop.example/help', priority: 600 }
 */
export interface SessionConfigRule {
    /**
     * Patterns of the URLs the class serves; a URL must match one. Each names a host
     * (`shop.example`, `shop.example/products`, `localhost:3000`), or is `''` for every URL.
     */
    include: string | readonly string[];
    /**
     * Patterns of URLs the class does not serve even when an include matches. They may omit the
     * host (`/login`, `?preview=1`) to apply on every host the includes cover.
     * @default []
     */
    exclude?: string | readonly string[];
    /**
     * Among rules that match a URL, the highest priority wins; ties go to the more specific
     * pattern, then to the later registration.
     * @default 500
     */
    priority?: number;
    /**
     * A class this one replaces: wherever `insteadOf` would be chosen for a URL that this rule
     * also matches, this class is chosen instead, whatever the priorities. The rule also competes
     * like any other where `insteadOf` is not chosen.
     */
    insteadOf?: typeof SessionConfig;
}

/** A validated rule with its patterns parsed. */
export interface CompiledRule {
    readonly cls: typeof SessionConfig;
    readonly includes: readonly UrlPattern[];
    readonly excludes: readonly UrlPattern[];
    readonly priority: number;
    readonly insteadOf: typeof SessionConfig | undefined;
}

const RULE_KEYS = new Set(['include', 'exclude', 'priority', 'insteadOf']);

/** Whether `value` is `SessionConfig` or a class that extends it. */
export function isSessionConfigClass(value: unknown): value is typeof SessionConfig {
    return typeof value === 'function' && (value === SessionConfig || value.prototype instanceof SessionConfig);
}

/**
 * Validates `rule` for `cls` and parses its patterns.
 *
 * @throws TypeError naming the class, the key or pattern at fault, and how to fix it.
 */
export function compileRule(cls: unknown, rule: unknown): CompiledRule {
    if (!isSessionConfigClass(cls)) {
        throw new TypeError(
            `Cannot register ${describe(cls)} as a session config: expected a class that extends SessionConfig.`,
        );
    }
    const context = `Cannot register ${cls.name || 'an anonymous class'}: `;
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
        throw new TypeError(
            `${context}the rule must be an object like { include: 'shop.example' }, got ${describe(rule)}.`,
        );
    }
    for (const key of Object.keys(rule)) {
        if (!RULE_KEYS.has(key)) {
            throw new TypeError(
                `${context}unknown rule key '${key}'; the keys are include, exclude, priority and insteadOf.`,
            );
        }
    }
    const { include, exclude, priority = DEFAULT_PRIORITY, insteadOf } = rule as Record<string, unknown>;

    const includes = patternList(include, 'include', context);
    if (includes === undefined || includes.length === 0) {
        throw new TypeError(
            `${context}include must be a pattern or a non-empty array of patterns ` +
                `('' matches every URL), got ${describe(include)}.`,
        );
    }
    const excludes = exclude === undefined ? [] : patternList(exclude, 'exclude', context);
    if (excludes === undefined) {
        throw new TypeError(`${context}exclude must be a pattern or an array of patterns, got ${describe(exclude)}.`);
    }
    if (typeof priority !== 'number' || !Number.isFinite(priority)) {
        throw new TypeError(
            `${context}priority must be a finite number (default ${DEFAULT_PRIORITY}), got ${describe(priority)}.`,
        );
    }
    if (insteadOf !== undefined && !isSessionConfigClass(insteadOf)) {
        throw new TypeError(
            `${context}insteadOf must be a class that extends SessionConfig, got ${describe(insteadOf)}.`,
        );
    }
    if (insteadOf === cls) {
        throw new TypeError(`${context}insteadOf names the class itself; name the class it replaces, or leave it out.`);
    }
    return { cls, includes, excludes, priority, insteadOf };
}

function patternList(value: unknown, role: 'include' | 'exclude', context: string): UrlPattern[] | undefined {
    const sources: unknown[] | undefined =
        typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
    if (sources === undefined) return undefined;
    return sources.map((source) => {
        if (typeof source !== 'string') {
            throw new TypeError(`${context}every ${role} pattern must be a string, got ${describe(source)}.`);
        }
        return UrlPattern.parse(source, role, context);
    });
}

function describe(value: unknown): string {
    if (typeof value === 'string') return `'${value}'`;
    if (typeof value === 'function') return value.name ? `${value.name}` : 'an anonymous function';
    if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
    if (value === null || value === undefined) return String(value);
    if (typeof value !== 'object') return `${String(value)} (${typeof value})`;
    return `an object (${value.constructor?.name ?? 'no prototype'})`;
}
