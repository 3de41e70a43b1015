package kpi_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi"
	"cardflow/flows"
	"cardflow/internal/exampletest"
)

const alertDefs = `alerts:
  - {name: refund_high, kpi: refund_rate, period: day, above: 5%, flow: kpi_alert}
  - {name: sales_high, kpi: sales, period: day, above: 200, flow: kpi_alert}
  - {name: roi_low, kpi: roi, period: week, below: 10, flow: kpi_alert}
  - {name: margin_low, kpi: gross_margin, period: month, below: 10%, flow: kpi_alert}
`

// raiser records the alerts raised, and passes them on to next if set.
type raiser struct {
	mu       sync.Mutex
	events   []flows.AlertEvent
	outcomes []string
	next     kpi.Raiser
	fails    int // answer this many raises with an error
}

func (r *raiser) Alert(ctx context.Context, ev flows.AlertEvent) ([]flows.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	if r.fails > 0 {
		r.fails--
		return nil, errors.New("engine unavailable")
	}
	if r.next == nil {
		return nil, nil
	}
	res, err := r.next.Alert(ctx, ev)
	for _, x := range res {
		o := x.Outcome
		if x.Replayed {
			o += " (replayed)"
		}
		r.outcomes = append(r.outcomes, o)
	}
	return res, err
}

// take returns the events raised since the last take.
func (r *raiser) take() []flows.AlertEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func TestAlerterRaisesOncePerRuleAndPeriod(t *testing.T) {
	t.Parallel()
	b, store := newBoardWith(t, alertDefs)
	now := today
	clock := func() time.Time { return now }
	r := &raiser{}
	log := slog.New(slog.DiscardHandler)
	a := kpi.NewAlerter(b, b.File(), r, log, clock)
	ctx := t.Context()

	// Today: the refund rate is 50% (above 5%); this week's ROI is 5 (below
	// 10); sales of ¥150 are not above ¥200; November's margin is 84%.
	require.NoError(t, a.CheckOnce(ctx))
	first := []flows.AlertEvent{
		{Source: "kpi", Event: kpi.EventThreshold, At: today, IdempotencyKey: "kpi-alert/refund_high/2026-11-30",
			Form: map[string]any{"rule": "refund_high", "kpi": "退款率", "period": "2026-11-30", "value": "50.0%",
				"threshold": "高于 5.0%"}},
		{Source: "kpi", Event: kpi.EventThreshold, At: today, IdempotencyKey: "kpi-alert/roi_low/2026-11-30",
			Form: map[string]any{"rule": "roi_low", "kpi": "广告 ROI", "period": "2026-11-30 至 2026-12-06", "value": "5.00",
				"threshold": "低于 10.00"}},
	}
	require.Equal(t, first, r.take())
	require.NoError(t, a.CheckOnce(ctx))
	require.Empty(t, r.take(), "a rerun raises nothing")

	// Sales cross ¥200: that rule alone is raised, once.
	store.add(paidOrder("jd", "o6", day(0, 14), 10_000, 10_000, 1))
	now = today.Add(time.Minute)
	require.NoError(t, a.CheckOnce(ctx))
	require.Equal(t, []flows.AlertEvent{{Source: "kpi", Event: kpi.EventThreshold, At: now,
		IdempotencyKey: "kpi-alert/sales_high/2026-11-30", Form: map[string]any{"rule": "sales_high", "kpi": "销售额",
			"period": "2026-11-30", "value": "¥250.00", "threshold": "高于 ¥200.00"}}}, r.take())
	require.NoError(t, a.CheckOnce(ctx))
	require.Empty(t, r.take())

	// Another instance (a restart) raises with the same keys: the engine's
	// idempotency makes them change nothing.
	again := kpi.NewAlerter(b, b.File(), r, log, clock)
	require.NoError(t, again.CheckOnce(ctx))
	var keys []string
	for _, ev := range r.take() {
		keys = append(keys, ev.IdempotencyKey)
	}
	require.Equal(t, []string{"kpi-alert/refund_high/2026-11-30", "kpi-alert/sales_high/2026-11-30",
		"kpi-alert/roi_low/2026-11-30"}, keys)

	// The next day: no orders yet, so no refund rate; sales of ¥0; the
	// week's ROI was raised already.
	now = today.AddDate(0, 0, 1)
	require.NoError(t, a.CheckOnce(ctx))
	require.Empty(t, r.take())
}

// TestAlerterOnTheEngine raises the example kpi_alert flow on a real
// engine: the sales director is paged once, and a restarted alerter's
// raise is answered from the engine's idempotency key.
func TestAlerterOnTheEngine(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	b, _ := newBoardWith(t, alertDefs)
	byID := map[string]*flows.Flow{}
	for _, fl := range exampletest.Flows(t) {
		byID[fl.ID] = fl
	}
	require.NoError(t, b.File().Check(func(id string) (*flows.Flow, bool) { fl, ok := byID[id]; return fl, ok }))
	r := &raiser{next: engine}
	clock := func() time.Time { return today }
	log := slog.New(slog.DiscardHandler)
	require.NoError(t, kpi.NewAlerter(b, b.File(), r, log, clock).CheckOnce(t.Context()))
	open, err := engine.Tasks(t.Context(), flows.TaskQuery{Status: flows.TaskOpen, Limit: 10})
	require.NoError(t, err)
	require.NotEmpty(t, open)
	titles := map[string]bool{}
	for _, v := range open {
		require.Equal(t, "page", v.Task.StepID)
		titles[v.Title] = true
	}
	require.Equal(t, map[string]bool{"指标告警 · 退款率 · 2026-11-30": true,
		"指标告警 · 广告 ROI · 2026-11-30 至 2026-12-06": true}, titles)

	require.NoError(t, kpi.NewAlerter(b, b.File(), r, log, clock).CheckOnce(t.Context()))
	again, err := engine.Tasks(t.Context(), flows.TaskQuery{Status: flows.TaskOpen, Limit: 10})
	require.NoError(t, err)
	require.Len(t, again, len(open), "a restart pages nobody again")
	require.Equal(t, []string{"fired", "fired", "fired (replayed)", "fired (replayed)"}, r.outcomes)
}

// TestAlerterRun checks at once, then every interval: a raise that failed
// is retried at the next check, and Run returns when its context ends.
func TestAlerterRun(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b, _ := newBoardWith(t, "alerts:\n  - {name: refund_high, kpi: refund_rate, period: day, above: 5%, flow: kpi_alert}\n")
		r := &raiser{fails: 1}
		a := kpi.NewAlerter(b, b.File(), r, slog.New(slog.DiscardHandler), func() time.Time { return today })
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			a.Run(ctx, time.Minute)
			close(done)
		}()
		synctest.Wait()
		require.Len(t, r.take(), 1, "checked at once, and failed")
		time.Sleep(time.Minute)
		synctest.Wait()
		require.Len(t, r.take(), 1, "retried at the next check")
		time.Sleep(time.Minute)
		synctest.Wait()
		require.Empty(t, r.take(), "raised: not again")
		cancel()
		<-done
	})
}
