package queuetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/queue"
)

func testDiscard(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	rec := newRecorder(3)
	c := start(t, q, "orders", func(ctx context.Context, m queue.Message) error {
		rec.add(m)
		return queue.Permanent(errors.New("no"))
	}, queue.ConsumeOptions{Concurrency: 1, VisibilityTimeout: time.Minute})
	publish(t, q, "orders", 10, messages("d", 3)...)
	rec.wait(t)
	c.stop(t)
	require.Len(t, deadLetters(t, q, "orders", 0), 3)

	require.NoError(t, q.Discard(ctx, "orders", "d-1"))
	dls := deadLetters(t, q, "orders", 0)
	require.Len(t, dls, 2)
	require.Equal(t, "d-2", dls[0].Message.ID, "the others stay, in their order")
	require.Equal(t, "d-0", dls[1].Message.ID)
	requireDepth(t, q, "orders", 0)
	require.ErrorIs(t, q.Discard(ctx, "orders", "d-1"), queue.ErrNotFound, "a discarded letter is gone")
	require.ErrorIs(t, q.Replay(ctx, "orders", "d-1"), queue.ErrNotFound, "and cannot be replayed")

	require.ErrorIs(t, q.Discard(ctx, "orders", "nope"), queue.ErrNotFound)
	require.ErrorIs(t, q.Discard(ctx, "other", "d-0"), queue.ErrNotFound, "a letter of another topic")
	publish(t, q, "orders", 10, queue.Message{ID: "waiting"})
	require.ErrorIs(t, q.Discard(ctx, "orders", "waiting"), queue.ErrNotFound, "a waiting message is not a dead letter")
	requireDepth(t, q, "orders", 1)
}
