package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Rate is a limit of Count calls per Per, with bursts of up to Burst calls
// (at least 1) when the limit was not used for a while.
type Rate struct {
	Count int
	Per   time.Duration
	Burst int
}

// interval is the time one call uses up of the limit.
func (r Rate) interval() time.Duration { return r.Per / time.Duration(r.Count) }

// tolerance is how far ahead of the steady pace a burst may run.
func (r Rate) tolerance() time.Duration { return r.interval() * time.Duration(max(r.Burst, 1)-1) }

// Limits are one platform's limits: for the whole app, and per reader or
// chat. A zero Rate is no limit.
type Limits struct {
	App    Rate
	Reader Rate
}

// LimiterKeys splits a pipeline limiter key "platform:reader" into the
// keys of the two limits it is counted against.
func LimiterKeys(key string) (platform, app, reader string) {
	platform, _, _ = strings.Cut(key, ":")
	return platform, "app:" + platform, "to:" + key
}

// MemoryLimiter keeps the limits in this process: for the embedded default,
// where one process is the whole deployment. Several server instances share
// storage/redis's limiter instead. It is the generic cell rate algorithm
// (GCRA): one "theoretical arrival time" per key, so the limit holds
// exactly and a refusal says how long to wait.
type MemoryLimiter struct {
	limits map[string]Limits // by platform
	now    func() time.Time

	mu  sync.Mutex
	tat map[string]time.Time
}

// NewMemoryLimiter returns an in-process limiter; now may be nil.
func NewMemoryLimiter(limits map[string]Limits, now func() time.Time) *MemoryLimiter {
	if now == nil {
		now = time.Now
	}
	return &MemoryLimiter{limits: limits, now: now, tat: map[string]time.Time{}}
}

// Allow takes one call of key ("platform:reader") from both its limits, or
// neither, and says how long to wait when a limit is used up.
func (l *MemoryLimiter) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	platform, appKey, readerKey := LimiterKeys(key)
	lim, ok := l.limits[platform]
	if !ok {
		return true, 0, nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	type take struct {
		key  string
		rate Rate
		next time.Time
	}
	var takes []take
	var wait time.Duration
	for _, c := range []struct {
		key  string
		rate Rate
	}{{appKey, lim.App}, {readerKey, lim.Reader}} {
		if c.rate.Count <= 0 || c.rate.Per <= 0 {
			continue
		}
		tat := l.tat[c.key]
		if tat.Before(now) {
			tat = now
		}
		if allowAt := tat.Add(-c.rate.tolerance()); now.Before(allowAt) {
			wait = max(wait, allowAt.Sub(now))
			continue
		}
		takes = append(takes, take{c.key, c.rate, tat.Add(c.rate.interval())})
	}
	if wait > 0 {
		return false, wait, nil
	}
	for _, t := range takes {
		l.tat[t.key] = t.next
	}
	l.forget(now)
	return true, 0, nil
}

// forget drops keys whose limits are fully recovered, so the map holds only
// keys used lately.
func (l *MemoryLimiter) forget(now time.Time) {
	if len(l.tat) < 10_000 {
		return
	}
	for k, tat := range l.tat {
		if tat.Before(now) {
			delete(l.tat, k)
		}
	}
}

// Validate checks limits: counts and periods not negative, a count with a
// period.
func (r Rate) Validate() error {
	if r.Count < 0 || r.Per < 0 || r.Burst < 0 || (r.Count > 0) != (r.Per > 0) {
		return fmt.Errorf("rate %d per %s (burst %d): count and period go together and are not negative", r.Count, r.Per, r.Burst)
	}
	return nil
}
