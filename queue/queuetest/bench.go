package queuetest

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/queue"
)

// BenchPublishConsume measures messages going end to end through q:
// published in batches of 100 by publishers goroutines, handled and
// acknowledged by one consumer running concurrency handlers (dedupe check
// and mark included). It reports msgs/s; every queue benchmark uses it so
// their figures compare.
func BenchPublishConsume(b *testing.B, q queue.Queue, publishers, concurrency int) {
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
		}, queue.ConsumeOptions{Concurrency: concurrency})
	}()

	b.ResetTimer()
	start := time.Now()
	const batch = 100
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
