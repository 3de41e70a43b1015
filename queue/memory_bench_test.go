package queue_test

import (
	"testing"

	"cardflow/queue"
	"cardflow/queue/queuetest"
)

// BenchmarkMemoryPublishConsume measures messages published in batches of
// 100, handled and acknowledged end to end by one consumer of concurrency 8.
func BenchmarkMemoryPublishConsume(b *testing.B) {
	q := queue.NewMemory(queue.MemoryOptions{})
	defer q.Close()
	queuetest.BenchPublishConsume(b, q, 1, 8)
}
