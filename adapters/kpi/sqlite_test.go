package kpi_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi"
	"cardflow/adapters/orders"
	"cardflow/adapters/stock"
	"cardflow/storage/sqlite"
)

// TestFiguresOnSQLite computes figures from orders, movements and metrics
// recorded through the embedded store's own interfaces, as cardflow runs:
// the same figures as on the memory store.
func TestFiguresOnSQLite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cardflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	mem, _ := newBoard(t)
	refunded := paidOrder("taobao", "o2", day(0, 11), 5_000, 5_000, 1)
	refunded.Refund = orders.RefundDone
	for i, o := range []orders.Order{
		paidOrder("jd", "o1", day(0, 10), 12_000, 10_000, 2), refunded,
		{Platform: "jd", Shop: "s1", No: "o3", Status: orders.StatusUnpaid, Total: 3_000, CreatedAt: day(0, 12),
			Lines: []orders.Line{{SKU: "x", Qty: 1}}},
		paidOrder("jd", "o4", day(-1, 10), 8_000, 8_000, 1),
		paidOrder("jd", "o5", day(-7, 10), 20_000, 20_000, 4),
	} {
		_, _, err := store.IngestOrderEvent(ctx, "src", orders.Event{ID: o.No, Kind: orders.EventPaid, Order: o, Full: true,
			At: day(-8, i)})
		require.NoError(t, err)
	}
	_, _, _, err = store.ApplyMovement(ctx, stock.Movement{Source: "wms", EventID: "1", SKU: "TEA", Warehouse: "hz-1",
		Kind: stock.KindSet, Qty: 300, At: day(-60, 0)})
	require.NoError(t, err)
	require.NoError(t, store.PutMetrics(ctx, []kpi.Metric{
		{Source: "ads", Name: "ad_spend", Day: day(0, 0), Value: decimal.RequireFromString("30")},
		{Source: "ads", Name: "ad_spend", Day: day(-1, 0), Value: decimal.Zero},
		{Source: "erp", Name: "cost", Day: day(0, 0), Value: decimal.RequireFromString("60")},
	}))

	b := kpi.NewBoard(store, mem.File(), func() time.Time { return today })
	got, err := b.Figures(ctx, nil, kpi.Day, today, kpi.China)
	require.NoError(t, err)
	want, err := mem.Figures(ctx, nil, kpi.Day, today, kpi.China)
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for i := range want {
		for j, p := range want[i].Series {
			requireValue(t, p.V, got[i].Series[j].V, want[i].KPI.Name+" "+p.From.Format("01-02"))
		}
		requireValue(t, want[i].WeekAgo, got[i].WeekAgo, want[i].KPI.Name+" a week ago")
	}
	requireValue(t, dec("5"), got[11].Now, "ROI")
}
