package queue_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/internal/testclock"
	"cardflow/queue"
	"cardflow/queue/queuetest"
)

func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, func(t *testing.T) queue.Queue {
		q := queue.NewMemory(queue.MemoryOptions{})
		t.Cleanup(func() { _ = q.Close() })
		return q
	})
}

func TestMemoryPruneConformance(t *testing.T) {
	t.Parallel()
	queuetest.RunPrune(t, func(t *testing.T, now func() time.Time) queue.Queue {
		q := queue.NewMemory(queue.MemoryOptions{Now: now})
		t.Cleanup(func() { _ = q.Close() })
		return q
	})
}

// runConsumer runs Consume until the returned stop is called; stop returns
// Consume's result.
func runConsumer(q queue.Queue, topic string, h queue.Handler, opts queue.ConsumeOptions) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Consume(ctx, topic, h, opts) }()
	return func() error { cancel(); return <-done }
}

// handleOne consumes until one message was handled and returns it.
func handleOne(t *testing.T, q queue.Queue, topic string) queue.Message {
	t.Helper()
	got := make(chan queue.Message, 1)
	stop := runConsumer(q, topic, func(_ context.Context, m queue.Message) error {
		got <- m
		return nil
	}, queue.ConsumeOptions{Concurrency: 1})
	m := <-got
	require.NoError(t, stop())
	return m
}

func TestMemoryDedupeWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		advance   time.Duration
		wantAgain bool
	}{
		{name: "copy within the window is dropped", advance: 59 * time.Second, wantAgain: false},
		{name: "copy after the window is handled again", advance: 61 * time.Second, wantAgain: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := testclock.New(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
			q := queue.NewMemory(queue.MemoryOptions{DedupeWindow: time.Minute, Now: clock.Now})
			defer q.Close()
			require.NoError(t, q.Publish(ctx, "orders", queue.Message{ID: "x"}))
			require.Equal(t, "x", handleOne(t, q, "orders").ID)

			clock.Advance(tt.advance)
			require.NoError(t, q.Publish(ctx, "orders", queue.Message{ID: "x"}, queue.Message{ID: "after"}))
			var got []string
			sawAfter := make(chan struct{})
			stop := runConsumer(q, "orders", func(_ context.Context, m queue.Message) error {
				got = append(got, m.ID) // Concurrency 1: one handler at a time
				if m.ID == "after" {
					close(sawAfter)
				}
				return nil
			}, queue.ConsumeOptions{Concurrency: 1})
			<-sawAfter
			require.NoError(t, stop())
			want := []string{"after"}
			if tt.wantAgain {
				want = []string{"x", "after"}
			}
			require.Equal(t, want, got)
			depth, err := q.Depth(ctx, "orders")
			require.NoError(t, err)
			require.Zero(t, depth)
		})
	}
}

func TestMemoryDeadLettersCapped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testclock.New(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	q := queue.NewMemory(queue.MemoryOptions{MaxDeadLetters: 3, Now: clock.Now})
	defer q.Close()
	failed := make(chan struct{}, 5)
	stop := runConsumer(q, "orders", func(context.Context, queue.Message) error {
		failed <- struct{}{}
		return queue.Permanent(errors.New("no"))
	}, queue.ConsumeOptions{Concurrency: 1})
	for _, id := range []string{"d0", "d1", "d2", "d3", "d4"} {
		require.NoError(t, q.Publish(ctx, "orders", queue.Message{ID: id}))
	}
	for range 5 {
		<-failed
	}
	require.NoError(t, stop())
	dls, err := q.DeadLetters(ctx, "orders", 0)
	require.NoError(t, err)
	ids := make([]string, len(dls))
	for i, dl := range dls {
		ids[i] = dl.Message.ID
		require.Equal(t, clock.Now(), dl.FailedAt, "FailedAt comes from the injected clock")
	}
	require.Equal(t, []string{"d4", "d3", "d2"}, ids, "newest kept, oldest dropped")
	require.ErrorIs(t, q.Replay(ctx, "orders", "d0"), queue.ErrNotFound)
}

func TestMemoryBackoffSchedule(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		q := queue.NewMemory(queue.MemoryOptions{})
		defer q.Close()
		var times []time.Time
		stop := runConsumer(q, "orders", func(context.Context, queue.Message) error {
			times = append(times, time.Now()) // Concurrency 1: one handler at a time
			return errors.New("down")
		}, queue.ConsumeOptions{Concurrency: 1, MaxAttempts: 3, BackoffBase: time.Second, BackoffMax: 1500 * time.Millisecond})
		require.NoError(t, q.Publish(context.Background(), "orders", queue.Message{ID: "m"}))
		time.Sleep(time.Hour) // fake time: every retry falls due long before
		synctest.Wait()
		require.NoError(t, stop())

		require.Len(t, times, 3)
		first, second := times[1].Sub(times[0]), times[2].Sub(times[1])
		require.GreaterOrEqual(t, first, 500*time.Millisecond)
		require.LessOrEqual(t, first, time.Second)
		require.GreaterOrEqual(t, second, 750*time.Millisecond, "capped at BackoffMax, jittered in its upper half")
		require.LessOrEqual(t, second, 1500*time.Millisecond)
		dls, err := q.DeadLetters(context.Background(), "orders", 1)
		require.NoError(t, err)
		require.Len(t, dls, 1)
		require.Equal(t, times[2], dls[0].FailedAt)
	})
}

func TestMemorySlowHandlerLosesItsMessage(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const vt = time.Minute
		q := queue.NewMemory(queue.MemoryOptions{})
		defer q.Close()
		release := make(chan struct{})
		var mu sync.Mutex
		var attempts []int
		var redeliveredAfter time.Duration
		start := time.Now()
		stop := runConsumer(q, "orders", func(_ context.Context, m queue.Message) error {
			mu.Lock()
			attempts = append(attempts, m.Attempt)
			mu.Unlock()
			if m.Attempt == 1 {
				<-release // alive but slower than the visibility timeout
				return errors.New("too late to matter")
			}
			redeliveredAfter = time.Since(start)
			return nil
		}, queue.ConsumeOptions{Concurrency: 2, VisibilityTimeout: vt, BackoffBase: time.Millisecond})
		require.NoError(t, q.Publish(context.Background(), "orders", queue.Message{ID: "m"}))
		time.Sleep(2 * vt)
		synctest.Wait()
		close(release) // the stale failure must not schedule a retry
		time.Sleep(time.Hour)
		synctest.Wait()
		require.NoError(t, stop())

		require.Equal(t, []int{1, 2}, attempts)
		require.Equal(t, vt, redeliveredAfter, "redelivered exactly when the visibility timeout passed")
		depth, err := q.Depth(context.Background(), "orders")
		require.NoError(t, err)
		require.Zero(t, depth)
		dls, err := q.DeadLetters(context.Background(), "orders", 0)
		require.NoError(t, err)
		require.Empty(t, dls)
	})
}

func TestMemoryPoisonMessageDeadLettered(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		q := queue.NewMemory(queue.MemoryOptions{})
		defer q.Close()
		opts := queue.ConsumeOptions{Concurrency: 1, MaxAttempts: 2, VisibilityTimeout: time.Minute, DrainTimeout: time.Second}
		hang := func(ctx context.Context, _ queue.Message) error { <-ctx.Done(); return ctx.Err() }
		require.NoError(t, q.Publish(context.Background(), "orders", queue.Message{ID: "poison"}))
		for range 2 { // each consumer dies holding the message
			stop := runConsumer(q, "orders", hang, opts)
			time.Sleep(2 * time.Minute)
			synctest.Wait()
			require.NoError(t, stop())
		}
		called := false
		stop := runConsumer(q, "orders", func(context.Context, queue.Message) error { called = true; return nil }, opts)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		require.NoError(t, stop())

		require.False(t, called, "a message over MaxAttempts is not delivered again")
		dls, err := q.DeadLetters(context.Background(), "orders", 0)
		require.NoError(t, err)
		require.Len(t, dls, 1)
		require.Equal(t, 2, dls[0].Message.Attempt)
		require.Contains(t, dls[0].Error, "visibility timeout")
	})
}

func TestMemoryCloseStopsConsumers(t *testing.T) {
	t.Parallel()
	q := queue.NewMemory(queue.MemoryOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(ctx, "orders", func(context.Context, queue.Message) error { return nil }, queue.ConsumeOptions{})
	}()
	require.NoError(t, q.Close())
	require.ErrorIs(t, <-done, queue.ErrClosed)
	require.NoError(t, q.Close(), "Close is idempotent")
}

func TestMemoryPublishCopiesPayload(t *testing.T) {
	t.Parallel()
	q := queue.NewMemory(queue.MemoryOptions{})
	defer q.Close()
	buf := []byte("original")
	require.NoError(t, q.Publish(context.Background(), "orders", queue.Message{ID: "m", Payload: buf}))
	copy(buf, "mutated!")
	require.Equal(t, []byte("original"), handleOne(t, q, "orders").Payload)
}
