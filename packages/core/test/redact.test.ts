import { redact } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';

describe('redact', () => {
    it.each([
        [
            'proxy password in a URL',
            'via http://user:secretpw@127.0.0.1:8000 failed',
            'via http://***:***@127.0.0.1:8000 failed',
        ],
        ['Cookie header line', 'Cookie: sid=abc123', 'Cookie: ***'],
        ['JSON header value', '{"cookie":"sid=abc123","x":1}', '{"cookie":***,"x":1}'],
        ['JSON array of set-cookie values', '{"set-cookie":["sid=a; Path=/","t=b"],"x":1}', '{"set-cookie":***,"x":1}'],
        ['Authorization', "authorization='Bearer tok'", 'authorization=***'],
        ['nothing secret', 'GET http://127.0.0.1/p 200', 'GET http://127.0.0.1/p 200'],
    ])('removes the %s', (_name, input, expected) => {
        expect(redact(input)).toBe(expected);
    });
});
