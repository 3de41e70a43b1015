package outbox_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"cardflow/internal/testenv"
	"cardflow/outbox"
	"cardflow/queue"
	"cardflow/storage/postgres"
	"cardflow/storage/postgres/pgtest"
	"cardflow/storage/redis"
	"cardflow/storage/storetest"
)

// lagPublisher publishes to the real queue and records, per message, the
// time from its commit (noted by the load generator right after Apply
// returned) to its publication. The relay can publish a message before its
// Apply has returned to the caller; such a message counts with lag 0.
type lagPublisher struct {
	outbox.Publisher
	mu        sync.Mutex
	committed map[string]time.Time // committed, not yet published
	published map[string]bool      // published before its commit was noted
	lags      []time.Duration
	all       chan struct{}
	want      int
}

func (p *lagPublisher) Publish(ctx context.Context, topic string, msgs ...queue.Message) error {
	if err := p.Publisher.Publish(ctx, topic, msgs...); err != nil {
		return err
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range msgs {
		if at, ok := p.committed[m.ID]; ok {
			delete(p.committed, m.ID)
			p.record(now.Sub(at))
		} else {
			p.published[m.ID] = true
		}
	}
	return nil
}

func (p *lagPublisher) commit(key string) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.published[key] {
		delete(p.published, key)
		p.record(0)
		return
	}
	p.committed[key] = now
}

func (p *lagPublisher) record(lag time.Duration) {
	p.lags = append(p.lags, lag)
	if len(p.lags) == p.want {
		close(p.all)
	}
}

// BenchmarkRelayLagUnderLoad runs the store benchmark's load (16 goroutines
// committing "claim task + audit + outbox" on PostgreSQL) while the relay
// moves the outbox to Redis, and reports the commit-to-queued lag. "poll"
// relies on the default 50ms poll alone; "wake" also wakes the relay after
// each commit, as the engine does.
func BenchmarkRelayLagUnderLoad(b *testing.B) {
	for _, wake := range []bool{false, true} {
		name := "poll"
		if wake {
			name = "wake"
		}
		b.Run(name, func(b *testing.B) { benchRelayLag(b, wake) })
	}
}

func benchRelayLag(b *testing.B, wake bool) {
	ctx := b.Context()
	store, err := postgres.Open(ctx, pgtest.SchemaDSN(b), postgres.Options{MaxConns: 16, Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	q, err := redis.Open(testenv.RedisURL(b), redis.QueueOptions{Prefix: "cardflow-bench:" + queue.NewID()[:12] + ":"})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()

	pub := &lagPublisher{Publisher: q, committed: map[string]time.Time{}, published: map[string]bool{},
		all: make(chan struct{}), want: b.N}
	relay := outbox.NewRelay(store, pub, outbox.Options{})
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = relay.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()

	storetest.BenchApplyClaimTaskObserved(b, store, func(key string) {
		pub.commit(key)
		if wake {
			relay.Wake()
		}
	})
	b.StopTimer()
	select {
	case <-pub.all:
	case <-time.After(time.Minute):
		pub.mu.Lock()
		defer pub.mu.Unlock()
		b.Fatalf("relay published %d of %d messages", len(pub.lags), b.N)
	}
	pub.mu.Lock()
	lags := slices.Clone(pub.lags)
	pub.mu.Unlock()
	slices.Sort(lags)
	q50, q99 := lags[len(lags)/2], lags[len(lags)*99/100]
	b.ReportMetric(float64(q50.Microseconds())/1000, "p50-lag-ms")
	b.ReportMetric(float64(q99.Microseconds())/1000, "p99-lag-ms")
}
