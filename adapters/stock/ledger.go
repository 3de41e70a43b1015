package stock

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

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
	// alertSource is the AlertEvent source, in the audit trail.
	alertSource = "stock"
)

// Platforms the oversell flow's platform field takes (its enum).
var alertPlatforms = []string{"tmall", "jd", "douyin", "pdd", "shopify"}

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
		return nil, fmt.Errorf("stock: platform %q: not one of tmall, jd, douyin, pdd, shopify", clip(cfg.Platform))
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
	return rec, first, nil
}

// alert fires the oversell alert when now (the row after rec) is
// oversold, and resolves it when rec brought the row back from an
// oversell.
func (l *Ledger) alert(ctx context.Context, rec Record, now Level) error {
	if l.alerts == nil {
		return nil
	}
	var ev flows.AlertEvent
	switch {
	case now.Sellable() < 0:
		platform := channel(rec.Platform)
		if !slices.Contains(alertPlatforms, platform) {
			platform = l.cfg.Platform
		}
		form := map[string]any{"sku": now.SKU, "warehouse": now.Warehouse, "platform": platform,
			"oversold_qty": -now.Sellable()}
		if rec.OrderNo != "" {
			form["order_no"] = rec.OrderNo
		}
		ev = flows.AlertEvent{Source: alertSource, Event: EventOversell, Form: form, At: rec.At,
			IdempotencyKey: "stock:" + rec.Source + "/" + rec.EventID}
	case rec.Before().Sellable() < 0:
		ev = flows.AlertEvent{Source: alertSource, Event: EventRestored, At: rec.At,
			Form:           map[string]any{"sku": now.SKU, "warehouse": now.Warehouse},
			IdempotencyKey: "stock-restored:" + rec.Source + "/" + rec.EventID}
	default:
		return nil
	}
	res, err := l.alerts.Alert(ctx, ev)
	switch {
	case err == nil:
		for _, r := range res {
			l.log.Info("stock alert", "event", ev.Event, "sku", now.SKU, "warehouse", now.Warehouse,
				"flow", r.Target, "outcome", r.Outcome, "instance", r.InstanceID)
		}
		return nil
	case retryable(err):
		return err
	default:
		l.log.Error("stock alert refused", "event", ev.Event, "sku", now.SKU, "warehouse", now.Warehouse, "err", err)
		return nil
	}
}

// retryable says an alert failed for a reason that may pass: the store
// unreachable, the context ending, or anything the engine does not name.
// A refusal it names (a form the flow rejects) will be refused again.
func retryable(err error) bool {
	_, known := flows.Describe(err)
	return !known || errors.Is(err, flows.ErrUnavailable) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded)
}

// channel is a shop platform as the example flows' enums name it: tmall
// for taobao, the others as they are.
func channel(platform string) string {
	if platform == "taobao" {
		return "tmall"
	}
	return platform
}
