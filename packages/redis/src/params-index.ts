/**
 * The shared numbering of `sessionParams` pools (`host[N]`): one atomic script, so every process
 * sharing a prefix, and every later crawl with it, pairs one params fingerprint with one N.
 */

/**
 * paramsIndex(fingerprint) with KEYS index (hash fingerprint → N) and counter (the next N)
 * → { N, dropped }, `dropped` as in `scripts.ts`: (problem, key) pairs it repaired on the way.
 * The counter only grows, and a lost or unreadable one resumes above every N in the index, so
 * no two fingerprints ever share an N.
 */
export const PARAMS_INDEX = `
local index, counter, fingerprint = KEYS[1], KEYS[2], ARGV[1]
local dropped = {}

local function note(problem, key)
    dropped[#dropped + 1] = problem
    dropped[#dropped + 1] = key
end

local function isIndex(value)
    local digits = type(value) == 'string' and string.match(value, '^(%d+)$')
    return digits and #digits <= 15 or false
end

for _, entry in ipairs({ { index, 'hash' }, { counter, 'string' } }) do
    local found = redis.call('TYPE', entry[1]).ok
    if found ~= 'none' and found ~= entry[2] then
        redis.call('DEL', entry[1])
        note('key-type', entry[1])
    end
end

local known = redis.call('HGET', index, fingerprint)
if known then
    if isIndex(known) then
        return { tonumber(known), dropped }
    end
    redis.call('HDEL', index, fingerprint)
    note('pairing', index)
end

local nextN = redis.call('GET', counter)
if not isIndex(nextN) then
    if nextN then
        note('counter', counter)
    end
    local top = -1
    for _, value in ipairs(redis.call('HVALS', index)) do
        if isIndex(value) and tonumber(value) > top then
            top = tonumber(value)
        end
    end
    redis.call('SET', counter, top + 1)
end
local n = redis.call('INCR', counter) - 1
redis.call('HSET', index, fingerprint, n)
return { n, dropped }
`;

/** What each repair was, for the one warning per host and kind. */
export const PARAMS_PROBLEMS: Record<string, (host: string) => [what: string, after: string]> = {
    'key-type': (host) => [
        'dropped a key of the wrong Redis type',
        `the sessionParams of ${host} get new pool numbers`,
    ],
    pairing: () => ['dropped an unreadable sessionParams pool number', 'those params get a new number'],
    counter: () => ['reset an unreadable sessionParams counter', 'numbering goes on above the highest number in use'],
};
