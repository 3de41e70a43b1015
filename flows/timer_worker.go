package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// DefaultTimerLease is how long a claimed timer stays with the engine that
// claimed it. An engine that dies after claiming loses nothing: the lease
// runs out and another engine fires the timer.
const DefaultTimerLease = time.Minute

// timerBatch is how many timers one FireDueTimers call of RunTimers claims.
const timerBatch = 100

// WithTimerLease sets how long FireDueTimers leases the timers it claims;
// the default is DefaultTimerLease.
func WithTimerLease(d time.Duration) Option { return func(e *Engine) { e.timers.lease = d } }

// WithTicker injects what RunTimers waits on between rounds; the default is
// a time.Ticker. Tests pass a channel they feed by hand, so a round runs
// exactly when they say.
func WithTicker(tick func(every time.Duration) (c <-chan time.Time, stop func())) Option {
	return func(e *Engine) { e.timers.tick = tick }
}

// WithTimerObserver sets a function RunTimers calls after every round with
// how many timers it fired and the round's error, for metrics and logs (and
// for tests, as the signal that a round is over).
func WithTimerObserver(observe func(fired int, err error)) Option {
	return func(e *Engine) { e.timers.observe = observe }
}

// timerConfig is the timer worker's part of an Engine.
type timerConfig struct {
	lease   time.Duration
	tick    func(time.Duration) (<-chan time.Time, func())
	observe func(int, error)
}

func (c *timerConfig) leaseOr() time.Duration {
	if c.lease <= 0 {
		return DefaultTimerLease
	}
	return c.lease
}

// FireDueTimers claims up to limit timers due now (Store.ClaimTimers,
// leased to holder) and fires each: its effect on the instance, the
// deletion or rescheduling of the timer, the audit rows and the
// notification intents are ONE Change. Each firing carries the idempotency
// key "timer:<id>@<due>", so when a lease ran out while a slow engine was
// still firing and another engine claimed the same timer, only one of them
// commits. A timer whose step has ended since it was written only deletes
// itself.
//
// fired counts the timers settled (fired or dropped); a timer that failed
// keeps its lease and is tried again once it expires, and the errors are
// returned joined.
func (e *Engine) FireDueTimers(ctx context.Context, holder string, limit int) (fired int, err error) {
	timers, err := e.store.ClaimTimers(ctx, e.now(), holder, e.timers.leaseOr(), limit)
	if err != nil {
		return 0, fmt.Errorf("flows: fire timers: %w", err)
	}
	var errs []error
	for _, t := range timers {
		if err := ctx.Err(); err != nil {
			return fired, errors.Join(append(errs, err)...)
		}
		if err := e.fireTimer(ctx, t); err != nil {
			errs = append(errs, err)
			continue
		}
		fired++
	}
	return fired, errors.Join(errs...)
}

// RunTimers fires due timers every interval until ctx is done, and returns
// ctx's error then. A round claims batches until fewer than a full batch
// was due, so a backlog after downtime drains at once. A failed round (the
// store unreachable) is reported to the observer and retried next round.
// Several engines may run it on one store at once; holder names this one
// in the leases (a host name and process id, say).
func (e *Engine) RunTimers(ctx context.Context, holder string, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("flows: run timers: interval must be positive, got %s", every)
	}
	tick := e.timers.tick
	if tick == nil {
		tick = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	c, stop := tick(every)
	defer stop()
	for {
		fired, err := e.timerRound(ctx, holder)
		if e.timers.observe != nil {
			e.timers.observe(fired, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c:
		}
	}
}

// timerRound fires batches until one comes back short.
func (e *Engine) timerRound(ctx context.Context, holder string) (int, error) {
	total := 0
	for {
		n, err := e.FireDueTimers(ctx, holder, timerBatch)
		total += n
		if err != nil || n < timerBatch {
			return total, err
		}
	}
}

// timerKey is the idempotency key of one firing of a timer. A rescheduled
// reminder keeps its id but gets a new due time, so each firing has its own.
func timerKey(t Timer) string {
	return "timer:" + t.ID + "@" + t.DueAt.UTC().Format(time.RFC3339Nano)
}

// fireTimer applies one timer as an operation by SystemActor.
func (e *Engine) fireTimer(ctx context.Context, t Timer) error {
	_, err := e.mutate(ctx, "timer", timerKey(t), t.ID, nil, func(ctx context.Context) (*Change, Result, error) {
		// Read from the store, never from a cache: a timer found stale on
		// an old copy of its instance would be deleted for good.
		inst, err := e.store.Instance(ctx, t.InstanceID)
		if errors.Is(err, ErrNotFound) {
			return dropTimer(t), Result{InstanceID: t.InstanceID, Outcome: "stale"}, nil
		}
		if err != nil {
			return nil, Result{}, fmt.Errorf("instance %s: %w", t.InstanceID, err)
		}
		r, err := e.loaded(ctx, inst, SystemActor)
		if err != nil {
			return nil, Result{}, err
		}
		fire, ok := timerKinds[t.Kind]
		if !ok {
			return nil, Result{}, fmt.Errorf("timer %s: unknown kind %q: %w", t.ID, t.Kind, ErrNotSupported)
		}
		acted, err := fire(r, t)
		if errors.Is(err, errSuperseded) {
			return nil, Result{InstanceID: t.InstanceID, Status: r.inst.Status, Version: r.inst.Version, Outcome: "superseded"}, nil
		}
		if err != nil {
			return nil, Result{}, fmt.Errorf("timer %s: %w", t.ID, err)
		}
		if !acted {
			return dropTimer(t), Result{InstanceID: t.InstanceID, Status: r.inst.Status, Version: r.inst.Version, Outcome: "stale"}, nil
		}
		// A timer that fired and was not written again is done.
		if !slices.ContainsFunc(r.timers, func(x Timer) bool { return x.ID == t.ID }) && !slices.Contains(r.cancelled, t.ID) {
			r.cancelled = append(r.cancelled, t.ID)
		}
		return r.build("", t.Kind)
	})
	return err
}

// dropTimer is the change of a timer that has nothing left to do. It
// carries no instance: deleting a timer needs no version check, and a stale
// timer's id is never written again (activation numbers are not reused).
func dropTimer(t Timer) *Change { return &Change{CancelTimers: []string{t.ID}} }

// timerKinds maps a timer kind to what firing it does on the run. A fire
// function reports false when the timer is stale (its step or alert has
// ended), and then the timer is only deleted.
var timerKinds = map[string]func(r *run, t Timer) (bool, error){
	TimerRemind:        (*run).fireRemind,
	TimerEscalate:      (*run).fireEscalate,
	TimerAutoAction:    (*run).fireAutoAction,
	TimerAlertGroup:    (*run).fireAlertGroup,
	TimerAlertRepeat:   (*run).fireAlertRepeat,
	TimerAlertEscalate: (*run).fireAlertEscalate,
	TimerAlertWake:     (*run).fireAlertWake,
}
