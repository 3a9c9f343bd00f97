import { SessionConfig, SessionConfigRegistry } from '@managed-sessions/core';
import { describe, expect, it } from 'vitest';

class Shop extends SessionConfig {}
class Other extends SessionConfig {}

const NO_HOST = "with your site's host, or '' to match every URL.";
const STAR = "has '*' in its host; '*' works in paths, query values and fragments only.";
const BARE_HINT =
    "Write the host without '*' (a bare host such as 'shop.example' matches all its subdomains) " +
    "and put wildcards after it ('shop.example/*.pdf|').";
const BAD_HOST = "write a hostname or IP, with an optional port ('localhost:3000').";

const RULE_ERRORS: Array<[name: string, rule: unknown, message: string]> = [
    [
        'an include without a host',
        { include: '/products' },
        `Cannot register Shop: include pattern '/products' has no host; write it as 'shop.example/products' ${NO_HOST}`,
    ],
    [
        'an include that is only a query',
        { include: ['shop.example', '?a=1'] },
        `Cannot register Shop: include pattern '?a=1' has no host; write it as 'shop.example?a=1' ${NO_HOST}`,
    ],
    [
        'an include that is only a fragment',
        { include: '#reviews' },
        `Cannot register Shop: include pattern '#reviews' has no host; write it as 'shop.example#reviews' ${NO_HOST}`,
    ],
    [
        "an include starting with '//'",
        { include: '//shop.example/products' },
        "Cannot register Shop: include pattern '//shop.example/products' has no host (a leading '//' starts a path); " +
            "write it as 'shop.example/products', or '' to match every URL.",
    ],
    [
        'a scheme without a host',
        { include: 'https:///products' },
        `Cannot register Shop: include pattern 'https:///products' has no host; write it as 'https://shop.example/products' ${NO_HOST}`,
    ],
    [
        "'*.' before a bare host",
        { include: '*.shop.example' },
        `Cannot register Shop: include pattern '*.shop.example' ${STAR} To match shop.example and all its subdomains, write 'shop.example'.`,
    ],
    [
        "'*.' before a host with a path",
        { include: '*.shop.example/products' },
        `Cannot register Shop: include pattern '*.shop.example/products' ${STAR} ${BARE_HINT}`,
    ],
    [
        "'*' inside a host",
        { include: 'shop*.example' },
        `Cannot register Shop: include pattern 'shop*.example' ${STAR} ${BARE_HINT}`,
    ],
    [
        'a file-extension wildcard without a host',
        { include: 'shop.example', exclude: '*.pdf|' },
        `Cannot register Shop: exclude pattern '*.pdf|' ${STAR} ${BARE_HINT}`,
    ],
    [
        "'*' in the host of an exclude",
        { include: 'shop.example', exclude: '*.shop.example' },
        `Cannot register Shop: exclude pattern '*.shop.example' ${STAR} To match shop.example and all its subdomains, write 'shop.example'.`,
    ],
    [
        "'|' after a bare host",
        { include: 'shop.example|' },
        "Cannot register Shop: include pattern 'shop.example|' has '|' in its host; '|' anchors the end of a path or " +
            "fragment only. Write 'shop.example/' to match shop.example and www.shop.example but no other subdomain, " +
            "or 'shop.example/|' to match its home page only.",
    ],
    [
        "'|' in a host followed by a path",
        { include: 'shop.example|/cart' },
        "Cannot register Shop: include pattern 'shop.example|/cart' has '|' in its host; '|' anchors the end of a path " +
            "or fragment only. Write 'shop.example/cart'.",
    ],
    [
        'user info',
        { include: 'user:secret@shop.example' },
        "Cannot register Shop: include pattern 'user:secret@shop.example' has user info in its host; write the host " +
            "alone, e.g. 'shop.example'.",
    ],
    [
        'a space in the host',
        { include: 'shop example' },
        `Cannot register Shop: include pattern 'shop example' has an invalid host 'shop example'; ${BAD_HOST}`,
    ],
    [
        'a port out of range',
        { include: 'localhost:99999' },
        `Cannot register Shop: include pattern 'localhost:99999' has an invalid host 'localhost:99999'; ${BAD_HOST}`,
    ],
    [
        'a port that is not a number',
        { include: 'localhost:http' },
        `Cannot register Shop: include pattern 'localhost:http' has an invalid host 'localhost:http'; ${BAD_HOST}`,
    ],
    [
        "'*' in a query parameter name",
        { include: 'shop.example?*_id=3' },
        "Cannot register Shop: include pattern 'shop.example?*_id=3' has '*' in the query parameter name '*_id'; " +
            "'*' works in query values only. Write 'name=*' for a parameter that must be present with any value.",
    ],
    [
        'a query parameter without a name',
        { include: 'shop.example?=3' },
        "Cannot register Shop: include pattern 'shop.example?=3' has a query parameter without a name; write it as 'name=value'.",
    ],
    [
        'an exclude with a scheme but no host',
        { include: 'shop.example', exclude: 'http:///cart' },
        "Cannot register Shop: exclude pattern 'http:///cart' has no host; write it as 'http://shop.example/cart' with your site's host.",
    ],
    [
        'no include',
        {},
        "Cannot register Shop: include must be a pattern or a non-empty array of patterns ('' matches every URL), got undefined.",
    ],
    [
        'an empty include array',
        { include: [] },
        "Cannot register Shop: include must be a pattern or a non-empty array of patterns ('' matches every URL), got an empty array.",
    ],
    [
        'an include of the wrong type',
        { include: 42 },
        "Cannot register Shop: include must be a pattern or a non-empty array of patterns ('' matches every URL), got 42 (number).",
    ],
    [
        'a non-string include in an array',
        { include: ['shop.example', 7] },
        'Cannot register Shop: every include pattern must be a string, got 7 (number).',
    ],
    [
        'an exclude of the wrong type',
        { include: 'shop.example', exclude: { path: '/cart' } },
        'Cannot register Shop: exclude must be a pattern or an array of patterns, got an object (Object).',
    ],
    [
        'a NaN priority',
        { include: 'shop.example', priority: Number.NaN },
        'Cannot register Shop: priority must be a finite number (default 500), got NaN (number).',
    ],
    [
        'an infinite priority',
        { include: 'shop.example', priority: Number.POSITIVE_INFINITY },
        'Cannot register Shop: priority must be a finite number (default 500), got Infinity (number).',
    ],
    [
        'a string priority',
        { include: 'shop.example', priority: '600' },
        "Cannot register Shop: priority must be a finite number (default 500), got '600'.",
    ],
    [
        'insteadOf that is not a session config class',
        { include: 'shop.example', insteadOf: class Unrelated {} },
        'Cannot register Shop: insteadOf must be a class that extends SessionConfig, got Unrelated.',
    ],
    [
        'insteadOf naming the class itself',
        { include: 'shop.example', insteadOf: Shop },
        'Cannot register Shop: insteadOf names the class itself; name the class it replaces, or leave it out.',
    ],
    [
        'an unknown key',
        { include: 'shop.example', instead_of: Other },
        "Cannot register Shop: unknown rule key 'instead_of'; the keys are include, exclude, priority and insteadOf.",
    ],
    [
        'a rule that is not an object',
        'shop.example',
        "Cannot register Shop: the rule must be an object like { include: 'shop.example' }, got 'shop.example'.",
    ],
    [
        'a null rule',
        null,
        "Cannot register Shop: the rule must be an object like { include: 'shop.example' }, got null.",
    ],
];

describe('register() validation', () => {
    it.each(RULE_ERRORS)('rejects %s', (_name, rule, message) => {
        const registry = new SessionConfigRegistry();
        const register = () => registry.register(Shop, rule as never);
        expect(register).toThrow(TypeError);
        expect(register).toThrow(message);
        try {
            register();
        } catch (error) {
            expect((error as Error).message).toBe(message);
        }
    });

    it.each([
        ['a class that does not extend SessionConfig', class Plain {}, 'Plain'],
        ['an arrow function', () => undefined, 'an anonymous function'],
        ['a string', 'Shop', "'Shop'"],
        ['undefined', undefined, 'undefined'],
    ])('rejects %s as the class', (_name, cls, shown) => {
        const registry = new SessionConfigRegistry();
        expect(() => registry.register(cls as never, { include: 'shop.example' })).toThrow(
            new TypeError(`Cannot register ${shown} as a session config: expected a class that extends SessionConfig.`),
        );
    });

    it('accepts SessionConfig itself and classes further down the hierarchy', () => {
        const registry = new SessionConfigRegistry();
        class Deeper extends Shop {}
        registry.register(Deeper, { include: 'deeper.example' });
        registry.register(SessionConfig, { include: 'deeper.example/plain' });
        expect(registry.configFor('https://deeper.example/')).toBe(Deeper);
        expect(registry.configFor('https://deeper.example/plain')).toBe(SessionConfig);
    });

    it('accepts an explicit undefined for optional keys', () => {
        const registry = new SessionConfigRegistry();
        const rule = { include: 'shop.example', exclude: undefined, priority: undefined, insteadOf: undefined };
        registry.register(Shop, rule as never);
        expect(registry.configFor('https://shop.example/')).toBe(Shop);
    });

    it('registers nothing from a rule that fails', () => {
        const registry = new SessionConfigRegistry();
        expect(() => registry.register(Shop, { include: ['shop.example', '/bad'] })).toThrow(TypeError);
        expect(registry.configFor('https://shop.example/')).toBe(SessionConfig);
    });
});

describe('configFor() validation', () => {
    it.each(['not a url', '/relative/path', '', 'shop.example/products'])('rejects %j', (url) => {
        const registry = new SessionConfigRegistry();
        expect(() => registry.configFor(url)).toThrow(
            new TypeError(
                `configFor() needs an absolute URL, got '${url}'; write it with a scheme and a host, ` +
                    "e.g. 'https://shop.example/products'.",
            ),
        );
    });
});
