package redis_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/queue"
	"cardflow/storage/redis"
)

// TestRateLimitCountSurvivesRedelivery checks what the conformance suite
// cannot reach: a message whose consumer died keeps, on its redelivery, the
// count of its rate-limited deliveries, so a crash does not reset the cap.
func TestRateLimitCountSurvivesRedelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newTestQueue(t, newTestClient(t), redis.QueueOptions{PollInterval: 10 * time.Millisecond})
	opts := queue.ConsumeOptions{Concurrency: 1, MaxRateLimited: 2, VisibilityTimeout: 200 * time.Millisecond, DrainTimeout: 10 * time.Millisecond}
	limited := queue.RateLimited(errors.New("slow down"), time.Millisecond)

	hanging := make(chan struct{}, 1)
	var calls atomic.Int32
	dying := start(t, q, "orders", func(ctx context.Context, m queue.Message) error {
		if calls.Add(1) == 1 {
			return limited
		}
		hanging <- struct{}{}
		<-ctx.Done() // dies holding the message
		return ctx.Err()
	}, opts)
	require.NoError(t, q.Publish(ctx, "orders", queue.Message{ID: "x"}))
	await(t, hanging, "the delivery after the rate limit")
	dying.stop(t)

	redelivered := make(chan queue.Message, 2)
	c := start(t, q, "orders", func(_ context.Context, m queue.Message) error {
		redelivered <- m
		return limited
	}, opts)
	var m queue.Message
	select {
	case m = <-redelivered:
	case <-time.After(patience):
		t.Fatal("the dead consumer's message was not redelivered")
	}
	c.stop(t) // its settlement is recorded once Consume returned
	require.Equal(t, 2, m.Attempt, "the lost delivery counts, the rate-limited one does not")
	require.Empty(t, redelivered)
	dls, err := q.DeadLetters(ctx, "orders", 10)
	require.NoError(t, err)
	require.Len(t, dls, 1, "the second rate limit reaches MaxRateLimited across the redelivery")
	require.Equal(t, queue.RateLimitReason(errors.New("slow down"), 2), dls[0].Error)
}
