import { SessionConfig, SessionConfigRegistry } from '@managed-sessions/core';
import { describe, expect, it } from 'vitest';

interface PatternCase {
    pattern: string;
    match: string[];
    noMatch: string[];
}

// Corner cases in the manner of url-matcher's fixtures: each pattern is registered alone in a
// fresh registry, so a URL it does not match falls back to the seeded `SessionConfig`.
const PATTERNS: PatternCase[] = [
    {
        pattern: '',
        match: [
            'http://www.example.com/',
            'https://EXAMPLE.COM/product1',
            'http://products.example.com/path?id=23&param=#hash',
            'http://localhost:3000/',
            'http://127.0.0.1:8080/x',
            'file:///tmp/page.html',
        ],
        noMatch: [],
    },
    {
        pattern: 'example.com',
        match: [
            'http://www.example.com/',
            'http://product.example.COM/product1',
            'https://example.com/product2',
            'https://example.com/product?id=2344#main_section',
            'https://a.b.example.com/',
            'https://example.com./trailing-dot',
        ],
        noMatch: [
            'http://otherexample.com/',
            'http://example.com.evil.test/',
            'http://example.org/',
            'http://example.com:8080/',
            'https://example.com:80/',
        ],
    },
    {
        pattern: 'example.com/',
        match: ['http://www.example.com/', 'https://EXAMPLE.COM/product1', 'https://example.com'],
        noMatch: ['http://products.example.com/', 'http://otherexample.com/', 'http://www.www.example.com/'],
    },
    {
        pattern: 'example.com/|',
        match: [
            'http://www.example.com/',
            'https://example.com',
            'https://example.com/?id=23',
            'https://example.com/#top',
        ],
        noMatch: ['http://example.com/product', 'http://otherexample.com/', 'https://uk.example.com/'],
    },
    {
        pattern: 'example.com/index.htm|',
        match: [
            'http://www.example.com/index.htm',
            'https://example.com/index.htm?color=blue',
            'https://example.com/INDEX.HTM',
        ],
        noMatch: ['http://example.com/index.html', 'http://shop.example.com/index.htm'],
    },
    {
        // `/aa~` and `/ab_` hash alike in the registry's path filter, and `/aa` is a prefix of
        // `/aa~`: only the pattern itself may decide.
        pattern: 'example.com/aa~',
        match: ['https://example.com/aa~', 'https://www.example.com/AA~/x'],
        noMatch: [
            'https://example.com/ab_',
            'https://example.com/ab_/aa~',
            'https://example.com/aa',
            'https://example.com/',
        ],
    },
    {
        pattern: 'example.com/aa~|',
        match: ['https://example.com/aa~', 'https://example.com/aa~?x=1'],
        noMatch: ['https://example.com/ab_', 'https://example.com/aa~/x'],
    },
    {
        pattern: 'http://example.com',
        match: ['http://www.example.com/', 'HTTP://example.com/product1', 'http://shop.example.com/product2'],
        noMatch: ['https://www.example.com/', 'ftp://example.com/'],
    },
    {
        pattern: 'https://example.com/products',
        match: [
            'https://example.com/products/1',
            'https://www.example.com/products',
            'https://example.com/products-old',
        ],
        noMatch: ['http://example.com/products/1', 'https://shop.example.com/products', 'https://example.com/product'],
    },
    {
        pattern: 'example.com/category/*/product/',
        match: [
            'http://example.com/category/bread/product/loaf',
            'http://www.example.com/category/bread/product/loaf',
            'https://example.com/category/bread/product/loaf?id=23#main',
            'https://example.com/category/a/b/product/',
        ],
        noMatch: [
            'http://example.com/product/loaf',
            'http://fr.example.com/category/bread/product/loaf',
            'https://example.com/category/product/',
        ],
    },
    {
        pattern: 'example.com/*.jpg|',
        match: [
            'http://www.example.com/my/image.jpg',
            'http://example.com/my/image.JPG',
            'https://example.com/other-image.jpg#big',
            'https://example.com/a.jpg?w=100',
        ],
        noMatch: [
            'http://www.example.com/my/image.jpeg',
            'http://www.example.com/my/image/jpg_2',
            'http://example.com/image.jpg/large',
        ],
    },
    {
        pattern: 'example.com/a**b|',
        match: ['https://example.com/ab', 'https://example.com/a/x/b'],
        noMatch: ['https://example.com/a/x/bc'],
    },
    {
        pattern: 'example.com/a|b',
        match: ['https://example.com/a|b/c'],
        noMatch: ['https://example.com/a', 'https://example.com/ab'],
    },
    {
        pattern: 'example.com//strange_path/subpath',
        match: ['http://example.com//strange_path/subpath/something_else'],
        noMatch: ['http://strange_path/subpath', 'http://example.com/strange_path/subpath'],
    },
    {
        pattern: 'EXAMPLE.COM/Products',
        match: ['https://example.com/products/1', 'https://Example.com/PRODUCTS'],
        noMatch: ['https://example.com/product'],
    },
    {
        pattern: 'example.com/café',
        match: ['https://example.com/caf%C3%A9/menu', 'https://example.com/Caf%c3%a9'],
        noMatch: ['https://example.com/cafe'],
    },
    {
        pattern: 'example.com/a b',
        match: ['https://example.com/a%20b'],
        noMatch: ['https://example.com/a+b'],
    },
    {
        pattern: 'example.com/product?id=*',
        match: [
            'http://www.example.com/product?location=US&id=23',
            'http://www.example.com/PRODUCT?ID=23#main_section',
            'http://example.com/product?id=',
            'http://example.com/products?id=1',
        ],
        noMatch: [
            'http://uk.example.com/product?location=US&id=23',
            'http://www.example.com/product?location=US',
            'http://example.com/product#id=1',
        ],
    },
    {
        pattern: 'example.com?product_id=*&category=shoes',
        match: [
            'http://www.example.com/product?category=shoes&location=US&product_id=23',
            'http://example.com/product?category=SHOES&product_id=23#main_section',
        ],
        noMatch: [
            'http://www.example.com/product?product_id=23&category=clothes',
            'http://www.example.com/product?category=shoes',
            'http://shop.example.com/product?category=SHOES&product_id=23',
        ],
    },
    {
        pattern: 'example.com?param=1&param=2',
        match: [
            'http://www.example.com?param=1&otherparam=3',
            'http://www.EXAMPLE.com?PARAM=2',
            'http://example.com/?param=3&param=2',
        ],
        noMatch: ['http://example.com?param=3', 'http://example.com?param=12', 'http://example.com/'],
    },
    {
        pattern: 'example.com?id=32&id=A*',
        match: [
            'http://www.example.com/product?otm=2&id=32',
            'http://example.com/prod?id=A45&category=shoes',
            'http://www.example.com/product?&id=44&id=32',
        ],
        noMatch: ['http://www.example.com/product?&id=44'],
    },
    {
        pattern: 'example.com?flag',
        match: ['https://example.com/?flag', 'https://example.com/?flag='],
        noMatch: ['https://example.com/?flag=1', 'https://example.com/'],
    },
    {
        pattern: 'example.com?q=red+shoes',
        match: ['https://example.com/s?q=red%20shoes', 'https://example.com/s?q=Red+Shoes'],
        noMatch: ['https://example.com/s?q=red'],
    },
    {
        pattern: 'example.com/path?',
        match: ['https://example.com/path', 'https://example.com/path?id=34'],
        noMatch: ['https://example.com/other'],
    },
    {
        pattern: 'example.com/path?*',
        match: ['https://example.com/path', 'https://example.com/path?id=34', 'https://example.com/path?=34'],
        noMatch: ['https://sub.example.com/path'],
    },
    {
        pattern: 'example.com#product_section_*',
        match: [
            'http://www.example.com/product_1?location=US#product_section_main',
            'http://example.com#product_section_main',
        ],
        noMatch: [
            'http://www.example.com/product_1?location=US#product_description',
            'http://www.example.com/product_1?location=US',
            'http://uk.example.com#product_section_main',
        ],
    },
    {
        pattern: 'example.com/a#top|',
        match: ['https://example.com/a#top', 'https://example.com/abc#TOP'],
        noMatch: ['https://example.com/a#top2', 'https://example.com/a'],
    },
    {
        pattern: 'shop.example.com/*/product/?category=shoes',
        match: ['https://shop.example.com/US/product/nike_air?sid=423&category=shoes'],
        noMatch: [
            'https://example.com/US/product/nike_air?sid=423&category=shoes',
            'https://shop.example.com/US/product/loaf?sid=424&category=bread',
            'https://shop.example.com/US/product/nike_air?sid=423',
            'https://shop.example.com/product/nike_air?sid=423&category=shoes',
            'https://my.shop.example.com/US/product/nike_air?sid=423&category=shoes',
        ],
    },
    {
        pattern: 'example.com:123',
        match: [
            'http://www.example.com:123/product',
            'https://example.com:123/product',
            'https://sub.example.com:123/',
        ],
        noMatch: ['http://www.example.com/product', 'http://example.com:1234/'],
    },
    {
        pattern: 'example.com:80',
        match: ['http://www.example.com:80/x', 'http://example.com/x'],
        noMatch: ['https://www.example.com/x', 'https://www.example.com:80/x', 'http://www.example.com:123/x'],
    },
    {
        pattern: 'http://example.com:80',
        match: ['http://www.example.com:80/x', 'http://example.com/x'],
        noMatch: ['https://www.example.com/x', 'https://www.example.com:80/x', 'http://www.example.com:123/x'],
    },
    {
        pattern: 'example.com:443',
        match: ['https://example.com:443/x', 'https://example.com/x'],
        noMatch: ['http://example.com/x', 'http://example.com:443/x', 'https://example.com:80/x'],
    },
    {
        pattern: 'https://example.com:443',
        match: ['https://example.com:443/x', 'https://example.com/x'],
        noMatch: ['http://example.com/x', 'http://example.com:443/x', 'https://example.com:80/x'],
    },
    {
        pattern: 'https://example.com:80',
        match: ['https://www.example.com:80/x'],
        noMatch: ['http://example.com/x', 'https://www.example.com/x', 'http://www.example.com:80/x'],
    },
    {
        pattern: 'http://example.com:443',
        match: ['http://www.example.com:443/x'],
        noMatch: ['https://example.com:443/x', 'https://www.example.com/x', 'http://www.example.com/x'],
    },
    {
        pattern: 'localhost:3000',
        match: [
            'http://localhost:3000/',
            'https://localhost:3000/api',
            'http://LOCALHOST:3000/',
            'http://app.localhost:3000/',
        ],
        noMatch: ['http://localhost/', 'http://localhost:3001/', 'http://127.0.0.1:3000/'],
    },
    {
        pattern: 'localhost',
        match: ['http://localhost/', 'https://localhost/x'],
        noMatch: ['http://localhost:3000/', 'http://localhost.example/'],
    },
    {
        pattern: '127.0.0.1',
        match: ['http://127.0.0.1:80/product', 'https://127.0.0.1/product', 'http://127.1/'],
        noMatch: ['http://127.0.0.1:8080/', 'http://127.0.0.2/', 'http://example.com/'],
    },
    {
        pattern: '127.0.0.1:8080/api',
        match: ['http://127.0.0.1:8080/api/items'],
        noMatch: ['http://127.0.0.1:8080/', 'http://127.0.0.1/api'],
    },
    {
        pattern: '[::1]:8080',
        match: ['http://[::1]:8080/', 'http://[0:0:0:0:0:0:0:1]:8080/x'],
        noMatch: ['http://[::1]/', 'http://localhost:8080/'],
    },
    {
        pattern: 'bücher.example',
        match: ['https://xn--bcher-kva.example/', 'https://BÜCHER.example/x', 'https://www.bücher.example/'],
        noMatch: ['https://bucher.example/'],
    },
    {
        // A public suffix has no registrable domain; its subdomains must still be found.
        pattern: 'co.uk',
        match: ['https://co.uk/', 'https://shop.co.uk/', 'https://a.shop.co.uk/'],
        noMatch: ['https://co.uk.example/', 'https://example.uk/'],
    },
];

describe('url-matcher patterns', () => {
    describe.each(PATTERNS)('pattern $pattern', ({ pattern, match, noMatch }) => {
        const registryFor = () => {
            const registry = new SessionConfigRegistry();
            class Matched extends SessionConfig {}
            registry.register(Matched, { include: pattern });
            return { registry, Matched };
        };

        it.each(match)('matches %s', (url) => {
            const { registry, Matched } = registryFor();
            expect(registry.configFor(url)).toBe(Matched);
        });

        it.runIf(noMatch.length > 0).each(noMatch)('does not match %s', (url) => {
            const { registry } = registryFor();
            expect(registry.configFor(url)).toBe(SessionConfig);
        });
    });
});

interface ExcludeCase {
    include: string | string[];
    exclude: string | string[];
    match: string[];
    noMatch: string[];
}

const EXCLUDES: ExcludeCase[] = [
    {
        include: 'example.com',
        exclude: 'example.com/help',
        match: ['https://example.com/', 'https://shop.example.com/help'],
        noMatch: ['https://example.com/help', 'https://www.example.com/help/faq'],
    },
    {
        // Excludes may leave out the host: they then apply on every host the includes cover.
        include: ['example.com', 'example.org'],
        exclude: ['/login', '?preview=*', '/*.pdf|', '#print'],
        match: ['https://example.com/products', 'https://example.org/docs/a.pdf.html', 'https://example.com/?lang=en'],
        noMatch: [
            'https://example.com/login',
            'https://example.org/login/sso',
            'https://example.com/p?preview=1',
            'https://shop.example.org/docs/a.PDF',
            'https://example.com/p#print',
        ],
    },
    {
        include: 'example.com',
        exclude: 'https://example.com',
        match: ['http://example.com/'],
        noMatch: ['https://example.com/', 'https://a.example.com/'],
    },
    {
        include: '',
        exclude: 'example.com',
        match: ['https://example.org/', 'https://example.com:8080/'],
        noMatch: ['https://example.com/', 'https://www.example.com/x'],
    },
    {
        include: 'example.com',
        exclude: '',
        match: [],
        noMatch: ['https://example.com/'],
    },
];

describe('excludes', () => {
    describe.each(EXCLUDES)('include $include, exclude $exclude', ({ include, exclude, match, noMatch }) => {
        const registryFor = () => {
            const registry = new SessionConfigRegistry();
            class Matched extends SessionConfig {}
            registry.register(Matched, { include, exclude });
            return { registry, Matched };
        };

        it.runIf(match.length > 0).each(match)('matches %s', (url) => {
            const { registry, Matched } = registryFor();
            expect(registry.configFor(url)).toBe(Matched);
        });

        it.each(noMatch)('does not match %s', (url) => {
            const { registry } = registryFor();
            expect(registry.configFor(url)).toBe(SessionConfig);
        });
    });

    it('lets the next matching rule serve an excluded URL', () => {
        const registry = new SessionConfigRegistry();
        class Shop extends SessionConfig {}
        class Help extends SessionConfig {}
        registry.register(Help, { include: 'example.com', priority: 100 });
        registry.register(Shop, { include: 'example.com', exclude: 'example.com/help' });
        expect(registry.configFor('https://example.com/cart')).toBe(Shop);
        expect(registry.configFor('https://example.com/help/faq')).toBe(Help);
    });
});
