// Package outbox moves committed outbox messages from the flow store to the
// queue. The store writes them in the same transaction as the state change
// that caused them; the Relay publishes them afterwards, in commit order, and
// marks them sent. A crash between publish and mark republishes the same
// messages with the same keys, and the queue's consumers drop the copies, so
// delivery is at-least-once and acting is once.
package outbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"cardflow/flows"
	"cardflow/queue"
)

// Source is the part of the flow store the relay reads and marks.
type Source interface {
	PendingOutbox(ctx context.Context, limit int) ([]flows.OutboxMessage, error)
	MarkOutboxSent(ctx context.Context, seqs []int64) error
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Publisher is the part of the queue the relay writes to.
type Publisher interface {
	Publish(ctx context.Context, topic string, msgs ...queue.Message) error
}

// LeaseName is the store lease that makes one relay active across instances,
// which is what keeps messages in commit order.
const LeaseName = "outbox-relay"

// Options tune a Relay. Zero values take the defaults.
type Options struct {
	Holder       string        // lease holder name; default a random one
	PollInterval time.Duration // default 50ms
	BatchSize    int           // default 256
	LeaseTTL     time.Duration // default 10s; renewed at half-life
	MaxBackoff   time.Duration // cap on the wait after a failure; default 5s
	Logger       *slog.Logger
	Registerer   prometheus.Registerer // optional
	Now          func() time.Time
}

// Relay publishes committed outbox messages to the queue.
type Relay struct {
	src  Source
	pub  Publisher
	opts Options
	wake chan struct{}

	leaseUntil time.Time // when our lease runs out; zero when not held
	lag        prometheus.Histogram
	published  prometheus.Counter
	failures   prometheus.Counter
}

// NewRelay returns a relay from src to pub; call Run to start it.
func NewRelay(src Source, pub Publisher, opts Options) *Relay {
	if opts.Holder == "" {
		opts.Holder = "relay-" + rand.Text() // unique is all a lease needs
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 50 * time.Millisecond
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 256
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 10 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Relay{
		src:  src,
		pub:  pub,
		opts: opts,
		wake: make(chan struct{}, 1),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cardflow_outbox_relay_lag_seconds",
			Help:    "Time from an outbox message's commit to its publication on the queue.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30},
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cardflow_outbox_published_total",
			Help: "Outbox messages published to the queue (republished copies included).",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cardflow_outbox_relay_failures_total",
			Help: "Relay passes that failed to read, publish or mark.",
		}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(r.lag, r.published, r.failures)
	}
	return r
}

// Wake asks the relay to run a pass now rather than at the next poll; the
// engine calls it after a commit that wrote outbox messages. A relay backing
// off after a failure, or not holding the lease, ignores it until its wait
// is over.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx is cancelled, then gives up its lease and returns nil.
// Failures are logged and retried with capped backoff; they never stop it.
func (r *Relay) Run(ctx context.Context) error {
	backoff := time.Duration(0)
	for {
		n, err := r.Pass(ctx)
		switch {
		case ctx.Err() != nil:
			r.release()
			return nil
		case err != nil:
			r.failures.Inc()
			backoff = min(max(2*backoff, r.opts.PollInterval), r.opts.MaxBackoff)
			r.opts.Logger.Warn("outbox relay pass failed", "err", err, "retry_in", backoff)
		default:
			backoff = 0
		}
		if n >= r.opts.BatchSize && err == nil {
			continue // a full batch: more is likely waiting
		}
		wait, wake := r.opts.PollInterval, r.wake
		if backoff > 0 || r.leaseUntil.IsZero() {
			// A commit does not mend a failing queue or store, and a relay
			// without the lease can do nothing but try to take it: either
			// way a wake would only start a pass early, one per commit under
			// load. Such a relay waits out its backoff or poll instead.
			wake = nil
		}
		if backoff > 0 {
			wait = backoff
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			r.release()
			return nil
		case <-wake:
			timer.Stop()
		case <-timer.C:
			// The pass about to start reads everything committed so far, so
			// a wake that came while waiting is answered by it.
			select {
			case <-r.wake:
			default:
			}
		}
	}
}

// Pass relays one batch if this relay holds (or can take) the lease. It
// returns how many messages it published and marked. Messages are published
// in Seq order; at the first failure it stops, marks what went out before it,
// and leaves the rest for the next pass, so no message overtakes an earlier
// one of the same instance.
func (r *Relay) Pass(ctx context.Context) (int, error) {
	held, err := r.holdLease(ctx)
	if err != nil || !held {
		return 0, err
	}
	msgs, err := r.src.PendingOutbox(ctx, r.opts.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("outbox: read pending: %w", err)
	}
	sent := make([]int64, 0, len(msgs))
	var pubErr error
	for start := 0; start < len(msgs); {
		end := start + 1
		for end < len(msgs) && msgs[end].Topic == msgs[start].Topic {
			end++
		}
		if pubErr = r.publish(ctx, msgs[start:end]); pubErr != nil {
			break
		}
		for _, m := range msgs[start:end] {
			sent = append(sent, m.Seq)
		}
		start = end
	}
	if len(sent) > 0 {
		if err := r.src.MarkOutboxSent(ctx, sent); err != nil {
			// Published but not marked: the next pass republishes them with
			// the same keys, and consumers drop the copies.
			return 0, errors.Join(pubErr, fmt.Errorf("outbox: mark %d sent: %w", len(sent), err))
		}
	}
	return len(sent), pubErr
}

func (r *Relay) publish(ctx context.Context, msgs []flows.OutboxMessage) error {
	out := make([]queue.Message, len(msgs))
	for i, m := range msgs {
		out[i] = queue.Message{ID: m.Key, Key: m.InstanceID, Payload: m.Payload}
	}
	if err := r.pub.Publish(ctx, msgs[0].Topic, out...); err != nil {
		return fmt.Errorf("outbox: publish %d to %q: %w", len(msgs), msgs[0].Topic, err)
	}
	now := r.opts.Now()
	for _, m := range msgs {
		r.lag.Observe(now.Sub(m.CreatedAt).Seconds())
	}
	r.published.Add(float64(len(msgs)))
	return nil
}

// holdLease renews the lease once half of it has run out, so a busy relay
// writes the lease a few times per TTL rather than once per pass.
func (r *Relay) holdLease(ctx context.Context) (bool, error) {
	now := r.opts.Now()
	if !r.leaseUntil.IsZero() && now.Before(r.leaseUntil.Add(-r.opts.LeaseTTL/2)) {
		return true, nil
	}
	ok, err := r.src.AcquireLease(ctx, LeaseName, r.opts.Holder, now, r.opts.LeaseTTL)
	if err != nil {
		r.leaseUntil = time.Time{}
		return false, fmt.Errorf("outbox: acquire lease: %w", err)
	}
	if !ok {
		r.leaseUntil = time.Time{}
		return false, nil
	}
	r.leaseUntil = now.Add(r.opts.LeaseTTL)
	return true, nil
}

func (r *Relay) release() {
	if r.leaseUntil.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.src.ReleaseLease(ctx, LeaseName, r.opts.Holder); err != nil {
		r.opts.Logger.Warn("outbox relay: release lease", "err", err)
	}
	r.leaseUntil = time.Time{}
}
