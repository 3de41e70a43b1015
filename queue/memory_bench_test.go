package queue_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/queue"
)

// BenchmarkMemoryPublishConsume measures messages published in batches of
// 100, handled and acknowledged end to end by one consumer of concurrency 8.
func BenchmarkMemoryPublishConsume(b *testing.B) {
	q := queue.NewMemory(queue.MemoryOptions{})
	defer q.Close()
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
		}, queue.ConsumeOptions{Concurrency: 8})
	}()

	b.ResetTimer()
	start := time.Now()
	const batch = 100
	msgs := make([]queue.Message, 0, batch)
	for i := range b.N {
		msgs = append(msgs, queue.Message{ID: fmt.Sprint("m-", i), Payload: payload})
		if len(msgs) == batch || i == b.N-1 {
			if err := q.Publish(ctx, "bench", msgs...); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	<-all
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
