// The Lua scripts that change a room's log in Redis. A script runs atomically, so two nodes appending to
// one room at once get disjoint, consecutive positions, and a trim never interleaves with an append.
// Consecutive positions let a follower see a gap (a missed announcement) without asking Redis.

/**
 * Trims the log through a compaction's position (when ARGV[4] > 0), then appends ARGV[5..] at the next
 * positions and announces them on the room's log channel: `<first>:<writer>:<ms>:` then each update as a
 * 4-byte big-endian length and its bytes. Returns the first position, or 0 for a trim alone.
 * A room whose counter is missing (never written since Redis started empty, or deleted) answers NOSEQ:
 * the caller seeds the counter from PostgreSQL's snapshot position first, so positions never go back
 * below what a snapshot covers.
 * KEYS: counter, stream, info. ARGV: channel, ms now, writer, trim through, updates...
 */
export const APPEND_SCRIPT = `
local trim = tonumber(ARGV[4])
if trim > 0 then
  local covered = redis.call('XRANGE', KEYS[2], '-', trim .. '-0')
  if #covered > 0 then
    local bytes = 0
    for _, entry in ipairs(covered) do
      local fields = entry[2]
      for i = 1, #fields, 2 do
        if fields[i] == 'u' then bytes = bytes + #fields[i + 1] end
      end
    end
    redis.call('XTRIM', KEYS[2], 'MINID', (trim + 1) .. '-0')
    redis.call('HINCRBY', KEYS[3], 'lb', -bytes)
  end
end
local count = #ARGV - 4
if count == 0 then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then return {err = 'NOSEQ the room has no position counter'} end
local last = redis.call('INCRBY', KEYS[1], count)
local first = last - count + 1
local bytes = 0
local parts = {first, ':', ARGV[3], ':', ARGV[2], ':'}
for i = 1, count do
  local update = ARGV[4 + i]
  redis.call('XADD', KEYS[2], (first + i - 1) .. '-0', 'n', ARGV[3], 'u', update)
  bytes = bytes + #update
  parts[#parts + 1] = struct.pack('>I4', #update)
  parts[#parts + 1] = update
end
redis.call('HINCRBY', KEYS[3], 'lb', bytes)
redis.call('HSET', KEYS[3], 'lc', ARGV[2])
redis.call('PUBLISH', ARGV[1], table.concat(parts))
return first
`

/** Takes or renews the compaction lease when free or already ours. KEYS: lease. ARGV: node, ms. */
export const ACQUIRE_LEASE_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`

/** Gives the lease back if it is still ours. KEYS: lease. ARGV: node. */
export const RELEASE_LEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`
