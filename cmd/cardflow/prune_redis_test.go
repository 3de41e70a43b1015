package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/internal/testclock"
	"cardflow/internal/testenv"
	"cardflow/queue"
	"cardflow/queue/queuetest"
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
	queuetest.Bury(t, q, clock, flows.NotifyTopic, time.Now().Add(-40*24*time.Hour), "old")
	queuetest.Bury(t, q, clock, flows.NotifyTopic, time.Now().Add(-24*time.Hour), "recent")

	code, out, errOut := runCmd("prune")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "\n  dead_letters          1 deleted   kept 30d    queue.dead_letter_retention\n")
	dls, err := q.DeadLetters(t.Context(), flows.NotifyTopic, 0)
	require.NoError(t, err)
	require.Len(t, dls, 1)
	require.Equal(t, "recent", dls[0].Message.ID)
}
