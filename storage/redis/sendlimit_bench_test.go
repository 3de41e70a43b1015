package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/internal/benchtest"
	"cardflow/queue"
	"cardflow/storage/redis"
)

// strictPlatform is a chat platform that allows at most limit sends in any
// sliding second and refuses the rest, as a platform's gateway would: it
// counts every refusal, every message sent twice, and when each went out.
type strictPlatform struct {
	limit int

	mu      sync.Mutex
	times   []time.Time // accepted sends, in order
	seen    map[string]int
	refused int
	putOff  int // deliveries the shared limiter put off
	done    chan struct{}
	want    int
}

func (p *strictPlatform) send(id string) error {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	// Sends within the last second, counted from the newest backwards.
	n := 0
	for i := len(p.times) - 1; i >= 0 && now.Sub(p.times[i]) < time.Second; i-- {
		n++
	}
	if n >= p.limit {
		p.refused++
		return queue.RateLimited(errors.New("fake platform: rate limited"), time.Second)
	}
	p.times = append(p.times, now)
	p.seen[id]++
	if len(p.seen) == p.want && p.seen[id] == 1 {
		close(p.done)
	}
	return nil
}

// BenchmarkSharedSendLimit sends 10,000 messages (CARDFLOW_BENCH_SENDS) through the Redis queue
// with two server instances (two queues and two limiters over one Redis)
// to a platform that allows R per second (CARDFLOW_BENCH_RATE, default
// 500), the instances' shared limiter declaring 0.96 R with no burst as
// the headroom a platform's own clock needs. It reports the rate achieved
// over the whole run, its ratio to R, and the platform's refusals, lost and
// duplicated messages, each of which must be zero, and how often a
// message was put off, per message sent (what keeping the backlog cost).
// Each delivery asks for its place in line and then its slot, as the chat
// pipeline does. Run it once:
//
//	go test -run '^$' -bench SharedSendLimit -benchtime 1x ./storage/redis
func BenchmarkSharedSendLimit(b *testing.B) {
	rate := benchtest.Count(b, "CARDFLOW_BENCH_RATE", 500)
	sends := benchtest.Count(b, "CARDFLOW_BENCH_SENDS", 10_000)
	for range b.N {
		p := sendLimited(b, rate, sends)
		p.mu.Lock()
		span := p.times[len(p.times)-1].Sub(p.times[0])
		achieved := float64(len(p.times)-1) / span.Seconds()
		dups := 0
		for _, n := range p.seen {
			dups += n - 1
		}
		lost := sends - len(p.seen)
		p.mu.Unlock()
		b.ReportMetric(achieved, "sends/s")
		b.ReportMetric(achieved/float64(rate), "of_R")
		b.ReportMetric(float64(p.refused), "refused")
		b.ReportMetric(float64(p.putOff)/float64(sends), "put_off/send")
		b.ReportMetric(float64(lost), "lost")
		b.ReportMetric(float64(dups), "duplicated")
		require.Zero(b, p.refused, "the platform refused sends: the shared limiter let too many through")
		require.Zero(b, lost)
		require.Zero(b, dups)
	}
}

func sendLimited(b *testing.B, rate, sends int) *strictPlatform {
	client := newTestClient(b)
	prefix := testPrefix()
	p := &strictPlatform{limit: rate, seen: map[string]int{}, done: make(chan struct{}), want: sends}
	limits := map[string]bot.Limits{"fake": {App: bot.Rate{Count: rate * 96 / 100, Per: time.Second, Burst: 1}}}
	opts := redis.QueueOptions{Prefix: prefix, PollInterval: 5 * time.Millisecond}
	publisher := newTestQueue(b, client, opts)
	msgs := make([]queue.Message, sends)
	for i := range msgs {
		msgs[i] = queue.Message{ID: fmt.Sprintf("m-%05d", i), Key: "k" + strconv.Itoa(i%64)}
	}
	ctx := context.Background()
	for i := 0; i < sends; i += 500 {
		require.NoError(b, publisher.Publish(ctx, "notify", msgs[i:min(i+500, sends)]...))
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	run, stop := context.WithCancel(ctx)
	for range 2 { // two server instances
		q := newTestQueue(b, client, opts)
		l := redis.NewLimiter(client, prefix+"rl:", limits)
		wg.Go(func() {
			err := q.Consume(run, "notify", func(ctx context.Context, m queue.Message) error {
				// As the chat pipeline does: a place in line first, then the
				// slot.
				ok, after, err := bot.Place(ctx, l, "fake:reader", bot.MaxLimitWait, m.Limited > 0)
				if err == nil && ok {
					ok, after, err = bot.Take(ctx, l, "fake:reader", bot.MaxLimitWait)
				}
				if err != nil {
					return err
				}
				if !ok {
					p.mu.Lock()
					p.putOff++
					p.mu.Unlock()
					return queue.RateLimited(errors.New("limit"), after)
				}
				return p.send(m.ID)
			}, queue.ConsumeOptions{Concurrency: 8, BackoffBase: 10 * time.Millisecond, MaxRateLimited: 1_000_000})
			require.NoError(b, err)
		})
	}
	select {
	case <-p.done:
	case <-time.After(time.Duration(3*sends/rate)*time.Second + time.Minute):
		b.Error("not every message was sent in time")
	}
	b.StopTimer()
	stop()
	wg.Wait()
	return p
}
