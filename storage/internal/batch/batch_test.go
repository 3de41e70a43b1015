package batch_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/storage/internal/batch"
)

type req struct {
	ctx  context.Context
	n    int
	done chan int
}

// TestEveryRequestIsHandledOnce: requests sent while the worker is busy
// wait for it and go in groups of at most max; each is answered once.
func TestEveryRequestIsHandledOnce(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var mu sync.Mutex
	var groups [][]int
	b := batch.New(1, 8, time.Minute, func(_ context.Context, g []*req) {
		if len(groups) == 0 {
			<-release // hold the first group while the others queue
		}
		mu.Lock()
		ns := make([]int, len(g))
		for i, r := range g {
			ns[i] = r.n
		}
		groups = append(groups, ns)
		mu.Unlock()
		for _, r := range g {
			r.done <- r.n * 10
		}
	})
	defer b.Close()

	first := &req{ctx: t.Context(), n: 0, done: make(chan int, 1)}
	sent, err := b.Send(t.Context(), first)
	require.NoError(t, err)
	require.True(t, sent)
	// The worker holds the first group; the next eight wait in Send.
	var wg sync.WaitGroup
	for i := 1; i <= 8; i++ {
		wg.Go(func() {
			r := &req{ctx: t.Context(), n: i, done: make(chan int, 1)}
			sent, err := b.Send(t.Context(), r)
			require.NoError(t, err)
			require.True(t, sent)
			require.Equal(t, i*10, <-r.done)
		})
	}
	close(release)
	require.Equal(t, 0, <-first.done)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	seen := map[int]bool{}
	for _, g := range groups {
		require.LessOrEqual(t, len(g), 8)
		for _, n := range g {
			require.False(t, seen[n], "request %d handled twice", n)
			seen[n] = true
		}
	}
	require.Len(t, seen, 9)
}

func TestSendAfterCloseReportsFalse(t *testing.T) {
	t.Parallel()
	b := batch.New(2, 4, time.Minute, func(_ context.Context, g []*req) {
		for _, r := range g {
			r.done <- r.n
		}
	})
	r := &req{ctx: t.Context(), n: 7, done: make(chan int, 1)}
	sent, err := b.Send(t.Context(), r)
	require.NoError(t, err)
	require.True(t, sent)
	require.Equal(t, 7, <-r.done)
	b.Close()
	sent, err = b.Send(t.Context(), &req{ctx: t.Context(), done: make(chan int, 1)})
	require.NoError(t, err)
	require.False(t, sent, "a closed batches takes nothing")

	never := batch.New(1, 1, time.Minute, func(context.Context, []*req) {})
	never.Close()
	sent, err = never.Send(t.Context(), &req{})
	require.NoError(t, err)
	require.False(t, sent, "closed before its first use")
}

func TestStillWantedAnswersTheGone(t *testing.T) {
	t.Parallel()
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	group := []*req{{ctx: t.Context(), n: 1}, {ctx: gone, n: 2}, {ctx: t.Context(), n: 3}}
	var answered []int
	live := batch.StillWanted(group, func(r *req) context.Context { return r.ctx },
		func(r *req, err error) {
			require.True(t, errors.Is(err, context.Canceled))
			answered = append(answered, r.n)
		})
	require.Equal(t, []int{2}, answered)
	require.Len(t, live, 2)
	require.Equal(t, 1, live[0].n)
	require.Equal(t, 3, live[1].n)
}
