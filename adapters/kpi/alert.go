package kpi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"cardflow/flows"
)

// Raiser raises alert flows: *flows.Engine.
type Raiser interface {
	Alert(ctx context.Context, ev flows.AlertEvent) ([]flows.Result, error)
}

// EventThreshold is the event a threshold alert is raised with when its
// rule's flow was not looked up (File.Check sets the flow's own): the
// trigger of configs/flows/kpi_alert.yaml.
const EventThreshold = "kpi.threshold"

// alertSource names the alerter in the engine's audit trail.
const alertSource = "kpi"

// Alerter evaluates the threshold rules and raises their alert flows. Each
// rule is raised at most once per period: the alert's idempotency key is
// the rule and the period's start ("kpi-alert/refund_rate_high/
// 2026-11-29"), so a rerun, another instance of cardflow or a restart
// raises nothing new, and the flow's dedupe_key (rule, period) folds any
// repeat into the open alert. An alert is not resolved when the figure
// comes back within its threshold: people acknowledge it, and the next
// period starts afresh.
type Alerter struct {
	board  *Board
	file   *File
	alerts Raiser
	log    *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	raised map[string]bool // keys raised by this process
}

// NewAlerter returns an alerter of f's rules over board; now may be nil
// (time.Now).
func NewAlerter(board *Board, f *File, alerts Raiser, log *slog.Logger, now func() time.Time) *Alerter {
	if now == nil {
		now = time.Now
	}
	return &Alerter{board: board, file: f, alerts: alerts, log: log, now: now, raised: map[string]bool{}}
}

// Run checks the rules now and then every interval until ctx ends; a
// failed check is logged and retried at the next.
func (a *Alerter) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.CheckOnce(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("kpi alert check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckOnce evaluates every rule for the period containing now in the
// rule's zone and raises the flow of each whose figure is beyond its
// threshold and was not raised for this period yet. A figure that is
// unknown (nothing to divide by) raises nothing. Every failing rule is in
// the error; the others are still checked.
func (a *Alerter) CheckOnce(ctx context.Context) error {
	now := a.now()
	var errs []error
	for _, r := range a.file.Alerts {
		if err := a.check(ctx, r, now); err != nil {
			errs = append(errs, fmt.Errorf("kpi: alert %s: %w", r.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (a *Alerter) check(ctx context.Context, r *Alert, now time.Time) error {
	from, to := r.Period.Window(now, r.Zone)
	key := "kpi-alert/" + r.Name + "/" + from.Format("2006-01-02")
	a.mu.Lock()
	done := a.raised[key]
	a.mu.Unlock()
	if done {
		return nil
	}
	d, ok := a.file.KPI(r.KPI)
	if !ok {
		return fmt.Errorf("no KPI named %s: %w", r.KPI, ErrUnknownKPI)
	}
	v, err := a.board.Value(ctx, r.KPI, from, to, r.Zone)
	if err != nil || !v.Known {
		return err
	}
	var threshold string
	switch {
	case r.Above != nil && v.V.GreaterThan(*r.Above):
		threshold = "高于 " + Format(known(*r.Above), d.Unit, false)
	case r.Below != nil && v.V.LessThan(*r.Below):
		threshold = "低于 " + Format(known(*r.Below), d.Unit, false)
	default:
		return nil
	}
	event := r.Event
	if event == "" {
		event = EventThreshold
	}
	form := map[string]any{"rule": r.Name, "kpi": d.Label, "period": periodKey(r.Period, from, to, r.Zone),
		"value": Format(v, d.Unit, false), "threshold": threshold}
	if _, err := a.alerts.Alert(ctx, flows.AlertEvent{Source: alertSource, Event: event, Form: form, At: now,
		IdempotencyKey: key}); err != nil {
		return fmt.Errorf("raise: %w", err)
	}
	a.mu.Lock()
	a.raised[key] = true
	a.mu.Unlock()
	a.log.Info("kpi alert raised", "rule", r.Name, "kpi", r.KPI, "period", form["period"], "value", form["value"])
	return nil
}

// periodKey names a period in an alert: 2026-11-29, 2026-11-23 至
// 2026-11-29, 2026-11: plain, and unique to the period.
func periodKey(p Period, from, to time.Time, zone *time.Location) string {
	from = from.In(zone)
	switch p {
	case Week:
		return from.Format("2006-01-02") + " 至 " + to.In(zone).AddDate(0, 0, -1).Format("2006-01-02")
	case Month:
		return from.Format("2006-01")
	}
	return from.Format("2006-01-02")
}
