import type { Request, Session } from '@crawlee/core';
import { type Download, PoolError, SessionConfig } from '@managed-sessions/core';
import { redact } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { captureLog, req, response, setup } from './helpers.js';

const URL_A = 'https://shop.example/a';

describe('redact: more places secrets hide', () => {
    it.each([
        ['a cookie quoted in prose', 'bad cookie session=abc123 for pool x', 'bad cookie session=*** for pool x'],
        ['several cookies in prose', 'cookies sid=abc123; theme=dark; x', 'cookies sid=***; theme=***; x'],
        [
            'a Cookie header in a message',
            'Request failed\nCookie: session=abc123\nHost: a',
            'Request failed\nCookie: ***\nHost: a',
        ],
        ['a header named with a word between', 'the Cookie header: sid=abc123', 'the Cookie header: ***'],
        ['an unclosed quoted value', 'cookie="sid=abc123 and more\nnext', 'cookie=***\nnext'],
        [
            'a proxy password in an https URL',
            'https://u:p%40ss@proxy.example:8000/',
            'https://***:***@proxy.example:8000/',
        ],
        ['two URLs', 'http://a:b@x http://c:d@y', 'http://***:***@x http://***:***@y'],
        ['a URL without credentials', 'see http://example.com/a:b@c', 'see http://example.com/a:b@c'],
        ['the word cookie alone', 'cookie jar is empty', 'cookie jar is empty'],
    ])('masks %s', (_what, input, expected) => {
        expect(redact(input)).toBe(expected);
    });
});

describe('redact is linear in the length of its input', () => {
    // Each would take minutes with a backtracking regex; the test's own timeout is the bound.
    it.each([
        ['dotted text', 'a.'.repeat(100_000), 'a.'.repeat(100_000)],
        ['scheme-like text before ://', `${'a'.repeat(200_000)}://`, `${'a'.repeat(200_000)}://`],
        ['repeated :// without credentials', 'a://b'.repeat(50_000), 'a://b'.repeat(50_000)],
        ['unclosed lists after cookie names', 'cookie=[,'.repeat(50_000), 'cookie=***'],
        ['unclosed quotes after cookie names', `${'cookie="x,'.repeat(1)}${'y,'.repeat(100_000)}`, 'cookie=***'],
        ['whitespace after cookie names', `cookie${' '.repeat(200_000)}x`, `cookie${' '.repeat(200_000)}x`],
        ['user:password-like runs', `http://${'a:'.repeat(100_000)}`, `http://${'a:'.repeat(100_000)}`],
    ])(
        '%s',
        (_what, input, expected) => {
            expect(redact(input)).toBe(expected);
        },
        10_000,
    );
});

describe('secrets in init errors and PoolError messages', () => {
    it('masks the cookie an initSession() error quotes', async () => {
        const { log, lines } = captureLog();
        const h = setup({ poolSize: 1, maxBadInits: 2 }, { log });
        let inits = 0;
        h.registry.register(
            class extends SessionConfig {
                override async initSession(session: Session, request: Request, download: Download) {
                    if (++inits === 1) {
                        session.setCookie('token=zq8Hv2Kp; Path=/', 'https://other.example/');
                        throw new Error('bad cookie session=abc123 (token zq8Hv2Kp rejected)');
                    }
                    return super.initSession(session, request, download);
                }
            },
            { include: '', priority: 1000 },
        );
        await h.manager.acquire(req(URL_A));
        const text = lines.map((line) => line.message).join('\n');
        expect(text).toContain(
            'Session init for pool shop.example failed: bad cookie session=*** (token *** rejected)',
        );
        expect(text).not.toContain('abc123');
        expect(text).not.toContain('zq8Hv2Kp');
    });

    it('masks a Cookie header a download error quotes', async () => {
        const { log, lines } = captureLog();
        const h = setup({ poolSize: 1, maxBadInits: 2 }, { log });
        h.site.respond = (call) => {
            if (h.site.calls.length === 1) throw new Error('socket hang up; request headers Cookie: sid=abc123');
            return response(call.url);
        };
        await h.manager.acquire(req(URL_A));
        const text = lines.map((line) => line.message).join('\n');
        expect(text).toContain(
            'Session init for pool shop.example failed: socket hang up; request headers Cookie: ***',
        );
        expect(text).not.toContain('abc123');
    });

    it('PoolError masks what pool() threw, in its message and its cause', () => {
        const thrown = new Error('no pool via http://u:pw@proxy:1 for Cookie: sid=abc123');
        const error = new PoolError(URL_A, `pool() threw: ${thrown.message}`, { cause: thrown });
        expect(error.message).toBe(
            `Cannot choose a session pool for ${URL_A}: pool() threw: no pool via http://***:***@proxy:1 for Cookie: ***`,
        );
        expect((error.cause as Error).message).toBe('no pool via http://***:***@proxy:1 for Cookie: ***');
        expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('abc123');
    });
});
