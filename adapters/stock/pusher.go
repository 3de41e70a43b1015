package stock

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"cardflow/flows"
)

// Alert events of the push: the trigger of the push alert flow
// (configs/flows/stock_push_alert.yaml), fired once per target and outage
// after PushOptions.AlertAfter consecutive failures, and the event that
// resolves it when the target takes a push again.
const (
	EventPushFailing   = "stock.push_failing"
	EventPushRecovered = "stock.push_recovered"
)

// HeaderIdempotencyKey carries "target/sku/version" (each part
// path-escaped) on every push: the same key is the same push, however often
// it is retried.
const HeaderIdempotencyKey = "Idempotency-Key"

// PushOptions are a pusher's settings; zero values take the defaults.
type PushOptions struct {
	// AlertAfter is how many consecutive failed deliveries to a target
	// start its alert; 5 when zero.
	AlertAfter int
	// Interval is how often Run looks for due pushes; 2s when zero.
	Interval time.Duration
	// Timeout bounds one request; 10s when zero.
	Timeout time.Duration
	// Batch is how many rows of a target one round claims; 20 when zero.
	Batch int
	// MinBackoff and MaxBackoff bound the wait after a failure, doubled
	// per attempt and jittered; 2s and 10m when zero. A Retry-After is
	// honoured up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Alerts fires and resolves the push alert; nil for none.
	Alerts Alerter
	// Client sends the pushes; a client of its own when nil.
	Client *http.Client
}

// Pusher tells push targets the sellable quantity of each SKU that
// changed, from the store's outbox: a failed push is retried with backoff
// until it is delivered, never dropped. Several pushers (one per instance)
// may share a store: a row is claimed by one at a time.
type Pusher struct {
	store   PushStore
	targets []PushTarget
	opts    PushOptions
	log     *slog.Logger
	now     func() time.Time

	mu sync.Mutex
	// alerted is the outage (its Since) each target's alert was started
	// for; resolve holds resolutions the engine has not taken yet.
	alerted map[string]time.Time
	resolve map[string]time.Time
}

// NewPusher returns a pusher of targets on store; now nil is time.Now.
func NewPusher(store PushStore, targets []PushTarget, opts PushOptions, log *slog.Logger, now func() time.Time) *Pusher {
	opts.AlertAfter = cmp.Or(opts.AlertAfter, 5)
	opts.Interval = cmp.Or(opts.Interval, 2*time.Second)
	opts.Timeout = cmp.Or(opts.Timeout, 10*time.Second)
	opts.Batch = cmp.Or(opts.Batch, 20)
	opts.MinBackoff = cmp.Or(opts.MinBackoff, 2*time.Second)
	opts.MaxBackoff = cmp.Or(opts.MaxBackoff, 10*time.Minute)
	if opts.Client == nil {
		// A redirect is answered as a failure: the push and its signature
		// go only where the configuration says.
		opts.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if now == nil {
		now = time.Now
	}
	return &Pusher{store: store, targets: targets, opts: opts, log: log, now: now,
		alerted: map[string]time.Time{}, resolve: map[string]time.Time{}}
}

// Register records the pusher's targets in the store (see
// PushStore.RegisterPushTargets); Run calls it first.
func (p *Pusher) Register(ctx context.Context) error {
	names := make([]string, len(p.targets))
	for i, t := range p.targets {
		names[i] = t.Name
	}
	if err := p.store.RegisterPushTargets(ctx, names); err != nil {
		return fmt.Errorf("stock push: register targets: %w", err)
	}
	return nil
}

// Run registers the targets and pushes until ctx ends: a round every
// Interval, and the next one at once while a round fills a batch.
func (p *Pusher) Run(ctx context.Context) error {
	for {
		err := p.Register(ctx)
		if err == nil {
			break
		}
		p.log.Error("stock push: targets not registered", "err", err)
		if !wait(ctx, p.opts.Interval) {
			return ctx.Err()
		}
	}
	for {
		n, err := p.PushOnce(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Error("stock push round failed", "err", err)
		}
		if n < p.opts.Batch || err != nil {
			if !wait(ctx, p.opts.Interval) {
				return ctx.Err()
			}
		}
	}
}

// wait waits d or until ctx ends, reporting whether to go on.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// PushOnce runs one round: for each target, claims up to Batch due rows
// and pushes them one by one; after a target's first failure the rest of
// its batch waits for the same retry. It returns how many rows it
// delivered, and the store's failures (a failed delivery is not an error
// of the round: it is retried).
func (p *Pusher) PushOnce(ctx context.Context) (int, error) {
	p.retryResolutions(ctx)
	delivered := 0
	var errs []error
	for _, t := range p.targets {
		n, err := p.pushTarget(ctx, t)
		delivered += n
		if err != nil {
			errs = append(errs, fmt.Errorf("stock push to %s: %w", t.Name, err))
		}
	}
	return delivered, errors.Join(errs...)
}

// pushTarget runs one round for one target.
func (p *Pusher) pushTarget(ctx context.Context, t PushTarget) (int, error) {
	now := p.now()
	token := newToken()
	rows, err := p.store.ClaimPushes(ctx, ClaimPushParams{Target: t.Name, Token: token, Now: now,
		Lease: time.Duration(p.opts.Batch+1) * p.opts.Timeout, Limit: p.opts.Batch})
	if err != nil {
		return 0, err
	}
	delivered := 0
	for i, row := range rows {
		retryAfter, err := p.send(ctx, t, row)
		if err == nil {
			pending, err := p.store.CompletePush(ctx, CompletePushParams{Target: t.Name, SKU: row.SKU,
				Version: row.Version, Token: token, Now: p.now()})
			if err != nil {
				return delivered, errors.Join(err, p.putBack(ctx, t, token, rows[i+1:], p.now()))
			}
			delivered++
			if pending {
				p.log.Debug("stock push: changed while pushed, pushing again", "target", t.Name, "sku", row.SKU)
			}
			if i == 0 {
				if err := p.recovered(ctx, t.Name); err != nil {
					return delivered, errors.Join(err, p.putBack(ctx, t, token, rows[i+1:], p.now()))
				}
			}
			continue
		}
		if ctx.Err() != nil {
			// Shutting down: not the receiver's failure. The rows go back
			// due now rather than waiting out their lease.
			release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return delivered, errors.Join(ctx.Err(), p.putBack(release, t, token, rows[i:], p.now()))
		}
		// The first failure holds the rest of the batch too: the receiver
		// is likely down, and each would wait out its own timeout.
		now := p.now()
		next := now.Add(max(retryAfter, p.backoff(row.Attempts+1)))
		errs := []error{p.store.RetryPush(ctx, RetryPushParams{Target: t.Name, SKU: row.SKU, Token: token,
			Attempts: row.Attempts + 1, NextAt: next})}
		for _, rest := range rows[i+1:] {
			errs = append(errs, p.store.RetryPush(ctx, RetryPushParams{Target: t.Name, SKU: rest.SKU, Token: token,
				Attempts: rest.Attempts, NextAt: next}))
		}
		errs = append(errs, p.failed(ctx, t.Name, now, row.Attempts+1, next, err))
		return delivered, errors.Join(errs...)
	}
	return delivered, nil
}

// putBack releases claimed rows not pushed yet, due at once.
func (p *Pusher) putBack(ctx context.Context, t PushTarget, token string, rows []Push, now time.Time) error {
	var errs []error
	for _, r := range rows {
		errs = append(errs, p.store.RetryPush(ctx, RetryPushParams{Target: t.Name, SKU: r.SKU, Token: token,
			Attempts: r.Attempts, NextAt: now}))
	}
	return errors.Join(errs...)
}

// backoff is the wait before attempt n+1 after n failures: MinBackoff
// doubled per failure, at most MaxBackoff, jittered down to half of it so
// that instances and SKUs spread out.
func (p *Pusher) backoff(failures int) time.Duration {
	d := p.opts.MaxBackoff
	if shift := failures - 1; shift < 30 {
		d = min(p.opts.MinBackoff<<shift, p.opts.MaxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// failed counts a failed delivery to the target and starts its alert when
// the outage reaches AlertAfter failures (once per outage: the alert's
// idempotency key is the outage's).
func (p *Pusher) failed(ctx context.Context, target string, now time.Time, attempts int, next time.Time, cause error) error {
	var he *httpError
	level := slog.LevelWarn
	if errors.As(cause, &he) && he.status >= 400 && he.status < 500 && he.status != http.StatusRequestTimeout &&
		he.status != http.StatusTooManyRequests {
		level = slog.LevelError // the receiver refuses it; retried all the same, never dropped
	}
	p.log.Log(ctx, level, "stock push failed, retrying", "target", target, "attempts", attempts,
		"next_at", next, "err", cause)
	o, err := p.store.PushTargetFailed(ctx, target, now)
	if err != nil || o.Failures < p.opts.AlertAfter || p.opts.Alerts == nil {
		return err
	}
	p.mu.Lock()
	done := p.alerted[target].Equal(o.Since)
	p.mu.Unlock()
	if done {
		return nil
	}
	ev := flows.AlertEvent{Source: alertSource, Event: EventPushFailing, At: now,
		Form:           map[string]any{"target": target, "failures": o.Failures},
		IdempotencyKey: "stock-push-failing:" + target + "/" + strconv.FormatInt(o.Since.UnixMicro(), 10)}
	if _, err := p.opts.Alerts.Alert(ctx, ev); err != nil {
		if retryable(err) {
			return fmt.Errorf("alert: %w", err) // tried again at the next failure
		}
		p.log.Error("stock push alert refused", "target", target, "err", err)
	}
	p.mu.Lock()
	p.alerted[target] = o.Since
	p.mu.Unlock()
	return nil
}

// recovered ends the target's outage after a delivery and resolves its
// alert if one was started. A resolution the engine cannot take now is
// kept and retried at the start of each round.
func (p *Pusher) recovered(ctx context.Context, target string) error {
	o, err := p.store.PushTargetRecovered(ctx, target)
	if err != nil {
		return err
	}
	if o.Failures == 0 {
		return nil
	}
	p.log.Info("stock push target recovered", "target", target, "failures", o.Failures, "since", o.Since)
	if o.Failures < p.opts.AlertAfter || p.opts.Alerts == nil {
		return nil
	}
	p.mu.Lock()
	p.resolve[target] = o.Since
	delete(p.alerted, target)
	p.mu.Unlock()
	p.retryResolutions(ctx)
	return nil
}

// retryResolutions sends the resolutions still owed to the engine.
func (p *Pusher) retryResolutions(ctx context.Context) {
	p.mu.Lock()
	owed := make(map[string]time.Time, len(p.resolve))
	for k, v := range p.resolve {
		owed[k] = v
	}
	p.mu.Unlock()
	for target, since := range owed {
		ev := flows.AlertEvent{Source: alertSource, Event: EventPushRecovered, Resolving: true, At: p.now(),
			Form:           map[string]any{"target": target},
			IdempotencyKey: "stock-push-recovered:" + target + "/" + strconv.FormatInt(since.UnixMicro(), 10)}
		_, err := p.opts.Alerts.Alert(ctx, ev)
		if err != nil && retryable(err) {
			p.log.Warn("stock push alert not resolved yet", "target", target, "err", err)
			continue
		}
		if err != nil {
			p.log.Error("stock push alert resolution refused", "target", target, "err", err)
		}
		p.mu.Lock()
		if p.resolve[target].Equal(since) {
			delete(p.resolve, target)
		}
		p.mu.Unlock()
	}
}
