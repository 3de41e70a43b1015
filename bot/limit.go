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

	mu   sync.Mutex
	tat  map[string]time.Time
	line map[string]time.Time // per limit key: the end of its line (see Liner)
}

// NewMemoryLimiter returns an in-process limiter; now may be nil.
func NewMemoryLimiter(limits map[string]Limits, now func() time.Time) *MemoryLimiter {
	if now == nil {
		now = time.Now
	}
	return &MemoryLimiter{limits: limits, now: now, tat: map[string]time.Time{}, line: map[string]time.Time{}}
}

// Allow takes one call of key ("platform:reader") from both its limits, or
// neither, and says how long to wait when a limit is used up.
func (l *MemoryLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	ok, wait, err := l.Reserve(ctx, key, 0)
	if ok {
		wait = 0
	}
	return ok, wait, err
}

// keyedRate is one limit a call is counted against, by its key.
type keyedRate struct {
	key  string
	rate Rate
}

// ratesOf returns the limits a call of key ("platform:reader") is counted
// against: its app's and its reader's, those set.
func (l *MemoryLimiter) ratesOf(key string) []keyedRate {
	platform, appKey, readerKey := LimiterKeys(key)
	lim := l.limits[platform]
	var out []keyedRate
	for _, c := range []keyedRate{{appKey, lim.App}, {readerKey, lim.Reader}} {
		if c.rate.Count > 0 && c.rate.Per > 0 {
			out = append(out, c)
		}
	}
	return out
}

// locked runs fn with the limits a call of key is counted against and the
// time, under the lock; a call under no limit may always go.
func (l *MemoryLimiter) locked(key string, fn func(rates []keyedRate, now time.Time) (bool, time.Duration)) (bool, time.Duration, error) {
	rates := l.ratesOf(key)
	if len(rates) == 0 {
		return true, 0, nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	ok, wait := fn(rates, now)
	return ok, wait, nil
}

// Reserve implements Reserver.
func (l *MemoryLimiter) Reserve(_ context.Context, key string, maxWait time.Duration) (bool, time.Duration, error) {
	return l.locked(key, func(rates []keyedRate, now time.Time) (bool, time.Duration) {
		return l.reserve(rates, now, maxWait)
	})
}

// reserve is Reserve under the lock.
func (l *MemoryLimiter) reserve(rates []keyedRate, now time.Time, maxWait time.Duration) (bool, time.Duration) {
	type take struct {
		key  string
		next time.Time
	}
	var takes []take
	var wait time.Duration
	for _, c := range rates {
		tat := l.tat[c.key]
		if tat.Before(now) {
			tat = now
		}
		if allowAt := tat.Add(-c.rate.tolerance()); now.Before(allowAt) {
			wait = max(wait, allowAt.Sub(now))
		}
		takes = append(takes, take{c.key, tat.Add(c.rate.interval())})
	}
	if wait > maxWait {
		return false, wait
	}
	for _, t := range takes {
		l.tat[t.key] = t.next
	}
	l.forget(now)
	return true, wait
}

// Line implements Liner.
func (l *MemoryLimiter) Line(_ context.Context, key string, maxWait time.Duration, returning bool) (bool, time.Duration, error) {
	return l.locked(key, func(rates []keyedRate, now time.Time) (bool, time.Duration) {
		return l.place(rates, now, maxWait, returning)
	})
}

// place is Line under the lock.
func (l *MemoryLimiter) place(rates []keyedRate, now time.Time, maxWait time.Duration, returning bool) (bool, time.Duration) {
	type place struct {
		key      string
		at       time.Time
		interval time.Duration
	}
	var places []place
	at := now
	for _, c := range rates {
		p := l.tat[c.key].Add(-c.rate.tolerance()) // the next free slot
		if end := l.line[c.key]; !returning && end.After(p) {
			p = end
		}
		if p.Before(now) {
			p = now
		}
		places = append(places, place{c.key, p, c.rate.interval()})
		if p.After(at) {
			at = p
		}
	}
	wait := at.Sub(now)
	if wait <= maxWait || returning {
		return wait <= maxWait, wait
	}
	for _, p := range places {
		if p.at.Equal(at) { // only the lines that set the place (see Liner)
			l.line[p.key] = at.Add(p.interval)
		}
	}
	l.forget(now)
	return false, wait
}

// forget drops keys whose limits are fully recovered and lines that have
// passed, so the maps hold only keys used lately.
func (l *MemoryLimiter) forget(now time.Time) {
	if len(l.tat)+len(l.line) < 10_000 {
		return
	}
	for _, m := range []map[string]time.Time{l.tat, l.line} {
		for k, t := range m {
			if t.Before(now) {
				delete(m, k)
			}
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

// MaxLimitWait is how long a call waits in place for its limit to free a
// slot before it is handed back to the queue as rate limited. A wait this
// short is the steady pace of an app-wide limit (50/s → 20ms): waiting
// keeps the pace without a round trip through the queue's retry schedule,
// which would leave slots unused. A longer wait (one reader's 30/min)
// gives its queue slot to other work instead.
const MaxLimitWait = 250 * time.Millisecond

// Reserver is a Limiter that can count a call in a slot that frees within
// a wait the caller accepts, and say how long to wait for it: callers that
// wait for a slot each get their own, instead of all asking again at the
// moment one frees. Both limiters of cardflow are Reservers.
type Reserver interface {
	// Reserve reports ok with the wait before the call may go (0: at once),
	// or, when the wait would exceed maxWait, false with the wait and
	// nothing counted.
	Reserve(ctx context.Context, key string, maxWait time.Duration) (ok bool, wait time.Duration, err error)
}

// A Liner is a Limiter that keeps a line of the calls put off, per limit:
// a limiter alone only knows its next free slot, so every caller put off
// is told the same short wait and a backlog of thousands asks again every
// few hundred milliseconds, each refused but one. Given a place in line,
// each comes back about when its turn is due. A call under two limits
// (the app's and the reader's) goes at the later of its places, and only
// the line that set that time moves on: a reader with a long line of
// their own must not hold up the app's line, and with it every other
// reader, for slots their cards will not use until later. Both limiters of
// cardflow are Liners.
type Liner interface {
	// Line counts nothing. It reports ok when a call of key could go
	// within maxWait: for a newcomer, behind the calls already in line;
	// for a caller back for the place it was given (returning), at the
	// next free slot. Otherwise a newcomer is given the next place in
	// line and told the wait until then; a returning caller that still
	// cannot go is told the wait for the next free slot and given no new
	// place.
	Line(ctx context.Context, key string, maxWait time.Duration, returning bool) (ok bool, wait time.Duration, err error)
}

// Place asks l whether a call of key may go within maxWait (see Liner),
// counting nothing: ok when it may, or when l keeps no line. A caller
// about to do costly work before the call (read and render a card) asks
// first, and when it may not, puts the work off for the wait instead of
// doing it only to be refused; the call itself is still counted by Take.
func Place(ctx context.Context, l Limiter, key string, maxWait time.Duration, returning bool) (ok bool, wait time.Duration, err error) {
	if ln, isLiner := l.(Liner); isLiner {
		return ln.Line(ctx, key, maxWait, returning)
	}
	return true, 0, nil
}

// Take asks l for one call of key, and when the limit frees a slot within
// maxWait, waits for it; it reports false with how long to wait when the
// wait would be longer. A limiter that is not a Reserver is asked again
// after each wait.
func Take(ctx context.Context, l Limiter, key string, maxWait time.Duration) (ok bool, retryAfter time.Duration, err error) {
	for {
		var wait time.Duration
		if r, isReserver := l.(Reserver); isReserver {
			ok, wait, err = r.Reserve(ctx, key, maxWait)
			if err != nil || !ok || wait <= 0 {
				return ok, wait, err
			}
		} else {
			ok, wait, err = l.Allow(ctx, key)
			if err != nil || ok || wait > maxWait {
				return ok, wait, err
			}
		}
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return false, wait, ctx.Err()
		case <-t.C:
		}
		if ok {
			return true, 0, nil // the slot waited for is this call's
		}
	}
}
