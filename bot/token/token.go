// Package token keeps a chat platform's access token: fetched once however
// many sends ask at the same moment, kept until shortly before it expires,
// and dropped when the platform says it is no longer valid, so the next
// call fetches a fresh one.
package token

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Fetch gets a new token from the platform and says how long it lives.
type Fetch func(ctx context.Context) (token string, lifetime time.Duration, err error)

// Source hands out a platform's access token. It is safe for concurrent
// use: concurrent callers of Token share one Fetch.
type Source struct {
	fetch Fetch
	early time.Duration
	now   func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time

	group singleflight.Group
	// fetches counts calls of fetch, for tests and metrics.
	fetches int
}

// Options tune a Source.
type Options struct {
	// Early is how long before its expiry a token is replaced; default
	// 5 minutes, at most half the token's lifetime.
	Early time.Duration
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// New returns a Source that gets tokens with fetch.
func New(fetch Fetch, o Options) *Source {
	if o.Early <= 0 {
		o.Early = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Source{fetch: fetch, early: o.Early, now: o.Now}
}

// Token returns a token that is valid for a while yet, fetching one when
// none is held or the held one is about to expire.
func (s *Source) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	tok, exp := s.token, s.expires
	s.mu.Unlock()
	if tok != "" && s.now().Before(exp) {
		return tok, nil
	}
	// The fetch runs for the first caller's context; a caller that gives
	// up early leaves it to finish for the others.
	ch := s.group.DoChan("token", func() (any, error) {
		return s.refresh(context.WithoutCancel(ctx))
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (s *Source) refresh(ctx context.Context) (string, error) {
	s.mu.Lock()
	if s.token != "" && s.now().Before(s.expires) {
		tok := s.token // fetched by a flight that ended just before this one began
		s.mu.Unlock()
		return tok, nil
	}
	s.fetches++
	s.mu.Unlock()
	tok, life, err := s.fetch(ctx)
	if err != nil {
		return "", err
	}
	if tok == "" || life <= 0 {
		return "", errors.New("token: the platform returned an empty token or no lifetime")
	}
	early := min(s.early, life/2)
	s.mu.Lock()
	s.token, s.expires = tok, s.now().Add(life-early)
	s.mu.Unlock()
	return tok, nil
}

// Invalidate drops tok if it is the token held, after the platform said it
// is invalid or expired; the next Token fetches a new one. A token already
// replaced by another caller is left alone.
func (s *Source) Invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == tok {
		s.token, s.expires = "", time.Time{}
	}
}

// Fetches says how many times the platform was asked for a token.
func (s *Source) Fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}
