package bot

import (
	"context"
	"sync"
)

// cardLocks serialises, within one process, the deliveries of each card.
// The queue runs several handlers at once, and the intents of one commit
// arrive together; each refreshes every older copy of the instance's
// cards. Unserialised, each would read a copy's record before any had
// recorded the new state, render it and update it again: one platform
// call per intent instead of one in all, each counted against the
// platform's per-reader limit. Held from reading the card's record to
// recording its new state, the lock lets the first delivery update the
// card and the others find it done. It also brings up to date a card that
// was on its way while a commit landed: the commit's intent for that card
// (a task closed) waits for the send, then finds the card recorded and
// updates it, rather than finding no card and leaving the old state shown.
// Across server instances the store's PutCard still keeps every card from
// going back to an older state; a duplicate update between two instances
// remains possible.
type cardLocks struct {
	mu   sync.Mutex
	held map[CardKey]*cardLock
}

type cardLock struct {
	token chan struct{} // holds one value while the card is locked
	users int           // holders and waiters; at 0 the entry is dropped
}

// lock waits until no other delivery of this process holds k, or ctx ends,
// and returns the function that releases it.
func (l *cardLocks) lock(ctx context.Context, k CardKey) (unlock func(), err error) {
	l.mu.Lock()
	if l.held == nil {
		l.held = map[CardKey]*cardLock{}
	}
	c := l.held[k]
	if c == nil {
		c = &cardLock{token: make(chan struct{}, 1)}
		l.held[k] = c
	}
	c.users++
	l.mu.Unlock()
	leave := func() {
		l.mu.Lock()
		if c.users--; c.users == 0 {
			delete(l.held, k)
		}
		l.mu.Unlock()
	}
	select {
	case c.token <- struct{}{}:
		return func() { <-c.token; leave() }, nil
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
}

// CardLocks are the per-card locks of one process, shared by the pipeline
// and the inbound actions: a click whose answer replaces its card holds the
// card's lock from the decision until the answered state is recorded, so
// the pipeline's delivery of that decision to the same card waits, then
// finds it shown and sends nothing.
type CardLocks struct{ l cardLocks }

// NewCardLocks returns an empty set of card locks.
func NewCardLocks() *CardLocks { return &CardLocks{} }
