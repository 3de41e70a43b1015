package console

import (
	"sync"
	"time"
)

// Log-in throttling: after freeAttempts failures in a row under one key
// (a user name, a client IP), each further attempt must wait, twice as
// long each time, up to maxWait. A success clears the user name's count.
const (
	freeAttempts = 5
	firstWait    = time.Second
	maxWait      = 15 * time.Minute
	// forgetAfter drops a key that failed last this long ago.
	forgetAfter = time.Hour
	// maxKeys bounds the keys remembered, so guessing many user names
	// cannot fill the memory; when full, keys not yet throttled are
	// dropped first (the address's own key still throttles the guesser).
	maxKeys = 10000
)

// limiter counts failed log-ins per key. It lives in one process: with
// several instances behind a load balancer each throttles what it sees,
// which multiplies the attempts an attacker gets by the instance count,
// still a few per minute against bcrypt-hashed passwords.
type limiter struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*strikes
}

type strikes struct {
	n    int
	last time.Time
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, m: map[string]*strikes{}}
}

// wait returns how long the caller must wait before trying any of keys
// again; 0 means now.
func (l *limiter) wait(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var longest time.Duration
	for _, k := range keys {
		s := l.m[k]
		if s == nil || s.n < freeAttempts {
			continue
		}
		d := firstWait << min(s.n-freeAttempts, 20)
		d = min(d, maxWait)
		if left := s.last.Add(d).Sub(now); left > longest {
			longest = left
		}
	}
	return longest
}

// fail counts a failed attempt under every key.
func (l *limiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for k, s := range l.m {
		if now.Sub(s.last) > forgetAfter || (len(l.m) >= maxKeys && s.n < freeAttempts) {
			delete(l.m, k)
		}
	}
	for _, k := range keys {
		s := l.m[k]
		if s == nil {
			s = &strikes{}
			l.m[k] = s
		}
		s.n++
		s.last = now
	}
}

// clear forgets key's failures.
func (l *limiter) clear(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, key)
}
