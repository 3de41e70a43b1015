package stock

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"cardflow/adapters/orders"
	"cardflow/flows"
)

// Alerter fires and resolves alert flows: *flows.Engine.
type Alerter interface {
	Alert(ctx context.Context, ev flows.AlertEvent) ([]flows.Result, error)
}

// Alert events the ledger sends: the trigger of the oversell alert flow
// (configs/flows/oversell_alert.yaml) and the event that resolves it.
const (
	EventOversell = "stock.oversell"
	EventRestored = "stock.restored"
	// EventLow fires when a SKU's sellable stock falls to its low-stock
	// threshold, and resolves (Resolving) when it rises above it again:
	// the trigger of configs/flows/low_stock_alert.yaml.
	EventLow = "stock.low"
	// alertSource is the AlertEvent source, in the audit trail.
	alertSource = "stock"
)

// Platforms the oversell flow's platform field takes (its enum).
var alertPlatforms = []string{"tmall", "jd", "douyin", "pdd", "shopify", "other"}

// Config is the ledger's settings.
type Config struct {
	// Warehouse is where order events reserve and ship, since a shop
	// order does not say which warehouse serves it; "main" when empty.
	Warehouse string
	// Platform is the oversell alert's platform when the movement came
	// from no order or from one whose platform the flow's enum does not
	// list (a WMS count, an ERP's own orders): the flow requires one of
	// tmall, jd, douyin, pdd, shopify; "tmall" when empty.
	Platform string
	// LowStock is the low-stock threshold of each SKU that has one: a
	// stock.low alert (configs/flows/low_stock_alert.yaml) fires when the SKU's sellable stock in a warehouse
	// falls to it or below.
	LowStock map[string]int64
}

// Ledger applies movements to the store and raises the alerts they call
// for. It is safe for concurrent use.
type Ledger struct {
	store  Store
	alerts Alerter
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
}

// NewLedger returns a ledger on store; alerts may be nil (no alerts), now
// nil (time.Now). It fails on a Config it cannot use.
func NewLedger(store Store, alerts Alerter, cfg Config, log *slog.Logger, now func() time.Time) (*Ledger, error) {
	cfg.Warehouse = cmp.Or(cfg.Warehouse, "main")
	cfg.Platform = cmp.Or(cfg.Platform, "tmall")
	if len(cfg.Warehouse) > MaxKeyLen || !Storable(cfg.Warehouse) {
		return nil, fmt.Errorf("stock: warehouse %q: longer than %d bytes, not UTF-8 or holds NUL", clip(cfg.Warehouse), MaxKeyLen)
	}
	if !slices.Contains(alertPlatforms, cfg.Platform) {
		return nil, fmt.Errorf("stock: platform %q: not one of tmall, jd, douyin, pdd, shopify, other", clip(cfg.Platform))
	}
	var errs []error
	for _, sku := range slices.Sorted(maps.Keys(cfg.LowStock)) {
		if th := cfg.LowStock[sku]; th < 0 || th > MaxQty {
			errs = append(errs, fmt.Errorf("stock: low stock of %s: threshold %d is not 0 to %d", clip(sku), th, MaxQty))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Ledger{store: store, alerts: alerts, cfg: cfg, log: log, now: now}, nil
}

// Apply applies one movement (once per source and event id) and then
// fires or resolves its oversell alert. A repeated movement changes no
// stock but is checked for alerts again, against the row as it now
// stands: the first delivery may have been stored and its alert lost, and
// the alert's idempotency key (the movement's) keeps a repeat from
// counting twice. An alert the engine cannot take now is returned as an
// error (the caller retries the movement, a duplicate by then); one it
// refuses for good is logged.
func (l *Ledger) Apply(ctx context.Context, m Movement) (Record, bool, error) {
	rec, now, first, err := l.store.ApplyMovement(ctx, m)
	if err != nil {
		return Record{}, false, fmt.Errorf("stock: apply %s/%s: %w", m.Source, m.EventID, err)
	}
	if err := l.alert(ctx, rec, now); err != nil {
		return rec, first, fmt.Errorf("stock: alert after %s/%s: %w", m.Source, m.EventID, err)
	}
	if now.Sellable() < 0 {
		if err := l.recheck(ctx, rec, now); err != nil {
			return rec, first, fmt.Errorf("stock: alert after %s/%s: %w", m.Source, m.EventID, err)
		}
	}
	return rec, first, nil
}

// recheck resolves the oversell alert just fired when the stock has come
// back meanwhile: alerts are sent after the movements commit, so the
// restock that followed an oversell may have sent its resolving event
// first (finding no alert open to resolve), and the alert fired after it
// would stay open though nothing is oversold. Reading the row again after
// firing closes that window, within a process and across instances.
func (l *Ledger) recheck(ctx context.Context, rec Record, fired Level) error {
	if l.alerts == nil {
		return nil
	}
	levels, err := l.store.StockOf(ctx, fired.SKU)
	if err != nil {
		return err
	}
	for _, lv := range levels {
		if lv.Warehouse != fired.Warehouse || lv.Sellable() < 0 {
			continue
		}
		ev := flows.AlertEvent{Source: alertSource, Event: EventRestored, At: l.now(),
			Form:           map[string]any{"sku": lv.SKU, "warehouse": lv.Warehouse},
			IdempotencyKey: "stock-recheck:" + rec.Source + "/" + rec.EventID}
		if _, err := l.alerts.Alert(ctx, ev); err != nil && retryable(err) {
			return err
		}
	}
	return nil
}

// alert fires the oversell alert when now (the row after rec) is
// oversold, and resolves it when rec brought the row back from an
// oversell; and fires or resolves the low-stock alert when rec crossed the
// SKU's threshold. Every event is sent, then the first failure to retry is
// returned.
func (l *Ledger) alert(ctx context.Context, rec Record, now Level) error {
	if l.alerts == nil {
		return nil
	}
	var retry []error
	for _, ev := range l.alertEvents(rec, now) {
		res, err := l.alerts.Alert(ctx, ev)
		switch {
		case err == nil:
			for _, r := range res {
				l.log.Info("stock alert", "event", ev.Event, "resolving", ev.Resolving, "sku", now.SKU,
					"warehouse", now.Warehouse, "flow", r.Target, "outcome", r.Outcome, "instance", r.InstanceID)
			}
		case retryable(err):
			retry = append(retry, err)
		default:
			l.log.Error("stock alert refused", "event", ev.Event, "sku", now.SKU, "warehouse", now.Warehouse, "err", err)
		}
	}
	return errors.Join(retry...)
}

// alertEvents are the alert events a movement calls for.
func (l *Ledger) alertEvents(rec Record, now Level) []flows.AlertEvent {
	var out []flows.AlertEvent
	key := rec.Source + "/" + rec.EventID
	before := rec.Before().Sellable()
	switch {
	case now.Sellable() < 0:
		platform := orders.Channel(rec.Platform)
		switch {
		case rec.Platform == "":
			platform = l.cfg.Platform // a warehouse count: no shop order
		case !slices.Contains(alertPlatforms, platform):
			platform = "other" // an ERP's order, or another channel's: 其他渠道, not the default shop
		}
		form := map[string]any{"sku": now.SKU, "warehouse": now.Warehouse, "platform": platform,
			"oversold_qty": -now.Sellable()}
		if rec.OrderNo != "" {
			form["order_no"] = rec.OrderNo
		}
		out = append(out, flows.AlertEvent{Source: alertSource, Event: EventOversell, Form: form, At: rec.At,
			IdempotencyKey: "stock:" + key})
	case before < 0:
		out = append(out, flows.AlertEvent{Source: alertSource, Event: EventRestored, At: rec.At,
			Form:           map[string]any{"sku": now.SKU, "warehouse": now.Warehouse},
			IdempotencyKey: "stock-restored:" + key})
	}
	if th, ok := l.cfg.LowStock[now.SKU]; ok {
		form := map[string]any{"sku": now.SKU, "warehouse": now.Warehouse, "sellable": now.Sellable(), "threshold": th}
		switch {
		case before > th && now.Sellable() <= th:
			out = append(out, flows.AlertEvent{Source: alertSource, Event: EventLow, Form: form, At: rec.At,
				IdempotencyKey: "stock-low:" + key})
		case before <= th && now.Sellable() > th:
			out = append(out, flows.AlertEvent{Source: alertSource, Event: EventLow, Form: form, At: rec.At,
				Resolving: true, IdempotencyKey: "stock-low-resolved:" + key})
		}
	}
	return out
}

// retryable says an alert failed for a reason that may pass: the store
// unreachable, the context ending, or anything the engine does not name.
// A refusal it names (a form the flow rejects) will be refused again.
func retryable(err error) bool {
	_, known := flows.Describe(err)
	return !known || errors.Is(err, flows.ErrUnavailable) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded)
}
