package apitoken

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// TouchEvery is how often a token's LastUsedAt is written at most: a list
// needs the day a token was last used, not a write per request.
const TouchEvery = time.Minute

// ErrInvalid is what Verify returns for a token that is malformed,
// unknown, revoked or expired alike, so an answer does not tell a caller
// which ids exist or which tokens once worked.
var ErrInvalid = errors.New("apitoken: invalid token")

// Verifier checks presented tokens against a Store. It is safe for
// concurrent use.
type Verifier struct {
	store Store
	now   func() time.Time
	log   *slog.Logger

	mu sync.Mutex
	// touched is when this process last wrote each token's LastUsedAt,
	// so it asks the store at most once per TouchEvery and token.
	touched map[string]time.Time
}

// NewVerifier returns a Verifier on store; now is its clock (nil means
// time.Now) and log (nil discards) receives the failures to record a use.
func NewVerifier(store Store, now func() time.Time, log *slog.Logger) *Verifier {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Verifier{store: store, now: now, log: log, touched: map[string]time.Time{}}
}

// Verify returns the stored token plain names when its secret is right and
// the token is neither revoked nor expired; ErrInvalid otherwise. Any other
// error is the store's (flows.ErrUnavailable among them): the token could
// not be checked. An accepted token's use is recorded (see TouchEvery).
func (v *Verifier) Verify(ctx context.Context, plain string) (Token, error) {
	id, hash, ok := Parse(plain)
	if !ok {
		return Token{}, ErrInvalid
	}
	t, err := v.store.APIToken(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Token{}, ErrInvalid
	}
	if err != nil {
		return Token{}, fmt.Errorf("apitoken: verify %s: %w", id, err)
	}
	now := v.now()
	// Compared in constant time, so the answer's timing does not tell how
	// much of a guessed hash was right.
	if subtle.ConstantTimeCompare(hash[:], t.Hash) != 1 || t.State(now) != "active" {
		return Token{}, ErrInvalid
	}
	v.touch(ctx, id, now)
	return t, nil
}

// touch records a use of id at now, unless this process did less than
// TouchEvery ago. The store checks the interval again, for the other
// instances' writes. A failure is logged, not returned: the request itself
// is allowed.
func (v *Verifier) touch(ctx context.Context, id string, now time.Time) {
	v.mu.Lock()
	last, seen := v.touched[id]
	due := !seen || now.Sub(last) >= TouchEvery || now.Before(last)
	if due {
		v.touched[id] = now
	}
	v.mu.Unlock()
	if !due {
		return
	}
	if _, err := v.store.TouchAPIToken(ctx, id, now, TouchEvery); err != nil {
		v.log.Warn("could not record a token's use", "token", id, "err", err)
	}
}
