/**
 * What the engine keeps about each live pool, on the pool object itself (both pool backends extend
 * it): the directory's busy and idle bookkeeping and the report's acquire count. With 10,000 pools
 * a request finds its pool cold in memory, and every further object per pool (a directory record,
 * report totals) was one more cache miss per request (bench/README.md, engine cost). Declared in a
 * base class, so these fields come first, in the pool's first cache line.
 */
export class PoolUsage {
    /** Acquires under way plus leases out: a pool with any is never evicted. Kept by the directory. */
    busy = 0;
    /**
     * When it was last asked for a session, in ms since the directory's epoch: a small integer, which
     * V8 stores in the object (a clock time in ms would be a boxed double, one more object to touch).
     */
    lastUsed = 0;
    /** Acquires that got a session since the pool went live (the report adds them to its totals). */
    acquires = 0;
}
