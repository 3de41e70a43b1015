package outbox

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/queue"
)

// memSource is an in-memory Source with fault injection; the real stores are
// exercised against the relay in integration_test.go.
type memSource struct {
	mu       sync.Mutex
	msgs     []flows.OutboxMessage
	sent     map[int64]bool
	holder   string
	until    time.Time
	failMark int           // fail this many MarkOutboxSent calls
	onRead   chan struct{} // signalled after each PendingOutbox
}

func newMemSource(msgs ...flows.OutboxMessage) *memSource {
	return &memSource{msgs: msgs, sent: map[int64]bool{}}
}

func (s *memSource) PendingOutbox(_ context.Context, limit int) ([]flows.OutboxMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []flows.OutboxMessage
	for _, m := range s.msgs {
		if !s.sent[m.Seq] && len(out) < limit {
			out = append(out, m)
		}
	}
	if s.onRead != nil {
		select {
		case s.onRead <- struct{}{}:
		default:
		}
	}
	return out, nil
}

func (s *memSource) MarkOutboxSent(_ context.Context, seqs []int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failMark > 0 {
		s.failMark--
		return errors.New("database went away")
	}
	for _, q := range seqs {
		s.sent[q] = true
	}
	return nil
}

func (s *memSource) AcquireLease(_ context.Context, _, holder string, now time.Time, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holder != "" && s.holder != holder && now.Before(s.until) {
		return false, nil
	}
	s.holder, s.until = holder, now.Add(ttl)
	return true, nil
}

func (s *memSource) ReleaseLease(_ context.Context, _, holder string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holder == holder {
		s.holder = ""
	}
	return nil
}

func (s *memSource) unsent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs) - len(s.sent)
}

type published struct {
	topic string
	msg   queue.Message
}

// recPublisher records what was published and can fail on one topic.
type recPublisher struct {
	mu      sync.Mutex
	got     []published
	failOn  string
	signal  chan struct{}
	perCall int
}

func (p *recPublisher) Publish(_ context.Context, topic string, msgs ...queue.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if topic == p.failOn {
		return errors.New("redis: connection refused")
	}
	for _, m := range msgs {
		p.got = append(p.got, published{topic, m})
	}
	p.perCall++
	if p.signal != nil {
		select {
		case p.signal <- struct{}{}:
		default:
		}
	}
	return nil
}

func (p *recPublisher) keys() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, g := range p.got {
		out = append(out, g.topic+":"+g.msg.ID)
	}
	return out
}

func msg(seq int64, topic, instance string) flows.OutboxMessage {
	return flows.OutboxMessage{
		Seq: seq, Key: "k" + string(rune('0'+seq)), InstanceID: instance, Topic: topic,
		Payload: []byte(`{}`), CreatedAt: time.Unix(1000, 0),
	}
}

func TestPassPublishesInCommitOrderAndMarks(t *testing.T) {
	t.Parallel()
	src := newMemSource(msg(1, "notify", "i1"), msg(2, "notify", "i2"), msg(3, "events", "i1"), msg(4, "notify", "i1"))
	pub := &recPublisher{}
	r := NewRelay(src, pub, Options{Holder: "a"})

	n, err := r.Pass(t.Context())
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.Equal(t, []string{"notify:k1", "notify:k2", "events:k3", "notify:k4"}, pub.keys())
	require.Equal(t, 3, pub.perCall, "consecutive messages of one topic go out in one publish")
	require.Equal(t, "i1", pub.got[0].msg.Key, "the instance id travels as the message key")
	require.Zero(t, src.unsent())

	n, err = r.Pass(t.Context())
	require.NoError(t, err)
	require.Zero(t, n, "nothing is published twice once marked")
}

func TestPassStopsAtFirstFailureSoNothingOvertakes(t *testing.T) {
	t.Parallel()
	src := newMemSource(msg(1, "notify", "i1"), msg(2, "events", "i1"), msg(3, "notify", "i1"))
	pub := &recPublisher{failOn: "events"}
	r := NewRelay(src, pub, Options{Holder: "a"})

	n, err := r.Pass(t.Context())
	require.Error(t, err)
	require.ErrorContains(t, err, `publish 1 to "events"`)
	require.Equal(t, 1, n)
	require.Equal(t, []string{"notify:k1"}, pub.keys(), "message 3 must not overtake the failed message 2")
	require.Equal(t, 2, src.unsent())

	pub.mu.Lock()
	pub.failOn = ""
	pub.mu.Unlock()
	n, err = r.Pass(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []string{"notify:k1", "events:k2", "notify:k3"}, pub.keys())
}

func TestCrashBetweenPublishAndMarkRepublishesSameKeys(t *testing.T) {
	t.Parallel()
	src := newMemSource(msg(1, "notify", "i1"), msg(2, "notify", "i1"))
	src.failMark = 1
	pub := &recPublisher{}
	r := NewRelay(src, pub, Options{Holder: "a"})

	_, err := r.Pass(t.Context())
	require.ErrorContains(t, err, "mark 2 sent")
	require.Equal(t, 2, src.unsent(), "an unmarked message stays pending: nothing is lost")

	_, err = r.Pass(t.Context())
	require.NoError(t, err)
	require.Equal(t, []string{"notify:k1", "notify:k2", "notify:k1", "notify:k2"}, pub.keys(),
		"the copy carries the same idempotency key, so the consumer drops it")
	require.Zero(t, src.unsent())
}

func TestOnlyTheLeaseHolderRelays(t *testing.T) {
	t.Parallel()
	src := newMemSource(msg(1, "notify", "i1"))
	clock := time.Unix(5000, 0)
	now := func() time.Time { return clock }
	pubA, pubB := &recPublisher{}, &recPublisher{}
	a := NewRelay(src, pubA, Options{Holder: "a", LeaseTTL: 10 * time.Second, Now: now})
	b := NewRelay(src, pubB, Options{Holder: "b", LeaseTTL: 10 * time.Second, Now: now})

	_, err := a.Pass(t.Context())
	require.NoError(t, err)
	src.mu.Lock()
	src.msgs = append(src.msgs, msg(2, "notify", "i1"))
	src.mu.Unlock()

	n, err := b.Pass(t.Context())
	require.NoError(t, err)
	require.Zero(t, n, "b must wait while a holds the lease")
	require.Empty(t, pubB.keys())

	clock = clock.Add(11 * time.Second) // a's lease expires without renewal
	n, err = b.Pass(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, []string{"notify:k2"}, pubB.keys())
}

func TestRunWakesOnSignalAndReleasesLeaseOnStop(t *testing.T) {
	t.Parallel()
	src := newMemSource()
	src.onRead = make(chan struct{}, 1)
	pub := &recPublisher{signal: make(chan struct{}, 1)}
	r := NewRelay(src, pub, Options{Holder: "a", PollInterval: time.Hour})

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-src.onRead // the first pass found nothing; the relay now waits an hour

	src.mu.Lock()
	src.msgs = append(src.msgs, msg(1, "notify", "i1"))
	src.mu.Unlock()
	r.Wake() // with an hour-long poll, only the wake can deliver it in time
	select {
	case <-pub.signal:
	case <-time.After(10 * time.Second):
		t.Fatal("relay did not run a pass after Wake")
	}
	cancel()
	require.NoError(t, <-done)
	src.mu.Lock()
	defer src.mu.Unlock()
	require.Empty(t, src.holder, "a stopped relay gives its lease up for the next instance")
	require.True(t, slices.Equal([]string{"notify:k1"}, pub.keys()))
}

// countingSource counts passes: every pass that holds the lease reads the
// pending messages once.
type countingSource struct {
	*memSource
	reads atomic.Int64
}

func (s *countingSource) PendingOutbox(ctx context.Context, limit int) ([]flows.OutboxMessage, error) {
	s.reads.Add(1)
	return s.memSource.PendingOutbox(ctx, limit)
}

// TestWakeDoesNotCutBackoffShort is the regression test for a relay that,
// with the queue down under load, ran a pass on every commit's wake instead
// of waiting out its backoff. Time is synctest's: the waits are exact.
func TestWakeDoesNotCutBackoffShort(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &countingSource{memSource: newMemSource(msg(1, "notify", "i1"))}
		pub := &recPublisher{failOn: "notify"}
		r := NewRelay(src, pub, Options{Holder: "a", PollInterval: 50 * time.Millisecond, MaxBackoff: 5 * time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()

		// Ten seconds of commits, one every 10ms, each waking the relay.
		start := time.Now()
		for time.Since(start) < 10*time.Second {
			r.Wake()
			time.Sleep(10 * time.Millisecond)
		}
		// Passes start at 0, then after backoffs of 50ms, 100ms, 200ms, ...
		// capped at 5s: at 0, 0.05, 0.15, 0.35, 0.75, 1.55, 3.15 and 6.35s
		// (the next is due at 11.35s). Before the fix there was one per wake.
		synctest.Wait()
		require.Equal(t, int64(8), src.reads.Load(), "passes in 10s of failures")

		// The queue comes back: the next backoff's pass succeeds, and from
		// then on a wake starts a pass at once again.
		pub.mu.Lock()
		pub.failOn = ""
		pub.mu.Unlock()
		time.Sleep(1350 * time.Millisecond) // to the pass due at 11.35s
		synctest.Wait()
		require.Equal(t, int64(9), src.reads.Load())
		require.Zero(t, src.unsent())
		src.mu.Lock()
		src.msgs = append(src.msgs, msg(2, "notify", "i1"))
		src.mu.Unlock()
		r.Wake()
		synctest.Wait() // no time passes: only the wake can have run this pass
		require.Equal(t, int64(10), src.reads.Load())
		require.Zero(t, src.unsent())

		cancel()
		require.NoError(t, <-done)
	})
}

// TestRelayWithoutLeaseIgnoresWakes checks that an instance whose relay
// lost the lease to another does not turn each of its commits into a lease
// attempt: it tries again at its poll interval only.
func TestRelayWithoutLeaseIgnoresWakes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &leaseCounter{memSource: newMemSource()}
		src.holder, src.until = "other", time.Now().Add(time.Hour)
		r := NewRelay(src, &recPublisher{}, Options{Holder: "a", PollInterval: time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()

		start := time.Now()
		for time.Since(start) < 5*time.Second {
			r.Wake()
			time.Sleep(10 * time.Millisecond)
		}
		synctest.Wait()
		require.Equal(t, int64(6), src.attempts.Load(), "attempts at 0s, 1s, ..., 5s: one per poll")
		cancel()
		require.NoError(t, <-done)
	})
}

// leaseCounter counts lease attempts.
type leaseCounter struct {
	*memSource
	attempts atomic.Int64
}

func (s *leaseCounter) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	s.attempts.Add(1)
	return s.memSource.AcquireLease(ctx, name, holder, now, ttl)
}
