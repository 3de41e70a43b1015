package queuetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/queue"
)

// delivery is what a failing handler reports about each call.
type delivery struct {
	attempt int
	at      time.Time
	limited int
}

func testRetry(t *testing.T, q queue.Queue) {
	const base = 40 * time.Millisecond
	calls := make(chan delivery, 4)
	c := start(t, q, "orders", func(_ context.Context, m queue.Message) error {
		signal(calls, delivery{attempt: m.Attempt, at: time.Now()})
		if m.Attempt == 1 {
			return errors.New("flaky")
		}
		return nil
	}, queue.ConsumeOptions{Concurrency: 1, VisibilityTimeout: time.Minute, BackoffBase: base, BackoffMax: time.Second})
	publish(t, q, "orders", 10, queue.Message{ID: "m"})
	first := await(t, calls, "the first attempt")
	second := await(t, calls, "the retry")
	c.stop(t)
	require.Equal(t, 1, first.attempt)
	require.Equal(t, 2, second.attempt)
	require.GreaterOrEqual(t, second.at.Sub(first.at), base/2, "retried before the jittered backoff")
	require.Empty(t, calls)
	require.Empty(t, deadLetters(t, q, "orders", 10))
	requireDepth(t, q, "orders", 0)
}

func testPanic(t *testing.T, q queue.Queue) {
	attempts := make(chan int, 4)
	c := start(t, q, "orders", func(_ context.Context, m queue.Message) error {
		signal(attempts, m.Attempt)
		if m.Attempt == 1 {
			panic("handler bug")
		}
		return nil
	}, queue.ConsumeOptions{Concurrency: 1, VisibilityTimeout: time.Minute, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond})
	publish(t, q, "orders", 10, queue.Message{ID: "m"})
	require.Equal(t, 1, await(t, attempts, "the panicking attempt"))
	require.Equal(t, 2, await(t, attempts, "the retry"))
	c.stop(t)
	requireDepth(t, q, "orders", 0)
}

func testDeadLetterReplay(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	attempts := make(chan int, 8)
	opts := queue.ConsumeOptions{Concurrency: 2, MaxAttempts: 3, VisibilityTimeout: time.Minute, BackoffBase: 2 * time.Millisecond, BackoffMax: 10 * time.Millisecond}
	c := start(t, q, "orders", func(_ context.Context, m queue.Message) error {
		signal(attempts, m.Attempt)
		return fmt.Errorf("boom %d", m.Attempt)
	}, opts)
	publish(t, q, "orders", 10, queue.Message{ID: "dl", Key: "k", Payload: []byte("p")})
	for want := 1; want <= 3; want++ {
		require.Equal(t, want, await(t, attempts, fmt.Sprintf("attempt %d", want)))
	}
	before := time.Now()
	c.stop(t) // once Consume returned, the third failure is recorded
	require.Empty(t, attempts, "attempted again after MaxAttempts")

	dls := deadLetters(t, q, "orders", 10)
	require.Len(t, dls, 1)
	require.Equal(t, "dl", dls[0].Message.ID)
	require.Equal(t, "k", dls[0].Message.Key)
	require.Equal(t, []byte("p"), dls[0].Message.Payload)
	require.Equal(t, 3, dls[0].Message.Attempt)
	require.Equal(t, "boom 3", dls[0].Error)
	require.WithinDuration(t, before, dls[0].FailedAt, 30*time.Second)
	requireDepth(t, q, "orders", 0)

	require.NoError(t, q.Replay(ctx, "orders", "dl"))
	require.Empty(t, deadLetters(t, q, "orders", 10))
	requireDepth(t, q, "orders", 1)
	rec := newRecorder(1)
	c = start(t, q, "orders", rec.handle, patient)
	rec.wait(t)
	c.stop(t)
	seen, _ := rec.snapshot()
	require.Equal(t, "dl", seen[0].ID)
	require.Equal(t, []byte("p"), seen[0].Payload)
	require.Equal(t, 1, seen[0].Attempt, "replay resets the attempts")
	requireDepth(t, q, "orders", 0)
	require.ErrorIs(t, q.Replay(ctx, "orders", "dl"), queue.ErrNotFound, "a replayed dead letter is gone")
}

func testPermanent(t *testing.T, q queue.Queue) {
	calls := make(chan int, 4)
	c := start(t, q, "orders", func(_ context.Context, m queue.Message) error {
		signal(calls, m.Attempt)
		return queue.Permanent(errors.New("bad payload"))
	}, queue.ConsumeOptions{Concurrency: 1, VisibilityTimeout: time.Minute, BackoffBase: time.Millisecond})
	publish(t, q, "orders", 10, queue.Message{ID: "bad"})
	require.Equal(t, 1, await(t, calls, "the only attempt"))
	c.stop(t)
	require.Empty(t, calls, "a permanent error must not be retried")
	dls := deadLetters(t, q, "orders", 10)
	require.Len(t, dls, 1)
	require.Equal(t, "bad", dls[0].Message.ID)
	require.Equal(t, 1, dls[0].Message.Attempt)
	require.Equal(t, "bad payload", dls[0].Error)
	requireDepth(t, q, "orders", 0)
}

func testDeadLetterOrder(t *testing.T, q queue.Queue) {
	rec := newRecorder(3)
	c := start(t, q, "orders", func(ctx context.Context, m queue.Message) error {
		rec.add(m)
		return queue.Permanent(errors.New("no"))
	}, queue.ConsumeOptions{Concurrency: 1, VisibilityTimeout: time.Minute})
	publish(t, q, "orders", 10, messages("d", 3)...) // Concurrency 1: they fail in this order
	rec.wait(t)
	c.stop(t)
	dls := deadLetters(t, q, "orders", 2)
	require.Len(t, dls, 2)
	require.Equal(t, "d-2", dls[0].Message.ID)
	require.Equal(t, "d-1", dls[1].Message.ID)
	require.Len(t, deadLetters(t, q, "orders", 0), 3, "limit 0 lists every dead letter kept")
}

func testReplayUnknown(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	require.ErrorIs(t, q.Replay(ctx, "orders", "nope"), queue.ErrNotFound)
	publish(t, q, "orders", 10, queue.Message{ID: "other"})
	require.ErrorIs(t, q.Replay(ctx, "orders", "other"), queue.ErrNotFound, "a waiting message is not a dead letter")
	requireDepth(t, q, "orders", 1)
}

func testInvalidConsume(t *testing.T, q queue.Queue) {
	tests := []struct {
		name  string
		topic string
		h     queue.Handler
	}{
		{name: "nil handler", topic: "orders", h: nil},
		{name: "empty topic", topic: "", h: func(context.Context, queue.Message) error { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			require.Error(t, q.Consume(ctx, tt.topic, tt.h, queue.ConsumeOptions{}))
		})
	}
	require.Error(t, q.Publish(context.Background(), "", queue.Message{ID: "x"}), "empty topic")
}

func testClosed(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	require.NoError(t, q.Ping(ctx))
	require.NoError(t, q.Close())
	require.ErrorIs(t, q.Publish(ctx, "orders", queue.Message{ID: "x"}), queue.ErrClosed)
	require.ErrorIs(t, q.Consume(ctx, "orders", func(context.Context, queue.Message) error { return nil }, queue.ConsumeOptions{}), queue.ErrClosed)
	_, err := q.Depth(ctx, "orders")
	require.ErrorIs(t, err, queue.ErrClosed)
	require.ErrorIs(t, q.Ping(ctx), queue.ErrClosed)
	require.ErrorIs(t, q.Discard(ctx, "orders", "x"), queue.ErrClosed)
}
