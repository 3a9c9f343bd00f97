import { SessionConfig, SessionConfigRegistry, sessionConfigRegistry } from '@managed-sessions/core';
import { describe, expect, it } from 'vitest';

describe('seeded registry', () => {
    it('returns SessionConfig for every URL when nothing is registered', () => {
        const registry = new SessionConfigRegistry();
        for (const url of [
            'https://shop.example/',
            'http://127.0.0.1:8080/x',
            'http://localhost:3000/',
            'about:blank',
        ]) {
            expect(registry.configFor(url)).toBe(SessionConfig);
        }
    });

    it('falls back to SessionConfig where registered rules do not match', () => {
        const registry = new SessionConfigRegistry();
        class Shop extends SessionConfig {}
        registry.register(Shop, { include: 'shop.example/products' });
        expect(registry.configFor('https://shop.example/products/1')).toBe(Shop);
        expect(registry.configFor('https://shop.example/about')).toBe(SessionConfig);
    });

    it('ranks the seed below any finite priority', () => {
        const registry = new SessionConfigRegistry();
        class Everywhere extends SessionConfig {}
        registry.register(Everywhere, { include: '', priority: -1e300 });
        expect(registry.configFor('https://shop.example/')).toBe(Everywhere);
    });

    it('keeps registries independent', () => {
        const registry = new SessionConfigRegistry();
        class Isolated extends SessionConfig {}
        registry.register(Isolated, { include: 'isolated-registry.example' });
        expect(new SessionConfigRegistry().configFor('https://isolated-registry.example/')).toBe(SessionConfig);
        expect(sessionConfigRegistry.configFor('https://isolated-registry.example/')).toBe(SessionConfig);
        expect(sessionConfigRegistry).toBeInstanceOf(SessionConfigRegistry);
    });
});

interface RankCase {
    name: string;
    /** Include pattern and optional priority of each rule, in registration order. */
    rules: Array<[include: string | string[], priority?: number]>;
    url: string;
    /** Index in `rules` of the rule whose class must win. */
    winner: number;
}

const RANKING: RankCase[] = [
    {
        name: 'higher priority beats a more specific pattern',
        rules: [['example.com', 600], ['example.com/products/1|']],
        url: 'https://example.com/products/1',
        winner: 0,
    },
    {
        name: 'higher priority beats a later registration',
        rules: [['example.com', 501], ['example.com']],
        url: 'https://example.com/',
        winner: 0,
    },
    {
        name: 'priorities may be negative and fractional',
        rules: [
            ['example.com', -0.5],
            ['example.com', -0.25],
        ],
        url: 'https://example.com/',
        winner: 1,
    },
    {
        name: 'more host labels win',
        rules: [['shop.example.com'], ['example.com']],
        url: 'https://shop.example.com/x',
        winner: 0,
    },
    {
        name: 'more host labels win over a longer path',
        rules: [['www.example.com'], ['example.com/products']],
        url: 'https://www.example.com/products',
        winner: 0,
    },
    {
        name: 'a host beats the universal pattern',
        rules: [['example.com'], ['']],
        url: 'https://example.com/',
        winner: 0,
    },
    {
        name: 'a longer path wins',
        rules: [['example.com/products/'], ['example.com/products']],
        url: 'https://example.com/products/1',
        winner: 0,
    },
    {
        name: 'a path beats a bare host',
        rules: [['example.com/'], ['example.com']],
        url: 'https://example.com/x',
        winner: 0,
    },
    {
        name: 'wildcards do not count as path characters',
        rules: [['example.com/p/*/reviews'], ['example.com/p/********']],
        url: 'https://example.com/p/1/reviews',
        winner: 0,
    },
    {
        name: 'an anchored path beats the same path unanchored',
        rules: [['example.com/a|'], ['example.com/a']],
        url: 'https://example.com/a',
        winner: 0,
    },
    {
        name: 'more query parameters win',
        rules: [['example.com/p?id=*&tab=*'], ['example.com/p?id=*']],
        url: 'https://example.com/p?tab=1&id=2',
        winner: 0,
    },
    {
        name: 'a fragment wins when the rest ties',
        rules: [['example.com/p#x'], ['example.com/p']],
        url: 'https://example.com/p#x',
        winner: 0,
    },
    {
        name: 'a scheme wins when the rest ties',
        rules: [['https://example.com'], ['example.com']],
        url: 'https://example.com/',
        winner: 0,
    },
    {
        name: 'an implied scheme (:443) counts as a scheme',
        rules: [['example.com:443'], ['example.com']],
        url: 'https://example.com/',
        winner: 0,
    },
    {
        name: 'the later registration wins a full tie',
        rules: [['example.com'], ['example.com']],
        url: 'https://example.com/',
        winner: 1,
    },
    {
        name: 'the later registration wins a tie across buckets',
        rules: [['example.com'], ['', 500], ['']],
        url: 'https://example.org/',
        winner: 2,
    },
    {
        name: 'a rule ranks by the include that matched',
        rules: [[['other.example', 'example.com/products/']], ['example.com/products']],
        url: 'https://example.com/products/1',
        winner: 0,
    },
    {
        name: 'a rule with several matching includes ranks by its best one',
        rules: [['example.com/products'], [['example.com', 'example.com/products/x']]],
        url: 'https://example.com/products/x1',
        winner: 1,
    },
];

describe('ranking', () => {
    it.each(RANKING)('$name', ({ rules, url, winner }) => {
        const registry = new SessionConfigRegistry();
        const classes = rules.map(([include, priority]) => {
            const cls = class extends SessionConfig {};
            registry.register(cls, priority === undefined ? { include } : { include, priority });
            return cls;
        });
        expect(registry.configFor(url)).toBe(classes[winner]);
    });

    it('keeps every rule when a class is registered several times', () => {
        const registry = new SessionConfigRegistry();
        class Shop extends SessionConfig {}
        class Other extends SessionConfig {}
        registry.register(Shop, { include: 'shop.example' });
        registry.register(Other, { include: 'shop.example' });
        registry.register(Shop, { include: 'shop.example/cart' });
        expect(registry.configFor('https://shop.example/cart')).toBe(Shop);
        expect(registry.configFor('https://shop.example/about')).toBe(Other);
    });
});

describe('insteadOf', () => {
    class Base extends SessionConfig {}
    class Replacement extends SessionConfig {}
    class Narrow extends SessionConfig {}

    it('replaces the winner wherever the replacing rule matches, whatever the priorities', () => {
        const registry = new SessionConfigRegistry();
        registry.register(Base, { include: 'example.com/products', priority: 900 });
        registry.register(Replacement, { include: 'example.com', priority: 100, insteadOf: Base });
        expect(registry.configFor('https://example.com/products/1')).toBe(Replacement);
    });

    it('also competes as a normal rule where the replaced class is not chosen', () => {
        const registry = new SessionConfigRegistry();
        registry.register(Base, { include: 'example.com/products' });
        registry.register(Replacement, { include: 'example.com', insteadOf: Base });
        expect(registry.configFor('https://example.com/about')).toBe(Replacement);
    });

    it('leaves the winner alone where the replacing rule does not match', () => {
        const registry = new SessionConfigRegistry();
        registry.register(Base, { include: 'example.com' });
        registry.register(Replacement, { include: 'example.com/special', priority: 100, insteadOf: Base });
        registry.register(Replacement, { include: 'example.org', insteadOf: Base });
        expect(registry.configFor('https://example.com/products/1')).toBe(Base);
        expect(registry.configFor('https://example.com/special/1')).toBe(Replacement);
    });

    it('honours the excludes of the replacing rule', () => {
        const registry = new SessionConfigRegistry();
        registry.register(Base, { include: 'example.com', priority: 900 });
        registry.register(Replacement, { include: 'example.com', exclude: '/keep', insteadOf: Base });
        expect(registry.configFor('https://example.com/a')).toBe(Replacement);
        expect(registry.configFor('https://example.com/keep')).toBe(Base);
    });

    it('picks the best ranked of several replacements', () => {
        const registry = new SessionConfigRegistry();
        registry.register(Base, { include: 'example.com', priority: 900 });
        registry.register(Narrow, { include: 'example.com/products', insteadOf: Base });
        registry.register(Replacement, { include: 'example.com', insteadOf: Base });
        expect(registry.configFor('https://example.com/products/1')).toBe(Narrow);
        expect(registry.configFor('https://example.com/about')).toBe(Replacement);
    });

    it('replaces SessionConfig itself', () => {
        const registry = new SessionConfigRegistry();
        registry.register(SessionConfig, { include: 'example.com/plain', priority: 900 });
        registry.register(Replacement, { include: 'example.com', priority: 100, insteadOf: SessionConfig });
        expect(registry.configFor('https://example.com/plain')).toBe(Replacement);
        expect(registry.configFor('https://example.org/')).toBe(SessionConfig);
    });

    it('follows chains of replacements', () => {
        const registry = new SessionConfigRegistry();
        registry.register(Base, { include: 'example.com', priority: 900 });
        registry.register(Replacement, { include: 'example.com', priority: 1, insteadOf: Base });
        registry.register(Narrow, { include: 'example.com', priority: 1, insteadOf: Replacement });
        expect(registry.configFor('https://example.com/')).toBe(Narrow);
    });

    it('stops a cycle before a class repeats', () => {
        const registry = new SessionConfigRegistry();
        registry.register(Base, { include: 'example.com', priority: 900 });
        registry.register(Replacement, { include: 'example.com', insteadOf: Base });
        registry.register(Base, { include: 'example.com', insteadOf: Replacement });
        expect(registry.configFor('https://example.com/')).toBe(Replacement);
    });
});

describe('index by registrable domain', () => {
    it('finds the right rule among 10,000 rules over 2,000 domains', () => {
        const registry = new SessionConfigRegistry();
        const classes = new Map<string, typeof SessionConfig>();
        for (let site = 0; site < 2000; site++) {
            for (const path of ['', '/a', '/a/b', '/c?x=*', '/d|']) {
                const include = `site${site}.example${path}`;
                const cls = class extends SessionConfig {};
                classes.set(include, cls);
                registry.register(cls, { include });
            }
        }
        class Local extends SessionConfig {}
        registry.register(Local, { include: 'localhost' });

        expect(registry.configFor('https://site7.example/a/b/c')).toBe(classes.get('site7.example/a/b'));
        expect(registry.configFor('https://www.site1999.example/c?y=1&x=2')).toBe(
            classes.get('site1999.example/c?x=*'),
        );
        expect(registry.configFor('https://site42.example/d')).toBe(classes.get('site42.example/d|'));
        expect(registry.configFor('https://site42.example/d2')).toBe(classes.get('site42.example'));
        expect(registry.configFor('https://deep.sub.site3.example/a')).toBe(classes.get('site3.example'));
        expect(registry.configFor('https://site2000.example/a')).toBe(SessionConfig);
        expect(registry.configFor('http://api.localhost/')).toBe(Local);
    });
});

describe('registering after lookups', () => {
    it('sees rules registered after a lookup: on a domain looked up before, on a new one, on every host', () => {
        const registry = new SessionConfigRegistry();
        class Shop extends SessionConfig {}
        class Products extends SessionConfig {}
        class About extends SessionConfig {}
        class Blog extends SessionConfig {}
        class Everywhere extends SessionConfig {}
        class Replacement extends SessionConfig {}
        registry.register(Shop, { include: 'shop.example' });
        registry.register(Products, { include: 'shop.example/products' });
        expect(registry.configFor('https://shop.example/products/1')).toBe(Products);
        expect(registry.configFor('https://blog.example/')).toBe(SessionConfig);

        // Ranks first in a domain already looked up: it must not be judged by the rule it displaced.
        registry.register(About, { include: 'shop.example/about', priority: 600 });
        registry.register(Blog, { include: 'blog.example' });
        expect(registry.configFor('https://shop.example/about')).toBe(About);
        expect(registry.configFor('https://shop.example/products/1')).toBe(Products);
        expect(registry.configFor('https://shop.example/contact')).toBe(Shop);
        expect(registry.configFor('https://blog.example/')).toBe(Blog);

        registry.register(Everywhere, { include: '', priority: 900 });
        expect(registry.configFor('https://shop.example/products/1')).toBe(Everywhere);
        registry.register(Replacement, { include: 'shop.example/products', insteadOf: Everywhere });
        expect(registry.configFor('https://shop.example/products/1')).toBe(Replacement);
        expect(registry.configFor('https://shop.example/about')).toBe(Everywhere);
    });
});
