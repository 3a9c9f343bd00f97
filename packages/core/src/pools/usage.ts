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
     * When it was last asked for a session, in whole ms since the directory's epoch: kept a small
     * integer (the directory moves its epoch every 12 days), which V8 stores in the object. A clock
     * time in ms, or any double, would be a separate heap number: one more place to touch.
     */
    lastUsed = 0;
    /** Acquires that got a session since the pool went live (the report adds them to its totals). */
    acquires = 0;
}
