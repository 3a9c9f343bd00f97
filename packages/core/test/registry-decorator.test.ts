import { SessionConfig, sessionConfig, sessionConfigRegistry } from '@managed-sessions/core';
import { describe, expect, it } from 'vitest';

// These tests register into the default registry, which lives for the whole test file: every
// test uses hosts of its own.

type AnyDecorator = (value: unknown, context?: unknown) => unknown;

describe('sessionConfig() as a standard decorator', () => {
    it('registers the class in the default registry', () => {
        @sessionConfig({ include: 'decorator-standard.example' })
        class Standard extends SessionConfig {}

        expect(sessionConfigRegistry.configFor('https://www.decorator-standard.example/x')).toBe(Standard);
        expect(sessionConfigRegistry.configFor('https://decorator-unregistered.example/')).toBe(SessionConfig);
    });

    it('passes the whole rule on', () => {
        @sessionConfig({ include: 'decorator-rule.example', exclude: '/help', priority: 700 })
        class Base extends SessionConfig {}

        @sessionConfig({ include: 'decorator-rule.example/products', insteadOf: Base })
        class Products extends SessionConfig {}

        expect(sessionConfigRegistry.configFor('https://decorator-rule.example/')).toBe(Base);
        expect(sessionConfigRegistry.configFor('https://decorator-rule.example/help')).toBe(SessionConfig);
        expect(sessionConfigRegistry.configFor('https://decorator-rule.example/products/1')).toBe(Products);
    });

    it('registers the final class when a later decorator replaces it', () => {
        const wrap = <T extends new (...args: any[]) => SessionConfig>(value: T, _context: ClassDecoratorContext<T>) =>
            class Wrapped extends value {};

        @wrap
        @sessionConfig({ include: 'decorator-wrapped.example' })
        class Original extends SessionConfig {}

        const found = sessionConfigRegistry.configFor('https://decorator-wrapped.example/');
        expect(found).toBe(Original);
        expect(found.name).toBe('Wrapped');
    });

    it('throws when the class is defined with an invalid rule', () => {
        expect(() => {
            @sessionConfig({ include: '/no-host' })
            class Invalid extends SessionConfig {}
            return Invalid;
        }).toThrow(
            new TypeError(
                "Cannot register Invalid: include pattern '/no-host' has no host; write it as " +
                    "'shop.example/no-host' with your site's host, or '' to match every URL.",
            ),
        );
    });

    it('rejects class members', () => {
        const decorator = sessionConfig({ include: 'decorator-member.example' }) as AnyDecorator;
        const context = { kind: 'method', name: 'check', static: false, private: false };
        expect(() => decorator(() => true, context)).toThrow(
            new TypeError(
                '@sessionConfig() decorates classes only, but was applied to a method; ' +
                    'put it on a class that extends SessionConfig.',
            ),
        );
    });
});

describe('sessionConfig() as a legacy decorator', () => {
    it('registers the class it receives alone and keeps it', () => {
        class Legacy extends SessionConfig {}
        const result = sessionConfig({ include: 'decorator-legacy.example/api' })(Legacy);

        expect(result).toBeUndefined();
        expect(sessionConfigRegistry.configFor('https://decorator-legacy.example/api/items')).toBe(Legacy);
        expect(sessionConfigRegistry.configFor('https://decorator-legacy.example/')).toBe(SessionConfig);
    });

    it('rejects a class that does not extend SessionConfig', () => {
        class NotAConfig {}
        expect(() => sessionConfig({ include: 'decorator-legacy-bad.example' })(NotAConfig)).toThrow(
            new TypeError(
                'Cannot register NotAConfig as a session config: expected a class that extends SessionConfig.',
            ),
        );
        expect(sessionConfigRegistry.configFor('https://decorator-legacy-bad.example/')).toBe(SessionConfig);
    });

    it('rejects members (a legacy property decorator gets a key)', () => {
        class Holder extends SessionConfig {}
        const decorator = sessionConfig({ include: 'decorator-legacy-member.example' }) as AnyDecorator;
        expect(() => decorator(Holder.prototype, 'field')).toThrow(
            new TypeError(
                '@sessionConfig() decorates classes only, but was applied to a class member; ' +
                    'put it on a class that extends SessionConfig.',
            ),
        );
    });
});
