import type { SessionConfig } from '../config/session-config.js';
import { sessionConfigRegistry } from './registry.js';
import type { SessionConfigRule } from './rule.js';

/**
 * Registers the decorated class in the default `sessionConfigRegistry` for the URLs `rule`
 * matches. Works as a standard (TC39) class decorator and as a legacy `experimentalDecorators`
 * one. To fill another registry, call its `register()` instead.
 *
 * @example
 * @sessionConfig({ include: 'shop.example', exclude: 'shop.example/help' })
 * class ShopSessions extends SessionConfig {
 *     override check(response: SessionResponse) {
 *         return !response.body.includes('id="login-form"');
 *     }
 * }
 *
 * @throws TypeError, when the class is defined, if the class does not extend `SessionConfig`,
 * the rule is invalid, or the decorator is applied to something other than a class.
 */
export function sessionConfig(rule: SessionConfigRule): ClassDecorator {
    const register = (cls: unknown): void => sessionConfigRegistry.register(cls as typeof SessionConfig, rule);
    return (value: unknown, context?: unknown): void => {
        if (context === undefined) {
            // Legacy decorators receive the class alone.
            register(value);
        } else if (isClassContext(context)) {
            // Once the class is defined, `this` is the final class, even if a decorator applied
            // after this one replaced it.
            context.addInitializer(function (this: unknown) {
                register(this);
            });
        } else {
            const kind = (context as { kind?: unknown } | null)?.kind;
            const target = typeof kind === 'string' ? `a ${kind}` : 'a class member';
            throw new TypeError(
                `@sessionConfig() decorates classes only, but was applied to ${target}; ` +
                    'put it on a class that extends SessionConfig.',
            );
        }
    };
}

function isClassContext(context: unknown): context is ClassDecoratorContext {
    return typeof context === 'object' && context !== null && (context as { kind?: unknown }).kind === 'class';
}
