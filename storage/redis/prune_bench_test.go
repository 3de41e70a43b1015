package redis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/queue"
	"cardflow/storage/redis"
)

// BenchmarkRedisPruneDeadLetters measures one PruneDeadLetters batch of
// dead letters with 1 KiB payloads, all older than the cutoff: the time one
// script call holds Redis, round trip included.
func BenchmarkRedisPruneDeadLetters(b *testing.B) {
	for _, batch := range []int{100, 1000} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) { benchPruneDeadLetters(b, batch) })
	}
}

func benchPruneDeadLetters(b *testing.B, batch int) {
	ctx := context.Background()
	client := newTestClient(b)
	prefix := testPrefix()
	q := newTestQueue(b, client, redis.QueueOptions{Prefix: prefix})
	dead := prefix + "{notify}:dead"
	died := time.Now().Add(-60 * 24 * time.Hour)
	elems := make([]any, batch)
	for i := range elems {
		id := "m-" + strconv.Itoa(i)
		m := queue.Message{ID: id, Key: "key-" + id, Payload: []byte(strings.Repeat("x", 1024)), Attempt: 8}
		elems[i] = redis.DeadLetterElem(m, "user not found", died)
	}
	cutoff := time.Now().Add(-30 * 24 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		require.NoError(b, client.LPush(ctx, dead, elems...).Err())
		b.StartTimer()
		n, err := q.PruneDeadLetters(ctx, "notify", cutoff, batch)
		require.NoError(b, err)
		require.Equal(b, batch, n)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(batch), "µs/letter")
}
