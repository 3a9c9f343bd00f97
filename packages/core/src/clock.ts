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

/**
 * The longest delay a Node timer can wait (2^31-1 ms, about 24.8 days). Node runs a longer one
 * after 1 ms, so a wait computed from a huge option or a skewed saved time would fire at once,
 * and a wake-up re-armed from it would fire every millisecond.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` as a delay every timer honours: within [0, {@link MAX_TIMER_MS}], `NaN` as 0. */
export function clampTimerMs(ms: number): number {
    if (!(ms > 0)) return 0;
    return Math.min(ms, MAX_TIMER_MS);
}

/**
 * A timer for a delay of any length on `clock`: a delay past {@link MAX_TIMER_MS} is waited in
 * steps, so `callback` runs once, no sooner than `ms` after now. Returns the function that cancels it.
 */
export function setLongTimeout(clock: Clock, callback: () => void, ms: number): () => void {
    const due = clock.now() + (Number.isNaN(ms) ? 0 : Math.max(0, ms));
    let handle: TimerHandle;
    const arm = (wait: number): void => {
        handle = clock.setTimeout(() => {
            const left = due - clock.now();
            if (left > 0) arm(left);
            else callback();
        }, clampTimerMs(wait));
    };
    arm(due - clock.now());
    return () => clock.clearTimeout(handle);
}

/** The real clock. Timers are `unref`-ed so a forgotten one can never keep the process alive. */
export const systemClock: Clock = {
    now: () => Date.now(),
    setTimeout: (callback, ms) => {
        const timer = setTimeout(callback, clampTimerMs(ms));
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

    /**
     * Like Node's `setTimeout`, a delay above {@link MAX_TIMER_MS} (or `NaN`) fires after 1 ms,
     * so tests see the overflow a real timer would have.
     */
    setTimeout(callback: () => void, ms: number): TimerHandle {
        const delay = ms > MAX_TIMER_MS || Number.isNaN(ms) ? 1 : Math.max(0, ms);
        const timer = { at: this.#now + delay, seq: this.#seq++, callback };
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
