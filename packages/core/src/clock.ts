/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Where the engine reads time and schedules timers. Injected so delays, waits and ages can be
 * tested without sleeping; the default is the system clock.
 */
export interface Clock {
    /** Milliseconds since the epoch. */
    now(): number;
    setTimeout(callback: () => void, ms: number): TimerHandle;
    clearTimeout(handle: TimerHandle): void;
}

/** The real clock. Timers are `unref`-ed so a forgotten one can never keep the process alive. */
export const systemClock: Clock = {
    now: () => Date.now(),
    setTimeout: (callback, ms) => {
        const timer = setTimeout(callback, ms);
        timer.unref();
        return timer;
    },
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface ManualTimer {
    at: number;
    seq: number;
    callback: () => void;
}

/**
 * A clock that moves only when told to, for tests of delays, waits and ages.
 *
 * @example
 * const clock = new ManualClock();
 * const manager = createSessionManager({ delay: 2 }, { clock, download });
 * await clock.advance(2_000); // fires every timer due in the next two seconds
 */
export class ManualClock implements Clock {
    #now: number;
    #seq = 0;
    #timers = new Set<ManualTimer>();

    constructor(start = 1_700_000_000_000) {
        this.#now = start;
    }

    now(): number {
        return this.#now;
    }

    setTimeout(callback: () => void, ms: number): TimerHandle {
        const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, callback };
        this.#timers.add(timer);
        return timer;
    }

    clearTimeout(handle: TimerHandle): void {
        this.#timers.delete(handle as ManualTimer);
    }

    /** Timers scheduled and not yet fired or cleared. */
    get pendingTimers(): number {
        return this.#timers.size;
    }

    /**
     * Moves time forward by `ms`, firing due timers in order, and lets promise callbacks run
     * between them so that work a timer starts can schedule further timers.
     */
    async advance(ms: number): Promise<void> {
        const end = this.#now + ms;
        for (;;) {
            await flushMicrotasks();
            let next: ManualTimer | undefined;
            for (const timer of this.#timers) {
                if (
                    timer.at <= end &&
                    (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq))
                ) {
                    next = timer;
                }
            }
            if (!next) break;
            this.#timers.delete(next);
            this.#now = Math.max(this.#now, next.at);
            next.callback();
        }
        this.#now = end;
        await flushMicrotasks();
    }
}

/** Lets pending promise callbacks (and the ones they queue) run. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
    for (let i = 0; i < rounds; i++) await Promise.resolve();
    await new Promise<void>((resolve) => setImmediate(resolve));
}
