/**
 * Crawlee's `Session` makes its own `log.child({ prefix: 'Session' })`: with 10,000 pools of 8
 * sessions that is 80,000 identical loggers. The engine's sessions share one per parent log.
 */
import { EventEmitter } from 'node:events';
import { Log, LogLevel, type Session } from '@crawlee/core';
import { createCrawleeSession } from '@managed-sessions/core/internal';
import { describe, expect, it } from 'vitest';
import { captureLog } from './helpers.js';

const hub = Object.assign(new EventEmitter(), { blockedStatusCodes: [] as number[] });

/** The logger Crawlee's Session keeps (a private field of Crawlee's). */
function logOf(session: Session): Log {
    return (session as unknown as { log: Log }).log;
}

describe('session loggers', () => {
    it('sessions of one parent log share one child logger, with the prefix Crawlee gives it', () => {
        const parent = new Log({ level: LogLevel.OFF, prefix: 'ManagedSessions' });
        const a = createCrawleeSession(hub, parent);
        const b = createCrawleeSession(hub, parent);
        expect(logOf(a)).toBe(logOf(b));
        expect(logOf(a).getOptions()).toEqual(parent.child({ prefix: 'Session' }).getOptions());
        expect(logOf(a).getOptions().prefix).toBe('ManagedSessions:Session');
    });

    it('another parent log gets its own child', () => {
        const one = new Log({ level: LogLevel.OFF, prefix: 'One' });
        const two = new Log({ level: LogLevel.OFF, prefix: 'Two' });
        expect(logOf(createCrawleeSession(hub, one)).getOptions().prefix).toBe('One:Session');
        expect(logOf(createCrawleeSession(hub, two)).getOptions().prefix).toBe('Two:Session');
    });

    it('what a session logs still reaches the parent logger', () => {
        const { log, lines } = captureLog();
        const session = createCrawleeSession(hub, log);
        logOf(session).warning('cookie trouble');
        expect(lines).toEqual([{ level: LogLevel.WARNING, message: 'cookie trouble' }]);
    });
});
