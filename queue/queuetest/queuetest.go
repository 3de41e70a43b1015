// Package queuetest is the conformance suite every queue.Queue passes: the
// in-process queue (package queue) and the Redis one (storage/redis) run the
// same tests, so their semantics cannot drift apart.
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

// Run runs the conformance suite. newQueue must return a fresh, empty queue
// of its own (its own key prefix, say) and register its own cleanup; the
// queue's dedupe window must outlast the test (a minute is plenty) and it
// must keep at least 10 dead letters per topic. Subtests run in parallel.
func Run(t *testing.T, newQueue func(t *testing.T) queue.Queue) {
	tests := []struct {
		name string
		run  func(t *testing.T, q queue.Queue)
	}{
		{name: "delivers every message once", run: testDeliversOnce},
		{name: "assigns an ID to a message without one", run: testAssignsIDs},
		{name: "concurrent consumers share a topic", run: testConcurrentConsumers},
		{name: "topics are independent", run: testTopicsIndependent},
		{name: "depth counts waiting, in-flight and delayed messages", run: testDepth},
		{name: "duplicate of a handled message is dropped", run: testDuplicateDropped},
		{name: "drain lets an in-flight handler finish", run: testDrain},
		{name: "dead consumer's message is redelivered", run: testRedelivery},
		{name: "failed message is retried with backoff", run: testRetry},
		{name: "panicking handler counts as a failure", run: testPanic},
		{name: "dead-lettered after MaxAttempts, then replayed", run: testDeadLetterReplay},
		{name: "permanent error dead-letters at once", run: testPermanent},
		{name: "rate-limited message waits without using an attempt", run: testRateLimited},
		{name: "dead-lettered after MaxRateLimited rate limits, then replayed", run: testRateLimitCap},
		{name: "dead letters listed newest first", run: testDeadLetterOrder},
		{name: "replay of an unknown id is ErrNotFound", run: testReplayUnknown},
		{name: "a discarded dead letter is gone", run: testDiscard},
		{name: "invalid consume arguments are rejected", run: testInvalidConsume},
		{name: "closed queue refuses work", run: testClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newQueue(t))
		})
	}
}

func testDeliversOnce(t *testing.T, q queue.Queue) {
	const n = 100
	msgs := messages("m", n)
	publish(t, q, "orders", 10, msgs...)
	rec := newRecorder(n)
	c := start(t, q, "orders", rec.handle, patient)
	rec.wait(t)
	c.stop(t)

	seen, counts := rec.snapshot()
	require.Len(t, seen, n)
	byID := map[string]queue.Message{}
	for _, m := range seen {
		byID[m.ID] = m
	}
	for _, want := range msgs {
		require.Equal(t, 1, counts[want.ID], "deliveries of %s", want.ID)
		got := byID[want.ID]
		require.Equal(t, want.Key, got.Key)
		require.Equal(t, want.Payload, got.Payload)
		require.Equal(t, 1, got.Attempt)
	}
	requireDepth(t, q, "orders", 0)
}

func testAssignsIDs(t *testing.T, q queue.Queue) {
	publish(t, q, "orders", 10, queue.Message{Payload: []byte("a")}, queue.Message{Payload: []byte("b")})
	rec := newRecorder(2)
	c := start(t, q, "orders", rec.handle, patient)
	rec.wait(t)
	c.stop(t)
	seen, _ := rec.snapshot()
	require.NotEmpty(t, seen[0].ID)
	require.NotEmpty(t, seen[1].ID)
	require.NotEqual(t, seen[0].ID, seen[1].ID)
}

func testConcurrentConsumers(t *testing.T, q queue.Queue) {
	const n = 300
	rec := newRecorder(n)
	consumers := make([]*consumer, 3)
	for i := range consumers {
		consumers[i] = start(t, q, "orders", rec.handle, patient)
	}
	publish(t, q, "orders", 25, messages("m", n)...)
	rec.wait(t)
	for _, c := range consumers {
		c.stop(t)
	}
	_, counts := rec.snapshot()
	require.Len(t, counts, n, "every message handled")
	for id, c := range counts {
		require.Equal(t, 1, c, "deliveries of %s", id)
	}
	requireDepth(t, q, "orders", 0)
}

func testTopicsIndependent(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	publish(t, q, "a", 10, queue.Message{ID: "a1"})
	publish(t, q, "b", 10, queue.Message{ID: "b1"})
	gotA := make(chan queue.Message, 4)
	ca := start(t, q, "a", func(_ context.Context, m queue.Message) error {
		signal(gotA, m)
		return queue.Permanent(errors.New("not today"))
	}, patient)
	require.Equal(t, "a1", await(t, gotA, "a1").ID)
	ca.stop(t)
	require.Empty(t, gotA, "consumer of a saw another message")

	require.Len(t, deadLetters(t, q, "a", 10), 1)
	require.Empty(t, deadLetters(t, q, "b", 10))
	requireDepth(t, q, "a", 0)
	requireDepth(t, q, "b", 1)
	require.ErrorIs(t, q.Replay(ctx, "b", "a1"), queue.ErrNotFound)

	rec := newRecorder(1)
	cb := start(t, q, "b", rec.handle, patient)
	rec.wait(t)
	cb.stop(t)
	seen, _ := rec.snapshot()
	require.Equal(t, "b1", seen[0].ID)
}

func testDepth(t *testing.T, q queue.Queue) {
	publish(t, q, "a", 10, messages("a", 3)...)
	publish(t, q, "b", 10, messages("b", 1)...)
	requireDepth(t, q, "a", 3)
	requireDepth(t, q, "b", 1)
	requireDepth(t, q, "never-used", 0)

	started, release := make(chan struct{}, 1), make(chan struct{})
	rec := newRecorder(2)
	var later atomic.Bool
	opts := queue.ConsumeOptions{Concurrency: 1, VisibilityTimeout: time.Minute, BackoffBase: time.Hour, BackoffMax: time.Hour}
	c := start(t, q, "a", func(ctx context.Context, m queue.Message) error {
		if !later.Swap(true) {
			signal(started, struct{}{})
			<-release
			return errors.New("try again in an hour")
		}
		return rec.handle(ctx, m)
	}, opts)
	await(t, started, "the first handler to start")
	requireDepth(t, q, "a", 3) // one in flight, two waiting
	close(release)
	rec.wait(t)
	c.stop(t)
	requireDepth(t, q, "a", 1) // delayed for its retry
	requireDepth(t, q, "b", 1)
	require.Empty(t, deadLetters(t, q, "a", 10))
}

func testDuplicateDropped(t *testing.T, q queue.Queue) {
	rec := newRecorder(1)
	c := start(t, q, "orders", rec.handle, patient)
	publish(t, q, "orders", 10, queue.Message{ID: "dup", Payload: []byte("first")})
	rec.wait(t)
	c.stop(t) // once Consume returned, the first copy is acknowledged

	publish(t, q, "orders", 10, queue.Message{ID: "dup", Payload: []byte("second")}, queue.Message{ID: "after"})
	rec2 := newRecorder(1)
	opts := patient
	opts.Concurrency = 1 // the copy, published first, is looked at before "after"
	c = start(t, q, "orders", rec2.handle, opts)
	rec2.wait(t)
	c.stop(t)
	seen, counts := rec2.snapshot()
	require.Equal(t, "after", seen[0].ID)
	require.Zero(t, counts["dup"], "the handled ID must not reach the handler again")
	requireDepth(t, q, "orders", 0)
}

func testDrain(t *testing.T, q queue.Queue) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	ctxErr := make(chan error, 1)
	calls := make(chan string, 4)
	opts := queue.ConsumeOptions{Concurrency: 2, VisibilityTimeout: time.Minute, DrainTimeout: time.Minute}
	c := start(t, q, "orders", func(ctx context.Context, m queue.Message) error {
		signal(calls, m.ID)
		signal(started, struct{}{})
		<-release
		signal(ctxErr, ctx.Err())
		return nil
	}, opts)
	publish(t, q, "orders", 10, queue.Message{ID: "slow"})
	await(t, started, "the handler to start")

	c.cancel()
	publish(t, q, "orders", 10, queue.Message{ID: "late"})
	select {
	case err := <-c.returned:
		t.Fatalf("Consume returned (%v) while a handler was still running", err)
	default:
	}
	close(release)
	c.stop(t)
	require.NoError(t, await(t, ctxErr, "the handler to finish"), "a handler finishing within DrainTimeout keeps its context")
	require.Equal(t, "slow", <-calls)
	require.Empty(t, calls, "a stopping consumer must not start new messages")
	requireDepth(t, q, "orders", 1) // "slow" acknowledged, "late" still waiting
	require.Empty(t, deadLetters(t, q, "orders", 10))
}

func testRedelivery(t *testing.T, q queue.Queue) {
	const vt = 300 * time.Millisecond
	started, cancelled := make(chan struct{}, 1), make(chan error, 1)
	dying := start(t, q, "orders", func(ctx context.Context, m queue.Message) error {
		signal(started, struct{}{})
		<-ctx.Done() // the handler hangs until its consumer gives up on it
		signal(cancelled, ctx.Err())
		return ctx.Err()
	}, queue.ConsumeOptions{Concurrency: 1, VisibilityTimeout: vt, DrainTimeout: 10 * time.Millisecond})
	// The first delivery comes after this, so the redelivery must come at
	// least a visibility timeout after it.
	publishedAt := time.Now()
	publish(t, q, "orders", 10, queue.Message{ID: "m", Payload: []byte("p")})
	await(t, started, "the first delivery")
	dying.stop(t)
	require.ErrorIs(t, await(t, cancelled, "the abandoned handler's context to be cancelled"), context.Canceled)
	requireDepth(t, q, "orders", 1)

	got := make(chan queue.Message, 2)
	c := start(t, q, "orders", func(_ context.Context, m queue.Message) error {
		signal(got, m)
		return nil
	}, queue.ConsumeOptions{Concurrency: 1, VisibilityTimeout: vt})
	m := await(t, got, "the redelivery")
	require.GreaterOrEqual(t, time.Since(publishedAt), vt, "redelivered before the visibility timeout")
	c.stop(t)
	require.Equal(t, "m", m.ID)
	require.Equal(t, []byte("p"), m.Payload)
	require.Equal(t, 2, m.Attempt)
	requireDepth(t, q, "orders", 0)
}
