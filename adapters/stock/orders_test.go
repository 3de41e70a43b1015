package stock_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/adapters/stock"
	"cardflow/flows"
)

var errStoreDown = fmt.Errorf("store: %w", flows.ErrUnavailable)

// orderEvent returns a stored event of kind on a two-line Taobao order
// standing at status after it.
func orderEvent(id string, kind orders.EventKind, status orders.Status, lines ...orders.Line) orders.StoredEvent {
	o := orders.Order{Platform: "taobao", Shop: "s-1", No: "TB-9", Status: status, Lines: lines}
	return orders.StoredEvent{Source: "tmall-main", Event: orders.Event{ID: id, Kind: kind, Order: o, At: at}, Order: o}
}

func TestApplyOrderEvent(t *testing.T) {
	t.Parallel()
	lines := []orders.Line{{SKU: "5123", OuterSKU: "TS-BLK-L", Qty: 2}, {SKU: "5124", Qty: 1}}
	paid := orderEvent("tb/paid", orders.EventPaid, orders.StatusPaid, lines...)
	paidAgain := orderEvent("erp/TB-9/paid", orders.EventPaid, orders.StatusPaid, lines...)
	shipped := orderEvent("tb/ship", orders.EventShipped, orders.StatusShipped, lines...)
	finished := orderEvent("tb/fin", orders.EventFinished, orders.StatusFinished, lines...)
	cancelled := orderEvent("tb/cancel", orders.EventCancelled, orders.StatusCancelled, lines...)
	refunded := orderEvent("tb/refund", orders.EventRefunded, orders.StatusClosed, lines...)
	paidLate := orderEvent("tb/paid-late", orders.EventPaid, orders.StatusShipped, lines...)
	thin := orderEvent("tb/thin", orders.EventPaid, orders.StatusPaid)
	requested := orderEvent("tb/req", orders.EventRefundRequested, orders.StatusPaid, lines...)
	// A partial refund: the second line refunded, the first still sold.
	partLines := []orders.Line{{SKU: "5123", OuterSKU: "TS-BLK-L", Qty: 2}, {SKU: "5124", Qty: 1, Refund: orders.RefundDone}}
	partRefunded := orderEvent("tb/part", orders.EventRefunded, orders.StatusPaid, partLines...)
	partShipped := orderEvent("tb/part-ship", orders.EventShipped, orders.StatusShipped, partLines...)
	partChanged := orderEvent("tb/part-chg", orders.EventChanged, orders.StatusPaid, partLines...)
	paidPart := orderEvent("tb/paid-part", orders.EventPaid, orders.StatusPaid, partLines...)
	otherRequested := orderEvent("tb/part-req", orders.EventRefundRequested, orders.StatusPaid,
		orders.Line{SKU: "5123", OuterSKU: "TS-BLK-L", Qty: 2, Refund: orders.RefundRequested},
		orders.Line{SKU: "5124", Qty: 1, Refund: orders.RefundDone})
	tests := []struct {
		name   string
		events []orders.StoredEvent
		// want is on hand and reserved of TS-BLK-L and of 5124 (the line
		// without a merchant code goes by the platform's SKU).
		want [2][2]int64
	}{
		{name: "paid reserves each line", events: []orders.StoredEvent{paid}, want: [2][2]int64{{10, 2}, {10, 1}}},
		{name: "one order paid on two channels reserves once", events: []orders.StoredEvent{paid, paid, paidAgain},
			want: [2][2]int64{{10, 2}, {10, 1}}},
		{name: "shipped takes it off on hand and reserved", events: []orders.StoredEvent{paid, shipped},
			want: [2][2]int64{{8, 0}, {9, 0}}},
		{name: "finished after shipped ships once", events: []orders.StoredEvent{paid, shipped, finished},
			want: [2][2]int64{{8, 0}, {9, 0}}},
		{name: "cancelled releases", events: []orders.StoredEvent{paid, cancelled}, want: [2][2]int64{{10, 0}, {10, 0}}},
		{name: "refunded before shipping releases", events: []orders.StoredEvent{paid, refunded},
			want: [2][2]int64{{10, 0}, {10, 0}}},
		{name: "refunded after shipping releases nothing", events: []orders.StoredEvent{paid, shipped, refunded},
			want: [2][2]int64{{8, 0}, {9, 0}}},
		{name: "a paid event after the ship reserves nothing", events: []orders.StoredEvent{shipped, paidLate},
			want: [2][2]int64{{8, 0}, {9, 0}}},
		{name: "a thin push without lines moves nothing", events: []orders.StoredEvent{thin}, want: [2][2]int64{{10, 0}, {10, 0}}},
		{name: "a refund request moves nothing", events: []orders.StoredEvent{paid, requested},
			want: [2][2]int64{{10, 2}, {10, 1}}},
		{name: "a partial refund releases its line only", events: []orders.StoredEvent{paid, partRefunded},
			want: [2][2]int64{{10, 2}, {10, 0}}},
		{name: "a partly refunded order ships the other lines", events: []orders.StoredEvent{paid, partRefunded, partShipped},
			want: [2][2]int64{{8, 0}, {10, 0}}},
		{name: "a line refunded while another is requested is released", events: []orders.StoredEvent{paid, otherRequested},
			want: [2][2]int64{{10, 2}, {10, 0}}},
		{name: "any event releases a refunded line, once", events: []orders.StoredEvent{paid, partChanged, partRefunded},
			want: [2][2]int64{{10, 2}, {10, 0}}},
		{name: "paid with a line already refunded reserves the others", events: []orders.StoredEvent{paidPart, partShipped},
			want: [2][2]int64{{8, 0}, {10, 0}}},
		{name: "a line refunded after shipping releases nothing", events: []orders.StoredEvent{paid, shipped, partRefunded},
			want: [2][2]int64{{8, 0}, {9, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newLedger(t, stock.Config{}, nil)
			for _, sku := range []string{"TS-BLK-L", "5124"} {
				b.apply(t, stock.Movement{Source: "wms", EventID: "count-" + sku, SKU: sku, Warehouse: "main",
					Kind: stock.KindSet, Qty: 10, At: at}, true)
			}
			for _, e := range tt.events {
				require.NoError(t, b.ledger.ApplyOrderEvent(t.Context(), e))
			}
			for i, sku := range []string{"TS-BLK-L", "5124"} {
				l := b.store.level(sku, "main")
				require.Equal(t, tt.want[i], [2]int64{l.OnHand, l.Reserved}, sku)
			}
			require.Empty(t, b.alerts.sent())
		})
	}
}

func TestApplyOrderEventSkipsRefusedLines(t *testing.T) {
	t.Parallel()
	b := newLedger(t, stock.Config{}, nil)
	e := orderEvent("tb/paid", orders.EventPaid, orders.StatusPaid,
		orders.Line{OuterSKU: strings.Repeat("x", 200), Qty: 1}, orders.Line{OuterSKU: "CUP-01", Qty: 2})
	require.NoError(t, b.ledger.ApplyOrderEvent(t.Context(), e), "a line refused for good is not retried")
	require.Contains(t, b.log.String(), "order line moves no stock")
	require.Equal(t, int64(2), b.store.level("CUP-01", "main").Reserved)
	rec := b.store.order[len(b.store.order)-1]
	require.Equal(t, stock.Movement{Source: stock.OrderSource, EventID: "taobao/s-1/TB-9/2/CUP-01/reserve", SKU: "CUP-01",
		Warehouse: "main", Kind: stock.KindReserve, Qty: 2, At: at, OrderNo: "TB-9", Platform: "taobao"}, rec.Movement,
		"keyed by the order's line, not the event")

	b.store.fail = errStoreDown
	require.ErrorIs(t, b.ledger.ApplyOrderEvent(t.Context(), orderEvent("tb/ship", orders.EventShipped, orders.StatusShipped,
		orders.Line{OuterSKU: "CUP-01", Qty: 2})), errStoreDown)
}
