package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/internal/testclock"
	"cardflow/internal/testenv"
	"cardflow/queue"
	redisq "cardflow/storage/redis"
)

// TestPruneRedisDeadLetters: with a Redis queue, cardflow prune deletes the
// dead letters older than queue.dead_letter_retention and keeps the others.
func TestPruneRedisDeadLetters(t *testing.T) {
	url := testenv.RedisURL(t)
	prefix := "cardflow-test:" + queue.NewID()[:12] + ":"
	t.Setenv("CARDFLOW_STORE_SQLITE_PATH", filepath.Join(t.TempDir(), "cardflow.db"))
	t.Setenv("CARDFLOW_QUEUE_REDIS_URL", url)
	t.Setenv("CARDFLOW_QUEUE_KEY_PREFIX", prefix)

	clock := testclock.New(time.Now().Add(-40 * 24 * time.Hour))
	client, err := redisq.NewClient(url)
	require.NoError(t, err)
	q, err := redisq.NewQueue(client, redisq.QueueOptions{Prefix: prefix, PollInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler), Now: clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, q.Close())
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			require.NoError(t, client.Unlink(ctx, iter.Val()).Err())
		}
		require.NoError(t, iter.Err())
		require.NoError(t, client.Close())
	})
	buryOne(t, q, "old")
	clock.Set(time.Now().Add(-24 * time.Hour))
	buryOne(t, q, "recent")

	code, out, errOut := runCmd("prune")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "\n  dead_letters          1 deleted   kept 30d    queue.dead_letter_retention\n")
	dls, err := q.DeadLetters(t.Context(), flows.NotifyTopic, 0)
	require.NoError(t, err)
	require.Len(t, dls, 1)
	require.Equal(t, "recent", dls[0].Message.ID)
}

// buryOne dead-letters one message on the notify topic and returns once
// its consumer has stopped (and so recorded it).
func buryOne(t *testing.T, q queue.Queue, id string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	handled := make(chan struct{}, 1)
	returned := make(chan error, 1)
	go func() {
		returned <- q.Consume(ctx, flows.NotifyTopic, func(context.Context, queue.Message) error {
			handled <- struct{}{}
			return queue.Permanent(errors.New("user not found"))
		}, queue.ConsumeOptions{Concurrency: 1})
	}()
	require.NoError(t, q.Publish(t.Context(), flows.NotifyTopic, queue.Message{ID: id}))
	select {
	case <-handled:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s not handled", id)
	}
	cancel()
	require.NoError(t, <-returned)
}
