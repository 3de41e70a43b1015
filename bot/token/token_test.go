package token_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot/token"
)

func TestFiftyConcurrentCallersFetchOnce(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	s := token.New(func(ctx context.Context) (string, time.Duration, error) {
		if calls.Add(1) == 1 {
			close(started)
		}
		<-release
		return "t-1", 2 * time.Hour, nil
	}, token.Options{})
	var wg sync.WaitGroup
	got := make([]string, 50)
	for i := range 50 {
		wg.Go(func() {
			tok, err := s.Token(context.Background())
			require.NoError(t, err)
			got[i] = tok
		})
	}
	// Callers that come while the fetch runs join it; later ones find
	// the token held. Either way there is one fetch.
	<-started
	close(release)
	wg.Wait()
	require.Equal(t, int32(1), calls.Load())
	for _, tok := range got {
		require.Equal(t, "t-1", tok)
	}
}

func TestRefreshedEarlyAndAfterInvalidate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := 0
		s := token.New(func(ctx context.Context) (string, time.Duration, error) {
			n++
			return []string{"a", "b", "c"}[n-1], 2 * time.Hour, nil
		}, token.Options{Early: 10 * time.Minute})
		ctx := context.Background()
		tok, err := s.Token(ctx)
		require.NoError(t, err)
		require.Equal(t, "a", tok)
		time.Sleep(109 * time.Minute)
		tok, _ = s.Token(ctx)
		require.Equal(t, "a", tok, "still well before expiry")
		time.Sleep(2 * time.Minute)
		tok, _ = s.Token(ctx)
		require.Equal(t, "b", tok, "replaced 10 minutes before expiry")
		s.Invalidate("a") // an old token: ignored
		tok, _ = s.Token(ctx)
		require.Equal(t, "b", tok)
		s.Invalidate("b")
		tok, _ = s.Token(ctx)
		require.Equal(t, "c", tok)
		require.Equal(t, 3, s.Fetches())
	})
}

func TestFetchErrorIsNotCached(t *testing.T) {
	t.Parallel()
	fail := true
	s := token.New(func(ctx context.Context) (string, time.Duration, error) {
		if fail {
			return "", 0, errors.New("bad secret")
		}
		return "ok", time.Hour, nil
	}, token.Options{})
	_, err := s.Token(context.Background())
	require.EqualError(t, err, "bad secret")
	fail = false
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "ok", tok)
}
