package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"cardflow/bot"
)

// Limiter is bot's rate limiter shared by every server instance: the same
// generic cell rate algorithm as bot.MemoryLimiter, with each key's
// theoretical arrival time in Redis and Redis's own clock, so instances
// with skewed clocks still share one limit. A call is counted against its
// app and reader limits in one script: both, or neither.
type Limiter struct {
	client goredis.UniversalClient
	prefix string
	limits map[string]bot.Limits
}

// NewLimiter returns a limiter over client; keys start with prefix
// (default "cardflow:rl:").
func NewLimiter(client goredis.UniversalClient, prefix string, limits map[string]bot.Limits) *Limiter {
	if prefix == "" {
		prefix = "cardflow:rl:"
	}
	return &Limiter{client: client, prefix: prefix, limits: limits}
}

// gcra takes one call from up to two limits. KEYS are the limits' keys;
// ARGV holds, per key, the emission interval and the burst tolerance in
// microseconds (an interval of 0 skips the key), then the longest wait
// the caller accepts. It returns {1, wait}: the call is counted and may go
// after wait microseconds (0: at once), or {0, wait}: refused, counted
// nowhere, come back after wait.
var gcra = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local max_wait = tonumber(ARGV[5] or 0)
local next = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2*i-1])
  local tolerance = tonumber(ARGV[2*i])
  if interval > 0 then
    local tat = tonumber(redis.call('GET', key) or now)
    if tat < now then tat = now end
    local allow_at = tat - tolerance
    if now < allow_at and allow_at - now > wait then wait = allow_at - now end
    next[i] = tat + interval
  end
end
if wait > max_wait then return {0, wait} end
for i, key in ipairs(KEYS) do
  if next[i] then
    redis.call('SET', key, next[i], 'PX', math.floor((next[i] - now) / 1000) + 1)
  end
end
return {1, wait}
`)

// line gives a call a place in up to two limits' lines (see bot.Liner),
// counting nothing. KEYS are the limits' keys, then their lines' keys;
// ARGV as gcra's, then 1 for a caller back for its place (0 for a
// newcomer). It returns {1, wait}: the call may go after wait
// microseconds, or {0, wait}: come back after wait (a newcomer now holds
// that place, in the lines that set it: see bot.Liner).
var line = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local max_wait = tonumber(ARGV[5])
local returning = ARGV[6] == '1'
local at = now
local place = {}
for i = 1, 2 do
  local interval = tonumber(ARGV[2*i-1])
  if interval > 0 then
    local p = tonumber(redis.call('GET', KEYS[i]) or 0) - tonumber(ARGV[2*i])
    if not returning then
      local finish = tonumber(redis.call('GET', KEYS[i+2]) or 0)
      if finish > p then p = finish end
    end
    if p < now then p = now end
    place[i] = p
    if p > at then at = p end
  end
end
local wait = at - now
if wait <= max_wait then return {1, wait} end
if returning then return {0, wait} end
for i = 1, 2 do
  if place[i] == at then
    local finish = at + tonumber(ARGV[2*i-1])
    redis.call('SET', KEYS[i+2], finish, 'PX', math.floor((finish - now) / 1000) + 1)
  end
end
return {0, wait}
`)

// Line implements bot.Liner.
func (l *Limiter) Line(ctx context.Context, key string, maxWait time.Duration, returning bool) (bool, time.Duration, error) {
	back := 0
	if returning {
		back = 1
	}
	return l.run(ctx, line, key, maxWait, true, back)
}

// run calls script (gcra or line) for one call of key under its platform's
// limits: KEYS the app's and the reader's limit (and their lines, with
// lines), ARGV their intervals and tolerances, maxWait, then extra.
func (l *Limiter) run(ctx context.Context, script *goredis.Script, key string, maxWait time.Duration, lines bool, extra ...any) (bool, time.Duration, error) {
	platform, appKey, readerKey := bot.LimiterKeys(key)
	lim, ok := l.limits[platform]
	if !ok {
		return true, 0, nil
	}
	app, reader := l.keyOf(platform, appKey), l.keyOf(platform, readerKey)
	keys := []string{app, reader}
	if lines {
		keys = append(keys, app+":line", reader+":line")
	}
	args := append([]any{micros(lim.App, true), micros(lim.App, false), micros(lim.Reader, true), micros(lim.Reader, false),
		maxWait.Microseconds()}, extra...)
	res, err := script.Run(ctx, l.client, keys, args...).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("redis: rate limit %s: %w", key, err)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}

// keyOf is the Redis key of one limit of platform. The keys share the
// platform's hash tag, so a script over them runs in one cluster slot.
func (l *Limiter) keyOf(platform, limit string) string {
	return l.prefix + "{" + platform + "}:" + limit
}

// Allow implements bot.Limiter.
func (l *Limiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	ok, wait, err := l.Reserve(ctx, key, 0)
	if ok {
		wait = 0
	}
	return ok, wait, err
}

// Reserve implements bot.Reserver: a slot within maxWait is counted now
// and its wait returned, so callers waiting for one slot each get their
// own instead of all retrying at the same moment.
func (l *Limiter) Reserve(ctx context.Context, key string, maxWait time.Duration) (bool, time.Duration, error) {
	return l.run(ctx, gcra, key, maxWait, false)
}

// micros is a rate's emission interval (or burst tolerance) in
// microseconds; 0 for no limit.
func micros(r bot.Rate, interval bool) int64 {
	if r.Count <= 0 || r.Per <= 0 {
		return 0
	}
	step := r.Per / time.Duration(r.Count)
	if interval {
		return step.Microseconds()
	}
	return (step * time.Duration(max(r.Burst, 1)-1)).Microseconds()
}
