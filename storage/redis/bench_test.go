package redis_test

import (
	"testing"

	"cardflow/queue/queuetest"
	"cardflow/storage/redis"
)

// BenchmarkRedisPublishConsume measures messages going end to end through
// Redis: published in batches of 100 by two publishers, fetched, handled
// and acknowledged by one consumer of concurrency 64 (dedupe check and
// mark included), reported as msgs/s.
func BenchmarkRedisPublishConsume(b *testing.B) {
	q := newTestQueue(b, newTestClient(b), redis.QueueOptions{})
	queuetest.BenchPublishConsume(b, q, 2, 64)
}
