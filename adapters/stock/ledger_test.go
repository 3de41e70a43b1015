package stock_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/adapters/stock"
	"cardflow/bot/bottest"
	"cardflow/flows"
	"cardflow/internal/exampletest"
)

// alerts records the alert events a ledger sends, and passes them to next
// (a real engine) when set, recording its outcomes.
type alerts struct {
	mu       sync.Mutex
	events   []flows.AlertEvent
	outcomes []string
	next     stock.Alerter
	fail     error
}

func (a *alerts) Alert(ctx context.Context, ev flows.AlertEvent) ([]flows.Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, ev)
	if a.fail != nil {
		return nil, a.fail
	}
	if a.next == nil {
		return nil, nil
	}
	res, err := a.next.Alert(ctx, ev)
	for _, r := range res {
		o := ev.Event + ":" + r.Outcome
		if r.Replayed {
			o += " (replayed)"
		}
		a.outcomes = append(a.outcomes, o)
	}
	return res, err
}

func (a *alerts) sent() []flows.AlertEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]flows.AlertEvent(nil), a.events...)
}

type ledgerBundle struct {
	store  *memStore
	alerts *alerts
	log    *bottest.Log
	ledger *stock.Ledger
}

func newLedger(t *testing.T, cfg stock.Config, next stock.Alerter) *ledgerBundle {
	t.Helper()
	b := &ledgerBundle{store: newMemStore(), alerts: &alerts{next: next}, log: bottest.NewLog()}
	var err error
	b.ledger, err = stock.NewLedger(b.store, b.alerts, cfg, b.log.Logger, func() time.Time { return at })
	require.NoError(t, err)
	return b
}

func (b *ledgerBundle) apply(t *testing.T, m stock.Movement, wantFirst bool) stock.Record {
	t.Helper()
	rec, first, err := b.ledger.Apply(t.Context(), m)
	require.NoError(t, err)
	require.Equal(t, wantFirst, first, "first of %s", m.EventID)
	return rec
}

func TestLedgerOversellAndRestore(t *testing.T) {
	t.Parallel()
	b := newLedger(t, stock.Config{}, nil)
	b.apply(t, move("in-1", stock.KindReceive, 5), true)
	order := func(id, no, platform string, qty int64) stock.Movement {
		m := move(id, stock.KindReserve, qty)
		m.Source, m.OrderNo, m.Platform = stock.OrderSource, no, platform
		return m
	}
	b.apply(t, order("o-1", "TB-1", "taobao", 4), true)
	require.Empty(t, b.alerts.sent(), "sellable 1: no alert")

	oversell := flows.AlertEvent{Source: "stock", Event: stock.EventOversell, At: at, IdempotencyKey: "stock:orders/o-2",
		Form: map[string]any{"sku": "TEA-LJ-250", "warehouse": "hz-1", "platform": "tmall", "oversold_qty": int64(2), "order_no": "TB-2"}}
	b.apply(t, order("o-2", "TB-2", "taobao", 3), true)
	require.Equal(t, []flows.AlertEvent{oversell}, b.alerts.sent(), "taobao is the flow's tmall")

	// A repeat changes no stock and is checked again under the same key,
	// in case the first delivery's alert was lost.
	b.apply(t, order("o-2", "TB-2", "taobao", 3), false)
	require.Equal(t, []flows.AlertEvent{oversell, oversell}, b.alerts.sent())
	require.Equal(t, int64(-2), b.store.level("TEA-LJ-250", "hz-1").Sellable())

	// A WMS movement names no order: the configured platform.
	b.apply(t, move("out-1", stock.KindShip, 1), true)
	last := b.alerts.sent()[2]
	require.Equal(t, map[string]any{"sku": "TEA-LJ-250", "warehouse": "hz-1", "platform": "tmall", "oversold_qty": int64(3)}, last.Form)

	b.apply(t, move("in-2", stock.KindReceive, 3), true)
	restored := flows.AlertEvent{Source: "stock", Event: stock.EventRestored, At: at, IdempotencyKey: "stock-restored:wms/in-2",
		Form: map[string]any{"sku": "TEA-LJ-250", "warehouse": "hz-1"}}
	require.Equal(t, restored, b.alerts.sent()[3], "back to 0 sellable: restored")
	b.apply(t, move("in-3", stock.KindReceive, 3), true)
	require.Len(t, b.alerts.sent(), 4, "not oversold before: nothing to resolve")
}

func TestLedgerAlertFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fail      error
		wantError bool
	}{
		{name: "the engine unavailable: the caller retries", fail: fmt.Errorf("alert: %w", flows.ErrUnavailable), wantError: true},
		{name: "an error the engine does not name: retried", fail: fmt.Errorf("boom"), wantError: true},
		{name: "a form the flow refuses: logged, not retried", fail: fmt.Errorf("alert: %w", flows.ErrInvalidForm)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newLedger(t, stock.Config{Platform: "jd"}, nil)
			b.alerts.fail = tt.fail
			_, first, err := b.ledger.Apply(t.Context(), move("out-1", stock.KindShip, 2))
			require.True(t, first, "stored before the alert")
			if !tt.wantError {
				require.NoError(t, err)
				require.Contains(t, b.log.String(), "stock alert refused")
				return
			}
			require.ErrorIs(t, err, tt.fail)
			b.alerts.fail = nil
			_, first, err = b.ledger.Apply(t.Context(), move("out-1", stock.KindShip, 2))
			require.NoError(t, err)
			require.False(t, first)
			sent := b.alerts.sent()
			require.Len(t, sent, 2)
			require.Equal(t, sent[0], sent[1], "the retry sends the same alert, under the same key")
			require.Equal(t, "jd", sent[1].Form["platform"])
			require.Equal(t, int64(-2), b.store.level("TEA-LJ-250", "hz-1").OnHand, "applied once")
		})
	}
}

func TestNewLedgerRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		cfg  stock.Config
		want string
	}{
		{name: "a platform the flow does not list", cfg: stock.Config{Platform: "taobao"}, want: `platform "taobao": not one of`},
		{name: "a warehouse with NUL", cfg: stock.Config{Warehouse: "a\x00"}, want: "holds NUL"},
		{name: "a negative low-stock threshold", cfg: stock.Config{LowStock: map[string]int64{"CUP-01": -1}},
			want: "low stock of CUP-01: threshold -1 is not 0 to"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := stock.NewLedger(newMemStore(), nil, tt.cfg, bottest.NewLog().Logger, nil)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestOversellOnTheEngine runs the ledger against the example oversell
// flow on a real engine: an oversell opens the alert, a second one on the
// same SKU and warehouse is counted into it, and the restock resolves it.
func TestOversellOnTheEngine(t *testing.T) {
	t.Parallel()
	store, engine := exampletest.World(t)
	b := newLedger(t, stock.Config{Warehouse: "hz-1"}, engine)
	// The ledger on the same SQLite store as the engine, as cardflow runs.
	var err error
	b.ledger, err = stock.NewLedger(store, b.alerts, stock.Config{Warehouse: "hz-1"}, b.log.Logger, nil)
	require.NoError(t, err)
	ctx := t.Context()
	paid := func(id, no string, qty int64) orders.StoredEvent {
		o := orders.Order{Platform: "jd", Shop: "v-1", No: no, Status: orders.StatusPaid,
			Lines: []orders.Line{{SKU: "100012345678", OuterSKU: "MUG-350", Qty: qty}}}
		return orders.StoredEvent{Source: "jd", Event: orders.Event{ID: id, Kind: orders.EventPaid, Order: o, Full: true, At: at}, Order: o}
	}
	b.apply(t, stock.Movement{Source: "wms", EventID: "count-1", SKU: "MUG-350", Warehouse: "hz-1", Kind: stock.KindSet, Qty: 1, At: at}, true)
	require.NoError(t, b.ledger.ApplyOrderEvent(ctx, paid("jd/1", "JD-1", 3)))
	paging, err := engine.Tasks(ctx, flows.TaskQuery{Status: flows.TaskOpen, Limit: 10})
	require.NoError(t, err)
	require.Len(t, paging, 2, "the warehouse on call are paged")
	for _, v := range paging {
		require.Equal(t, "page", v.Task.StepID)
	}
	require.NoError(t, b.ledger.ApplyOrderEvent(ctx, paid("jd/1", "JD-1", 3)), "a repeat")
	require.NoError(t, b.ledger.ApplyOrderEvent(ctx, paid("jd/2", "JD-2", 1)))
	b.apply(t, stock.Movement{Source: "wms", EventID: "in-1", SKU: "MUG-350", Warehouse: "hz-1", Kind: stock.KindReceive, Qty: 10, At: at}, true)

	require.Equal(t, []string{
		"stock.oversell:fired",
		"stock.oversell:fired (replayed)", // the repeated event: the engine answers from its idempotency key
		"stock.oversell:deduped",          // a second order on the oversold SKU: counted into the open alert
		"stock.restored:resolved",
	}, b.alerts.outcomes)
	levels, err := store.StockOf(ctx, "MUG-350")
	require.NoError(t, err)
	require.Len(t, levels, 1)
	require.Equal(t, [2]int64{11, 4}, [2]int64{levels[0].OnHand, levels[0].Reserved})

	views, err := engine.Tasks(ctx, flows.TaskQuery{Status: flows.TaskOpen, Limit: 10})
	require.NoError(t, err)
	require.NotEmpty(t, views)
	for _, v := range views {
		require.Equal(t, "handle", v.Task.StepID, "resolved: the alert step is over, purchasing handles it")
	}
}

func TestLedgerLowStock(t *testing.T) {
	t.Parallel()
	b := newLedger(t, stock.Config{LowStock: map[string]int64{"TEA-LJ-250": 3}}, nil)
	low := func(sellable int64, resolving bool, key string) flows.AlertEvent {
		return flows.AlertEvent{Source: "stock", Event: stock.EventLow, At: at, Resolving: resolving, IdempotencyKey: key,
			Form: map[string]any{"sku": "TEA-LJ-250", "warehouse": "hz-1", "sellable": sellable, "threshold": int64(3)}}
	}
	b.apply(t, move("in-1", stock.KindReceive, 10), true)
	sent := b.alerts.sent()
	require.Equal(t, []flows.AlertEvent{low(10, true, "stock-low-resolved:wms/in-1")}, sent,
		"a first receive rises above the threshold: a resolve the engine ignores when nothing is open")
	b.apply(t, move("out-1", stock.KindShip, 6), true)
	require.Len(t, b.alerts.sent(), 1, "4 is above 3")
	b.apply(t, move("out-2", stock.KindShip, 1), true)
	require.Equal(t, low(3, false, "stock-low:wms/out-2"), b.alerts.sent()[1], "at the threshold: low")
	b.apply(t, move("out-3", stock.KindShip, 1), true)
	require.Len(t, b.alerts.sent(), 2, "still low: once per crossing")
	b.apply(t, move("in-2", stock.KindReceive, 5), true)
	require.Equal(t, low(7, true, "stock-low-resolved:wms/in-2"), b.alerts.sent()[2], "above it again: resolved")

	other := move("out-9", stock.KindShip, 1)
	other.SKU = "CUP-01"
	b.apply(t, other, true)
	require.Equal(t, stock.EventOversell, b.alerts.sent()[3].Event, "a SKU without a threshold: only its oversell")
	require.Len(t, b.alerts.sent(), 4)
}

// overtaking is an Alerter that, at the first oversell it is sent, first
// runs restock (a delivery that committed after the oversell's movement
// but sends its alert before it), then passes the oversell on.
type overtaking struct {
	next    stock.Alerter
	restock func()
	once    sync.Once
}

func (o *overtaking) Alert(ctx context.Context, ev flows.AlertEvent) ([]flows.Result, error) {
	if ev.Event == stock.EventOversell {
		o.once.Do(o.restock)
	}
	return o.next.Alert(ctx, ev)
}

// TestRestockOvertakingItsOversell: a restock commits after an oversell
// but its resolving event reaches the engine first, finding nothing open;
// the oversell, fired after, is resolved at once by the re-read of the
// stock, so no alert stays open on stock that is not oversold.
func TestRestockOvertakingItsOversell(t *testing.T) {
	t.Parallel()
	store, engine := exampletest.World(t)
	rec := &alerts{next: engine}
	wrap := &overtaking{next: rec}
	log := bottest.NewLog()
	ledger, err := stock.NewLedger(store, wrap, stock.Config{Warehouse: "hz-1"}, log.Logger, nil)
	require.NoError(t, err)
	ctx := t.Context()
	wrap.restock = func() {
		_, _, err := ledger.Apply(ctx, stock.Movement{Source: "wms", EventID: "in-1", SKU: "MUG-350", Warehouse: "hz-1",
			Kind: stock.KindReceive, Qty: 10, At: at})
		require.NoError(t, err)
	}
	_, _, err = ledger.Apply(ctx, stock.Movement{Source: "wms", EventID: "count-1", SKU: "MUG-350", Warehouse: "hz-1",
		Kind: stock.KindSet, Qty: 1, At: at})
	require.NoError(t, err)
	o := orders.Order{Platform: "jd", Shop: "v-1", No: "JD-9", Status: orders.StatusPaid,
		Lines: []orders.Line{{SKU: "1", OuterSKU: "MUG-350", Qty: 3}}}
	require.NoError(t, ledger.ApplyOrderEvent(ctx, orders.StoredEvent{Source: "jd",
		Event: orders.Event{ID: "jd/9", Kind: orders.EventPaid, Order: o, Full: true, At: at}, Order: o}))

	require.Equal(t, []string{"stock.restored:ignored", "stock.oversell:fired", "stock.restored:resolved"}, rec.outcomes)
	open, err := engine.Tasks(ctx, flows.TaskQuery{Status: flows.TaskOpen, Limit: 10})
	require.NoError(t, err)
	for _, v := range open {
		require.NotEqual(t, "page", v.Task.StepID, "no one is paged for stock that is not oversold")
	}
}

// TestOversellOfAnotherChannelsOrder: an ERP's order oversells as 其他渠道,
// not as the configured shop (it said 天猫).
func TestOversellOfAnotherChannelsOrder(t *testing.T) {
	t.Parallel()
	b := newLedger(t, stock.Config{}, nil)
	m := move("o-1", stock.KindReserve, 2)
	m.Source, m.OrderNo, m.Platform = stock.OrderSource, "E-1", "erp"
	b.apply(t, m, true)
	sent := b.alerts.sent()
	require.Len(t, sent, 1)
	require.Equal(t, "other", sent[0].Form["platform"])
}
