package queuetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/queue"
)

func testRateLimited(t *testing.T, q queue.Queue) {
	const after = 200 * time.Millisecond
	const others = 10
	held := make(chan int, 4)      // attempts of "held", put off for an hour
	soon := make(chan delivery, 4) // deliveries of "soon", put off for after
	rec := newRecorder(others)
	var soonCalls atomic.Int32
	// MaxAttempts 1: a rate limit that counted as an attempt would
	// dead-letter "soon" instead of bringing it back. Concurrency 1: the
	// other messages can only be handled if the waiting ones hold no slot.
	opts := queue.ConsumeOptions{Concurrency: 1, MaxAttempts: 1, VisibilityTimeout: time.Minute, BackoffBase: time.Hour, BackoffMax: time.Hour}
	c := start(t, q, "orders", func(ctx context.Context, m queue.Message) error {
		switch m.ID {
		case "held":
			signal(held, m.Attempt)
			return queue.RateLimited(errors.New("429: come back in an hour"), time.Hour)
		case "soon":
			signal(soon, delivery{attempt: m.Attempt, at: time.Now(), limited: m.Limited})
			if soonCalls.Add(1) == 1 {
				return queue.RateLimited(errors.New("429: slow down"), after)
			}
			return nil
		}
		return rec.handle(ctx, m)
	}, opts)
	publish(t, q, "orders", 20, append([]queue.Message{{ID: "held"}, {ID: "soon"}}, messages("m", others)...)...)

	first := await(t, soon, "the rate-limited delivery")
	second := await(t, soon, "the delivery after the rate limit")
	rec.wait(t)
	require.Equal(t, 1, await(t, held, "the delivery of the message put off for an hour"))
	c.stop(t)

	require.Equal(t, 1, first.attempt)
	require.Equal(t, 1, second.attempt, "a rate-limited delivery must not count as an attempt")
	require.Zero(t, first.limited)
	require.Equal(t, 1, second.limited, "the redelivery says it was rate limited once")
	require.GreaterOrEqual(t, second.at.Sub(first.at), after, "delivered again before the rate limit lifted")
	require.Empty(t, soon, "delivered again after it was acknowledged")
	require.Empty(t, held, "the message put off for an hour came back early")
	_, counts := rec.snapshot()
	require.Len(t, counts, others, "the other messages flow while the limited ones wait")
	require.Empty(t, deadLetters(t, q, "orders", 10))
	requireDepth(t, q, "orders", 1) // "held", still waiting
}

func testRateLimitCap(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	attempts := make(chan int, 8)
	opts := queue.ConsumeOptions{Concurrency: 1, MaxAttempts: 1, MaxRateLimited: 3, VisibilityTimeout: time.Minute}
	c := start(t, q, "orders", func(_ context.Context, m queue.Message) error {
		signal(attempts, m.Attempt)
		return queue.RateLimited(errors.New("slow down"), time.Millisecond)
	}, opts)
	publish(t, q, "orders", 10, queue.Message{ID: "x", Payload: []byte("p")})
	for i := range 3 {
		require.Equal(t, 1, await(t, attempts, "a rate-limited delivery"), "delivery %d", i+1)
	}
	c.stop(t) // once Consume returned, the third rate limit is recorded
	require.Empty(t, attempts, "delivered again after MaxRateLimited rate limits")

	dls := deadLetters(t, q, "orders", 10)
	require.Len(t, dls, 1)
	require.Equal(t, "x", dls[0].Message.ID)
	require.Equal(t, []byte("p"), dls[0].Message.Payload)
	require.Equal(t, 1, dls[0].Message.Attempt)
	require.Equal(t, "queue: rate limited 3 times, giving up: slow down", dls[0].Error)
	require.Equal(t, queue.RateLimitReason(errors.New("slow down"), 3), dls[0].Error)
	requireDepth(t, q, "orders", 0)

	// A replayed message starts counting its rate limits afresh: two more
	// and then a success stay under the cap of three.
	require.NoError(t, q.Replay(ctx, "orders", "x"))
	var calls atomic.Int32
	done := make(chan queue.Message, 1)
	c = start(t, q, "orders", func(_ context.Context, m queue.Message) error {
		if calls.Add(1) <= 2 {
			return queue.RateLimited(errors.New("slow down"), time.Millisecond)
		}
		signal(done, m)
		return nil
	}, opts)
	m := await(t, done, "the replayed message to get through")
	c.stop(t)
	require.Equal(t, "x", m.ID)
	require.Equal(t, 1, m.Attempt)
	require.Empty(t, deadLetters(t, q, "orders", 10))
	requireDepth(t, q, "orders", 0)
}
