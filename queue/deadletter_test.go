package queue_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/queue"
)

func TestFindDeadLetter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := queue.NewMemory(queue.MemoryOptions{})
	defer q.Close()
	failed := make(chan struct{}, 2)
	stop := runConsumer(q, "orders", func(context.Context, queue.Message) error {
		failed <- struct{}{}
		return queue.Permanent(errors.New("no"))
	}, queue.ConsumeOptions{Concurrency: 1})
	require.NoError(t, q.Publish(ctx, "orders", queue.Message{ID: "d0", Key: "k0"}, queue.Message{ID: "d1", Key: "k1"}))
	<-failed
	<-failed
	require.NoError(t, stop())

	dl, err := queue.FindDeadLetter(ctx, q, "orders", "d0")
	require.NoError(t, err)
	require.Equal(t, "k0", dl.Message.Key)
	require.Equal(t, "no", dl.Error)
	_, err = queue.FindDeadLetter(ctx, q, "orders", "nope")
	require.ErrorIs(t, err, queue.ErrNotFound)
	_, err = queue.FindDeadLetter(ctx, q, "other", "d0")
	require.ErrorIs(t, err, queue.ErrNotFound)
}
