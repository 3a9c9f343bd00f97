/**
 * CPU-profiles one region of a benchmark (not its setup) with the inspector, and writes a
 * `.cpuprofile` that `profile-summary.ts` or Chrome DevTools can read.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/** Runs `fn` under the CPU profiler and writes the profile to `file`. */
export async function profileRegion<T>(file: string, fn: () => Promise<T> | T): Promise<T> {
    const session = new Session();
    session.connect();
    try {
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
        const result = await fn();
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(file, JSON.stringify(profile));
        return result;
    } finally {
        session.disconnect();
    }
}
