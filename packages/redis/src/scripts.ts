/**
 * The atomic steps of a shared pool, as Lua scripts (run with EVALSHA through ioredis'
 * `defineCommand`). Each script sees one pool: KEYS are the pool's keys (see `keys.ts`), and the
 * first three ARGV are the session-key prefix, the events channel and the pool id. Times are
 * integer milliseconds on the callers' clock; claims (init slots) and leases expire at the time
 * they are scored with, so a crashed process frees them.
 *
 * Every script replies `{ reply, dropped }`: `dropped` lists (problem, key) pairs of entries it
 * found corrupt and removed before they could break it (a key of the wrong type, a session hash
 * with unreadable counters, a membership entry without a session, an unreadable stop flag or a
 * non-integer counter). A runtime error half-way through a script keeps its earlier writes, so the
 * checks run before the first write.
 */
/** Number of KEYS every script takes, in this order. */
export const POOL_KEY_COUNT = 6;

const PRELUDE = `
local ready, claims, leases, owners, meta, closed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local base, channel, pool = ARGV[1], ARGV[2], ARGV[3]

local dropped = {}

local function note(problem, key)
    dropped[#dropped + 1] = problem
    dropped[#dropped + 1] = key
end

-- An integer HINCRBY accepts (at most 18 digits, so never out of range).
local function isInt(value)
    local digits = type(value) == 'string' and string.match(value, '^%-?(%d+)$')
    return digits and #digits <= 18 or false
end

local function typeOf(key)
    return redis.call('TYPE', key).ok
end

-- A pool key of the wrong type would fail every script with WRONGTYPE; an unreadable stop flag
-- or counter would fail the ones that read it. Dropped (or reset) first, so the pool goes on.
local function guard()
    for _, entry in ipairs({ { ready, 'zset' }, { claims, 'zset' }, { leases, 'zset' }, { owners, 'hash' },
        { meta, 'hash' }, { closed, 'string' } }) do
        local found = typeOf(entry[1])
        if found ~= 'none' and found ~= entry[2] then
            redis.call('DEL', entry[1])
            note('pool-key-type', entry[1])
        end
    end
    local counters = redis.call('HMGET', meta, 'badInits', 'seq')
    local badCounter = false
    if counters[1] and not isInt(counters[1]) then
        redis.call('HSET', meta, 'badInits', 0)
        badCounter = true
    end
    if counters[2] and not isInt(counters[2]) then
        redis.call('HSET', meta, 'seq', 0)
        badCounter = true
    end
    if badCounter then
        note('pool-counter', meta)
    end
    local flag = redis.call('GET', closed)
    if flag then
        local readable, info = pcall(cjson.decode, flag)
        if not readable or type(info) ~= 'table' or type(info.r) ~= 'string' or type(info.n) ~= 'number' then
            redis.call('DEL', closed)
            note('closed-flag', closed)
        end
    end
end

local function skey(id)
    return base .. id
end

local function publish(kind, id)
    redis.call('PUBLISH', channel, cjson.encode({ p = pool, t = kind, s = id }))
end

-- Expired init claims and leases belong to processes that stopped renewing them (crashed).
local function purge(now)
    redis.call('ZREMRANGEBYSCORE', claims, '-inf', now)
    local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now)
    for _, id in ipairs(expired) do
        redis.call('ZREM', leases, id)
        redis.call('HDEL', owners, id)
    end
end

-- What is wrong with a session's hash (nil when nothing), and its fields: version, uses, errors,
-- checkFailures, createdAt, seq, proxyUrl. Every script that counts on a session checks it first.
local function problemOf(id)
    local key = skey(id)
    local found = typeOf(key)
    if found == 'none' then
        return 'session-missing'
    end
    if found ~= 'hash' then
        return 'session-type'
    end
    local f = redis.call('HMGET', key, 'version', 'uses', 'errors', 'checkFailures', 'createdAt', 'seq', 'proxyUrl')
    for i = 1, 5 do
        if not isInt(f[i]) then
            return 'session-fields'
        end
    end
    if (f[6] and not isInt(f[6])) or redis.call('HEXISTS', key, 'state') == 0 then
        return 'session-fields'
    end
    return nil, f
end

-- Takes a corrupt session out of the pool everywhere; the lazy fill replaces it when needed.
local function drop(id, problem)
    redis.call('ZREM', ready, id)
    redis.call('DEL', skey(id))
    redis.call('ZREM', leases, id)
    redis.call('HDEL', owners, id)
    publish('discarded', id)
    note(problem, skey(id))
end

-- Remove-if-present: only the caller that removes a session replaces it, so concurrent
-- discards in several processes replace it once.
local function remove(id, now, size, claim, leaseMs)
    if redis.call('ZREM', ready, id) == 0 then
        return 'gone'
    end
    redis.call('DEL', skey(id))
    redis.call('ZREM', leases, id)
    redis.call('HDEL', owners, id)
    publish('discarded', id)
    purge(now)
    if redis.call('EXISTS', closed) == 0 and redis.call('ZCARD', ready) + redis.call('ZCARD', claims) < size then
        redis.call('ZADD', claims, now + leaseMs, claim)
        return 'replacing'
    end
    return 'removed'
end
`;

/** A script body run after {@link PRELUDE}'s checks; its reply travels as `{ reply, dropped }`. */
function script(body: string): string {
    return `${PRELUDE}
local function main()
${body}
end
guard()
return { main(), dropped }
`;
}

/**
 * take(now, size, nextUseAt, exclusive, avoid, claim, leaseMs, owner, knownId1, knownVersion1, …)
 * → {'closed', reason, badInits} | {'init', ready} | {'wait', ready, wakeAt|''}
 *   | {'session', ready, id, version, uses, errors, checkFailures, createdAt, proxyUrl, state|''}
 */
const TAKE = script(`
local now, size, nextUseAt = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local exclusive, avoid, claim = ARGV[7] == '1', ARGV[8], ARGV[9]
local leaseMs, owner = tonumber(ARGV[10]), ARGV[11]

local stopped = redis.call('GET', closed)
if stopped then
    local info = cjson.decode(stopped)
    return { 'closed', info.r, info.n }
end
purge(now)
-- A claim or lease lasts leaseMs from its last renewal; one scored far beyond that would never
-- expire and hold its slot (or session) for good.
local horizon = '(' .. string.format('%d', now + 10 * leaseMs)
if redis.call('ZREMRANGEBYSCORE', claims, horizon, '+inf') > 0 then
    note('endless-slot', claims)
end
local endless = redis.call('ZRANGEBYSCORE', leases, horizon, '+inf')
for _, id in ipairs(endless) do
    redis.call('ZREM', leases, id)
    redis.call('HDEL', owners, id)
end
if #endless > 0 then
    note('endless-slot', leases)
end

local function knownVersion(id)
    for i = 12, #ARGV, 2 do
        if ARGV[i] == id then
            return ARGV[i + 1]
        end
    end
end

-- Due sessions: the earliest next-use time first, then the least recently assigned (times in ms
-- tie often); 'avoid' only when nothing else is due.
local function choose()
    local pick, pickScore, pickSeq, avoided
    local due = redis.call('ZRANGEBYSCORE', ready, '-inf', now, 'WITHSCORES')
    for i = 1, #due, 2 do
        local id, score = due[i], tonumber(due[i + 1])
        if pick and score > pickScore then
            break
        end
        if not exclusive or not redis.call('ZSCORE', leases, id) then
            if id == avoid then
                avoided = id
            else
                -- An unreadable order (or a key that is no hash) sorts first: the pick's checks then drop it.
                local seq = redis.pcall('HGET', skey(id), 'seq')
                seq = type(seq) == 'table' and -1 or tonumber(seq or '0') or -1
                if not pick or seq < pickSeq then
                    pick, pickScore, pickSeq = id, score, seq
                end
            end
        end
    end
    return pick or avoided
end

-- Members whose session vanished and that are not due yet would hold a place in the pool until
-- they are; looked for only when nothing is due, so the common path stays one pass.
local function sweep()
    local swept = 0
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', ready, '(' .. now, '+inf')) do
        if redis.call('EXISTS', skey(id)) == 0 then
            drop(id, 'session-missing')
            swept = swept + 1
        end
    end
    return swept
end

-- Each round either answers or drops at least one corrupt member, so it ends.
while true do
    local count = redis.call('ZCARD', ready)
    -- Lazy fill: while sessions plus inits under way are below the size, the caller opens a slot.
    if count + redis.call('ZCARD', claims) < size then
        redis.call('ZADD', claims, now + leaseMs, claim)
        return { 'init', count }
    end
    local pick = choose()
    if pick then
        local problem, f = problemOf(pick)
        if problem then
            drop(pick, problem)
        else
            local key = skey(pick)
            redis.call('ZADD', ready, nextUseAt, pick)
            if exclusive then
                redis.call('ZADD', leases, now + leaseMs, pick)
                redis.call('HSET', owners, pick, owner)
            end
            local uses = redis.call('HINCRBY', key, 'uses', 1)
            redis.call('HSET', key, 'seq', redis.call('HINCRBY', meta, 'seq', 1))
            local state = ''
            if knownVersion(pick) ~= f[1] then
                state = redis.call('HGET', key, 'state')
            end
            return { 'session', count, pick, f[1], uses, f[3], f[4], f[5], f[7] or '', state }
        end
    elseif sweep() == 0 then
        -- Nothing due: the earliest moment something may be (a next-use time, a lease or claim expiry).
        local wake
        local nextFree = redis.call('ZRANGEBYSCORE', ready, '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
        if nextFree[2] then
            wake = tonumber(nextFree[2])
        end
        for _, key in ipairs({ leases, claims }) do
            local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
            if first[2] and (not wake or tonumber(first[2]) < wake) then
                wake = tonumber(first[2])
            end
        end
        return { 'wait', count, wake and string.format('%d', wake) or '' }
    end
end
`);

/** add(claim, id, createdAt, proxyUrl, state, now, assign, nextUseAt, exclusive, leaseMs, owner) → version | nil */
const ADD = script(`
local claim, id, createdAt, proxyUrl, state = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local now, assign, nextUseAt = tonumber(ARGV[9]), ARGV[10] == '1', ARGV[11]
local exclusive, leaseMs, owner = ARGV[12] == '1', tonumber(ARGV[13]), ARGV[14]

redis.call('ZREM', claims, claim)
if redis.call('EXISTS', closed) == 1 then
    return false
end
-- A fresh id; whatever squats on its key would fail the HSET.
if typeOf(skey(id)) ~= 'none' then
    redis.call('DEL', skey(id))
end
redis.call('HSET', meta, 'badInits', 0)
redis.call('HSET', skey(id), 'version', 1, 'uses', assign and 1 or 0, 'errors', 0, 'checkFailures', 0,
    'createdAt', createdAt, 'proxyUrl', proxyUrl, 'state', state, 'seq', redis.call('HINCRBY', meta, 'seq', 1))
if assign then
    redis.call('ZADD', ready, nextUseAt, id)
    if exclusive then
        redis.call('ZADD', leases, now + leaseMs, id)
        redis.call('HSET', owners, id, owner)
        return 1
    end
else
    redis.call('ZADD', ready, createdAt, id)
end
publish('ready', id)
return 1
`);

/** initFailed(claim, maxBadInits, closeMs) → {badInits, closed 0|1} */
const INIT_FAILED = script(`
local claim, maxBadInits, closeMs = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREM', claims, claim)
local stopped = redis.call('GET', closed)
if stopped then
    return { cjson.decode(stopped).n, 1 }
end
local n = redis.call('HINCRBY', meta, 'badInits', 1)
if n >= maxBadInits then
    -- Every process stops; the flag expires so that a later crawl starts with a fresh count.
    redis.call('SET', closed, cjson.encode({ r = 'bad_session_inits', n = n }), 'PX', closeMs)
    redis.call('HSET', meta, 'badInits', 0)
    redis.call('PUBLISH', channel, cjson.encode({ p = pool, t = 'closed', r = 'bad_session_inits', n = n }))
    return { n, 1 }
end
return { n, 0 }
`);

/** abandon(claim) */
const ABANDON = script(`
redis.call('ZREM', claims, ARGV[4])
return 1
`);

/** discard(id, now, size, claim, leaseMs) → 'gone' | 'removed' | 'replacing' */
const DISCARD = script(`
return remove(ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8]))
`);

/** fail(id, field, limit, now, size, claim, leaseMs) → 'gone' | 'counted' | 'removed' | 'replacing' */
const FAIL = script(`
local id, field, limit = ARGV[4], ARGV[5], tonumber(ARGV[6])
if not redis.call('ZSCORE', ready, id) then
    return 'gone'
end
local problem = problemOf(id)
if problem then
    note(problem, skey(id))
    return remove(id, tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10]))
end
if redis.call('HINCRBY', skey(id), field, 1) >= limit then
    return remove(id, tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10]))
end
return 'counted'
`);

/** release(id, owner, lease 0|1, state|'') → new version | nil */
const RELEASE = script(`
local id, owner, lease, state = ARGV[4], ARGV[5], ARGV[6] == '1', ARGV[7]
local released = false
if lease and redis.call('HGET', owners, id) == owner then
    redis.call('HDEL', owners, id)
    redis.call('ZREM', leases, id)
    released = true
end
local version = false
if state ~= '' and redis.call('ZSCORE', ready, id) then
    local problem = problemOf(id)
    if problem then
        drop(id, problem)
    else
        redis.call('HSET', skey(id), 'state', state)
        version = redis.call('HINCRBY', skey(id), 'version', 1)
    end
end
if released then
    publish('released', id)
end
return version
`);

/** renew(until, owner, claimCount, claim…, leaseId…): extends this owner's claims and leases. */
const RENEW = script(`
local untilMs, owner, claimCount = ARGV[4], ARGV[5], tonumber(ARGV[6])
for i = 7, 6 + claimCount do
    redis.call('ZADD', claims, 'XX', untilMs, ARGV[i])
end
for i = 7 + claimCount, #ARGV do
    if redis.call('HGET', owners, ARGV[i]) == owner then
        redis.call('ZADD', leases, 'XX', untilMs, ARGV[i])
    end
end
return 1
`);

/** Script names (ioredis commands) and their Lua. */
export const SCRIPTS = {
    managedSessionsTake: TAKE,
    managedSessionsAdd: ADD,
    managedSessionsInitFailed: INIT_FAILED,
    managedSessionsAbandon: ABANDON,
    managedSessionsDiscard: DISCARD,
    managedSessionsFail: FAIL,
    managedSessionsRelease: RELEASE,
    managedSessionsRenew: RENEW,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
