package redis

import goredis "github.com/redis/go-redis/v9"

// The scripts make each state change of a message atomic: a message is never
// both acknowledged and lost on its way to the retry set or the dead letters,
// whichever instant Redis or the process goes away.

// luaNetstrings builds and splits the netstring layout of codec.go.
const luaNetstrings = `
local function ns(s) s = tostring(s) return #s .. ':' .. s .. ',' end
local function split(s)
  local out, pos = {}, 1
  while pos <= #s do
    local colon = string.find(s, ':', pos, true)
    local n = tonumber(string.sub(s, pos, colon - 1))
    table.insert(out, string.sub(s, colon + 1, colon + n))
    pos = colon + n + 2
  end
  return out
end
local function fields(flat)
  local v = {}
  for i = 1, #flat, 2 do v[flat[i]] = flat[i + 1] end
  return v
end
`

// settleScript records handler results for a batch of delivered entries.
// KEYS: stream, delayed, dead, then the dedupe mark key of each entry.
// ARGV: group, dedupe window ms, dead-letter cap, then four per entry:
// entry id, action, x, y — retry: x due ms, y member; dead: x element.
// done acknowledges, deletes and marks the message handled; drop
// acknowledges a copy of a handled message; release hands an entry fetched
// by a stopping consumer back to the stream as it was. A retry, dead letter
// or release happens only if this delivery still owned the entry (XACK = 1):
// one reclaimed meanwhile is owned by its redelivery. That also makes the
// batch safe to send again after an error part-way through.
var settleScript = goredis.NewScript(`
local stream, group = KEYS[1], ARGV[1]
for i = 1, #KEYS - 3 do
  local a = 3 + (i - 1) * 4
  local entry, action, x, y = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local acked = redis.call('XACK', stream, group, entry)
  if action == 'done' or action == 'drop' then
    redis.call('XDEL', stream, entry)
    if action == 'done' then redis.call('SET', KEYS[3 + i], '1', 'PX', ARGV[2], 'NX') end
  elseif acked == 1 then
    if action == 'release' then
      local e = redis.call('XRANGE', stream, entry, entry)
      redis.call('XDEL', stream, entry)
      if #e == 1 then redis.call('XADD', stream, '*', unpack(e[1][2])) end
    elseif action == 'retry' then
      redis.call('XDEL', stream, entry)
      redis.call('ZADD', KEYS[2], x, y)
    elseif action == 'dead' then
      redis.call('XDEL', stream, entry)
      redis.call('LPUSH', KEYS[3], x)
      redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)
    else
      return redis.error_reply('unknown settle action ' .. action)
    end
  end
end
return #KEYS - 3
`)

// claimScript reads up to count new entries for a consumer without
// blocking and acknowledges at once those whose message was already handled
// (its dedupe mark exists), so a busy consumer needs one round trip per
// batch. The marks share the topic's hash tag, so they live in the
// stream's cluster slot although they are not declared in KEYS.
// KEYS: stream. ARGV: group, consumer, count, mark key prefix.
// Returns {entries read, {id, {field, value, ...}}...} for the entries to handle.
var claimScript = goredis.NewScript(luaNetstrings + `
local res = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', tonumber(ARGV[3]), 'STREAMS', KEYS[1], '>')
if not res then return {0} end
local entries = res[1][2]
local out = {#entries}
for _, e in ipairs(entries) do
  local id = fields(e[2])['i']
  if id and redis.call('EXISTS', ARGV[4] .. id) == 1 then
    redis.call('XACK', KEYS[1], ARGV[1], e[1])
    redis.call('XDEL', KEYS[1], e[1])
  else
    table.insert(out, e)
  end
end
return out
`)

// promoteScript moves retries that fell due back to the stream, with their
// rate-limited count when they have one (members of five parts have none).
// KEYS: delayed, stream. ARGV: now ms, limit.
// Returns {moved, score of the next retry or -1}.
var promoteScript = goredis.NewScript(luaNetstrings + `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  local f = split(member)
  local entry = {'i', f[2], 'k', f[3], 'p', f[4], 'a', f[5]}
  if f[6] and f[6] ~= '0' then
    table.insert(entry, 'r')
    table.insert(entry, f[6])
  end
  redis.call('XADD', KEYS[2], '*', unpack(entry))
  redis.call('ZREM', KEYS[1], member)
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {#due, nxt[2] or '-1'}
`)

// reclaimScript redelivers entries left unacknowledged longer than the
// visibility timeout by re-adding them with one more attempt (and the
// rate-limited count they had), or
// dead-letters them once they had MaxAttempts; then it forgets consumers
// that hold nothing and have not been seen for a long time, so the group
// does not grow with every crashed process.
// KEYS: stream, dead. ARGV: group, min idle ms, limit, max attempts, now ms,
// dead-letter cap, error text, stale consumer idle ms.
// Returns {redelivered, dead-lettered}.
var reclaimScript = goredis.NewScript(luaNetstrings + `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', tonumber(ARGV[2]), '-', '+', tonumber(ARGV[3]))
local moved, buried = 0, 0
for _, p in ipairs(pending) do
  local id = p[1]
  local e = redis.call('XRANGE', KEYS[1], id, id)
  redis.call('XACK', KEYS[1], ARGV[1], id)
  redis.call('XDEL', KEYS[1], id)
  if #e == 1 then
    local v = fields(e[1][2])
    local attempt = tonumber(v['a']) or 1
    if attempt >= tonumber(ARGV[4]) then
      redis.call('LPUSH', KEYS[2], ns(v['i'] or '') .. ns(v['k'] or '') .. ns(v['p'] or '') .. ns(attempt) .. ns(ARGV[7]) .. ns(ARGV[5]))
      redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[6]) - 1)
      buried = buried + 1
    else
      local entry = {'i', v['i'] or '', 'k', v['k'] or '', 'p', v['p'] or '', 'a', attempt + 1}
      if v['r'] then
        table.insert(entry, 'r')
        table.insert(entry, v['r'])
      end
      redis.call('XADD', KEYS[1], '*', unpack(entry))
      moved = moved + 1
    end
  end
end
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = fields(c)
  if info['pending'] == 0 and info['idle'] > tonumber(ARGV[8]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
  end
end
return {moved, buried}
`)

// replayScript moves one dead letter back to the stream as a first attempt,
// if it is still there (another Replay may have taken it).
// KEYS: dead, stream. ARGV: element, id, key, payload.
var replayScript = goredis.NewScript(`
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'i', ARGV[2], 'k', ARGV[3], 'p', ARGV[4], 'a', 1)
return 1
`)

// leaveScript removes a stopping consumer from the group unless it still
// holds entries, which must stay pending to be reclaimed.
// KEYS: stream. ARGV: group, consumer.
var leaveScript = goredis.NewScript(`
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return 0 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
`)

// pruneDeadScript deletes dead letters from the old end of the list (LPUSH
// adds at the head) while they died before the cutoff, at most limit per
// call, so one call never holds Redis for long. It stops at the first
// letter not old enough, or whose death time it cannot read. field skips
// to the k-th netstring by its length prefixes, copying only that one,
// not the payload split would.
// KEYS: dead. ARGV: cutoff ms (a letter goes if it died before it), limit.
// Returns how many it deleted.
var pruneDeadScript = goredis.NewScript(`
local function field(s, k)
  local pos = 1
  for i = 1, k do
    local colon = string.find(s, ':', pos, true)
    local n = colon and tonumber(string.sub(s, pos, colon - 1))
    if not n then return nil end
    if i == k then return string.sub(s, colon + 1, colon + n) end
    pos = colon + n + 2
  end
end
local cutoff, limit, n = tonumber(ARGV[1]), tonumber(ARGV[2]), 0
while n < limit do
  local elem = redis.call('LINDEX', KEYS[1], -1)
  if not elem then break end
  local died = tonumber(field(elem, 6))
  if not died or died >= cutoff then break end
  redis.call('RPOP', KEYS[1])
  n = n + 1
end
return n
`)
