package redis_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/queue"
	"cardflow/storage/redis"
)

// BenchmarkRedisPublishConsume measures messages going end to end through
// Redis: published in batches of 100 by two publishers, fetched, handled
// and acknowledged by one consumer of concurrency 64 (dedupe check and
// mark included), reported as msgs/s.
func BenchmarkRedisPublishConsume(b *testing.B) {
	q := newTestQueue(b, newTestClient(b), redis.QueueOptions{})
	payload := make([]byte, 256)
	var handled atomic.Int64
	all := make(chan struct{})
	total := int64(b.N)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(ctx, "bench", func(context.Context, queue.Message) error {
			if handled.Add(1) == total {
				close(all)
			}
			return nil
		}, queue.ConsumeOptions{Concurrency: 64})
	}()

	b.ResetTimer()
	start := time.Now()
	const publishers, batch = 2, 100
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			msgs := make([]queue.Message, 0, batch)
			for i := p; i < b.N; i += publishers {
				msgs = append(msgs, queue.Message{ID: "m-" + strconv.Itoa(i), Payload: payload})
				if len(msgs) == batch || i+publishers >= b.N {
					if err := q.Publish(ctx, "bench", msgs...); err != nil {
						b.Error(err)
						return
					}
					msgs = msgs[:0]
				}
			}
		})
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(time.Minute):
		b.Fatalf("handled %d of %d", handled.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
