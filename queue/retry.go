package queue

import (
	"crypto/rand"
	"errors"
	"math"
	mrand "math/rand/v2"
	"time"
)

// ErrClosed is returned by a queue's methods once Close has been called.
var ErrClosed = errors.New("queue: closed")

// RetryDelay returns how long to wait before retrying a message whose
// attempt-th delivery failed: o.BackoffBase doubled per attempt and capped at
// o.BackoffMax, then "equal-jittered" to a random point in its upper half, so
// a burst of failures does not come back in lockstep while every delay stays
// at least half the nominal one (consumers rely on that lower bound to decide
// how often to look for due retries).
func RetryDelay(o ConsumeOptions, attempt int) time.Duration {
	o = o.WithDefaults()
	d := o.BackoffBase
	for i := 1; i < attempt && d < o.BackoffMax; i++ {
		if d > o.BackoffMax/2 {
			d = o.BackoffMax
			break
		}
		d *= 2
	}
	d = min(d, o.BackoffMax)
	half := d / 2
	return half + mrand.N(d-half+1)
}

// maxRateLimitJitter caps what RateLimitDelay adds to a wait.
const maxRateLimitJitter = 100 * time.Millisecond

// RateLimitDelay returns how long to put off a message whose handler
// returned RateLimited(err, after): after plus up to a tenth of it more, at
// most 100 ms, so that messages limited together (a burst to one person, a
// platform saying "in 2s" to all of them) do not all come back at the same
// instant. The cap keeps a wait that is a message's own place in a line
// (see bot.Place) close to that place, however far off it is. It is never
// less than after. When after is not positive (the platform named no wait)
// it is RetryDelay(o, 1).
func RateLimitDelay(o ConsumeOptions, after time.Duration) time.Duration {
	if after <= 0 {
		return RetryDelay(o, 1)
	}
	jitter := mrand.N(min(after/10, maxRateLimitJitter) + 1)
	if after > math.MaxInt64-jitter {
		return math.MaxInt64
	}
	return after + jitter
}

// NewID returns a random message ID (26 base32 characters, 130 bits) for a
// message published without one.
func NewID() string { return rand.Text() }
