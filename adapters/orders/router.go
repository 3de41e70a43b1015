package orders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cardflow/flows"
)

// Starter starts flows: *flows.Engine.
type Starter interface {
	Start(ctx context.Context, req flows.StartRequest) (flows.Result, error)
}

// Router starts the flows stored order events call for. Events are stored
// first (the webhook answers once they are), then routed here, so an event
// survives a crash between the two: at start-up the router finds it
// unrouted and routes it. Every instance runs a router; a start is keyed by
// its event, so two routers on one event start its flows once.
type Router struct {
	store  Store
	rules  *Rules
	engine Starter
	log    *slog.Logger
	now    func() time.Time
	wake   chan struct{}
	// listeners are told every event before it is marked routed (the stock
	// ledger's reservations).
	listeners []func(ctx context.Context, se StoredEvent) error
}

// NewRouter returns a router of rules; now may be nil.
func NewRouter(store Store, rules *Rules, engine Starter, log *slog.Logger, now func() time.Time) *Router {
	if now == nil {
		now = time.Now
	}
	return &Router{store: store, rules: rules, engine: engine, log: log, now: now, wake: make(chan struct{}, 1)}
}

// Listen adds fn to what every stored event is handed to before it is
// marked routed: an error leaves the event unrouted, and it is handed over
// again in a later round, so fn must be idempotent per event. Call it
// before Run.
func (r *Router) Listen(fn func(ctx context.Context, se StoredEvent) error) {
	r.listeners = append(r.listeners, fn)
}

// Wake makes the router look for events at once.
func (r *Router) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// routeBatch is how many events one round routes at most.
const routeBatch = 100

// Run routes events until ctx ends: when woken, and every interval in
// case another instance stored them.
func (r *Router) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := r.RouteOnce(ctx)
			if err != nil && ctx.Err() == nil {
				r.log.Warn("order routing paused", "err", err)
			}
			if err != nil || n < routeBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-t.C:
		}
	}
}

// RouteOnce routes up to one batch of unrouted events and reports how many
// it took. A start refused for good (a form the flow rejects, a flow
// removed) is logged as an error and the event is marked routed, so it
// does not block the ones after it; any other failure stops the round,
// leaving the event unrouted for the next one.
func (r *Router) RouteOnce(ctx context.Context) (int, error) {
	events, err := r.store.UnroutedOrderEvents(ctx, routeBatch)
	if err != nil {
		return 0, err
	}
	for i, se := range events {
		for _, fn := range r.listeners {
			if err := fn(ctx, se); err != nil {
				return i, fmt.Errorf("orders: event %s/%s: %w", se.Source, se.Event.ID, err)
			}
		}
		starts, ruleErr := r.rules.Starts(se)
		if ruleErr != nil {
			r.log.Error("order rule failed on an event", "source", se.Source, "event", se.Event.ID, "err", ruleErr)
		}
		for _, req := range starts {
			res, err := r.engine.Start(ctx, req)
			switch {
			case err == nil:
				r.log.Info("order event started a flow", "source", se.Source, "event", se.Event.ID,
					"flow", req.FlowID, "instance", res.InstanceID)
				// The start is keyed by the event and the link is kept
				// once, so a round that fails here starts and links again
				// without a second instance.
				link := InstanceLink{Platform: se.Order.Platform, Shop: se.Order.Shop, No: se.Order.No,
					InstanceID: res.InstanceID, FlowID: req.FlowID, StartedAt: r.now()}
				if err := r.store.LinkOrderInstance(ctx, link); errors.Is(err, ErrInvalid) {
					r.log.Error("order event's instance not linked to its order", "source", se.Source,
						"event", se.Event.ID, "instance", res.InstanceID, "err", err)
				} else if err != nil {
					return i, fmt.Errorf("orders: event %s/%s: %w", se.Source, se.Event.ID, err)
				}
			case errors.Is(err, flows.ErrKeyReused):
				// Started for this order before, with what the order said
				// then (an amount corrected since): one flow per order.
				r.log.Info("order event's flow was started for this order before", "source", se.Source,
					"event", se.Event.ID, "flow", req.FlowID)
			case isRetryable(err):
				return i, err
			default:
				r.log.Error("order event could not start its flow", "source", se.Source, "event", se.Event.ID,
					"flow", req.FlowID, "err", err)
			}
		}
		if err := r.store.MarkOrderEventRouted(ctx, se.Source, se.Event.ID, r.now()); err != nil {
			return i, err
		}
	}
	return len(events), nil
}

// isRetryable says a start failed for a reason that may pass: the store
// unreachable, the context ending, or anything the engine does not name.
// A refusal the engine names (a form the flow rejects, no such flow) will
// be refused again, however often it is retried.
func isRetryable(err error) bool {
	_, known := flows.Describe(err)
	return !known || errors.Is(err, flows.ErrUnavailable) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded)
}
