package storetest

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi"
	"cardflow/adapters/orders"
	"cardflow/adapters/stock"
	"cardflow/flows"
)

// The KPI group checks kpi.Store, which every flows.Store under test must
// implement as well, over orders recorded through orders.Store and
// movements through stock.Store. Where the contract leaves a choice, the
// suite pins:
//   - Ranges are [from, to): an order paid (placed) exactly at from counts,
//     one at to does not; a thin push that changes an order's refund moves
//     it between the totals.
//   - A stock row's on-hand at an instant is that after its movement
//     recorded last among those at or before it.
//   - Metric sums are exact decimals; a repeated key replaces its value; a
//     batch with one invalid metric stores none.
func kpiTests(count CountRowsFunc) []suiteTest {
	return []suiteTest{
		storeTest("order totals over [from, to) with filters", testOrderTotals),
		storeTest("stock on hand as of an instant", testStockOnHand),
		suiteTest{name: "pushed metrics: upsert, exact sums, all or nothing", run: func(t *testing.T, newStore NewStoreFunc) {
			s := newStore(t)
			testMetrics(t, asKPIStore(t, s), func(table string) int64 { return count(t, s, table) })
		}},
	}
}

func asKPIStore(t *testing.T, s flows.Store) kpi.Store {
	t.Helper()
	store, ok := s.(kpi.Store)
	require.True(t, ok, "%T must implement kpi.Store as well", s)
	return store
}

// kpiDay is the day the KPI tests count: 29 November 2026 in China time.
var kpiDay = time.Date(2026, 11, 29, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

// kpiOrder is an order placed at created and paid at paid (none when
// zero), for total fen of goods, paid fen, and lines of qty pieces.
func kpiOrder(platform, shop, no string, created, paid time.Time, total, paidFen orders.Money, qty ...int64) orders.Order {
	o := orders.Order{Platform: platform, Shop: shop, No: no, Status: orders.StatusPaid, Total: total, Paid: paidFen,
		CreatedAt: created, PaidAt: paid, UpdatedAt: created.Add(time.Hour * 48)}
	if paid.IsZero() {
		o.Status = orders.StatusUnpaid
	}
	for i, q := range qty {
		o.Lines = append(o.Lines, orders.Line{SKU: "sku-" + string(rune('a'+i)), Qty: q, Price: 100})
	}
	return o
}

func testOrderTotals(t *testing.T, fs flows.Store) {
	ctx := t.Context()
	os, ks := asOrderStore(t, fs), asKPIStore(t, fs)
	d, h := kpiDay, time.Hour
	cancelled := kpiOrder("taobao", "s1", "D", d.Add(3*h), time.Time{}, 7_000, 0, 1)
	cancelled.Status = orders.StatusCancelled
	closed := kpiOrder("jd", "s1", "E", d.Add(4*h), d.Add(5*h), 3_000, 3_000, 1)
	closed.Status = orders.StatusClosed
	for i, o := range []orders.Order{
		kpiOrder("jd", "s1", "A", d.Add(-h), d, 10_000, 9_000, 2, 1), // paid exactly at from
		kpiOrder("jd", "s2", "B", d.Add(h), d.Add(h+time.Microsecond), 20_000, 18_000, 1),
		kpiOrder("taobao", "s1", "C", d.Add(2*h), d.Add(24*h), 5_000, 5_000, 5), // paid exactly at to
		cancelled, closed,
		kpiOrder("jd", "s1", "F", d.Add(24*h), d.Add(25*h), 1_000, 1_000, 1), // placed exactly at to
	} {
		_, _, err := os.IngestOrderEvent(ctx, "src", orders.Event{ID: "e" + o.No, Kind: orders.EventPaid, Order: o,
			Full: true, At: d.Add(time.Duration(i) * time.Minute)})
		require.NoError(t, err)
	}
	// B's refund arrives as a thin push, after its detail.
	_, _, err := os.IngestOrderEvent(ctx, "src", orders.Event{ID: "rB", Kind: orders.EventRefunded, At: d.Add(30 * h),
		Order: orders.Order{Platform: "jd", Shop: "s2", No: "B"}})
	require.NoError(t, err)

	tests := []struct {
		name     string
		from, to time.Time
		filter   kpi.Filter
		want     kpi.Totals
	}{
		{name: "the day, every platform", from: d, to: d.Add(24 * h), want: kpi.Totals{
			Paid: 3, PaidFen: 30_000, Units: 5, Refunded: 2, RefundedFen: 21_000, Placed: 4, GMVFen: 35_000}},
		{name: "jd", from: d, to: d.Add(24 * h), filter: kpi.Filter{Platform: "jd"}, want: kpi.Totals{
			Paid: 3, PaidFen: 30_000, Units: 5, Refunded: 2, RefundedFen: 21_000, Placed: 2, GMVFen: 23_000}},
		{name: "jd shop s1", from: d, to: d.Add(24 * h), filter: kpi.Filter{Platform: "jd", Shop: "s1"}, want: kpi.Totals{
			Paid: 2, PaidFen: 12_000, Units: 4, Refunded: 1, RefundedFen: 3_000, Placed: 1, GMVFen: 3_000}},
		{name: "taobao: placed, none paid", from: d, to: d.Add(24 * h), filter: kpi.Filter{Platform: "taobao"},
			want: kpi.Totals{Placed: 2, GMVFen: 12_000}},
		{name: "the next day", from: d.Add(24 * h), to: d.Add(48 * h), want: kpi.Totals{
			Paid: 2, PaidFen: 6_000, Units: 6, Placed: 1, GMVFen: 1_000}},
		{name: "a microsecond before B's payment", from: d.Add(time.Nanosecond), to: d.Add(h + time.Microsecond),
			want: kpi.Totals{Placed: 1, GMVFen: 20_000}},
		{name: "an empty range", from: d, to: d, want: kpi.Totals{}},
		{name: "an unknown shop", from: d, to: d.Add(24 * h), filter: kpi.Filter{Shop: "nope"}, want: kpi.Totals{}},
	}
	for _, tt := range tests {
		got, err := ks.OrderTotals(ctx, tt.from, tt.to, tt.filter)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, got, tt.name)
	}
}

func testStockOnHand(t *testing.T, fs flows.Store) {
	ctx := t.Context()
	ss, ks := asStockStore(t, fs), asKPIStore(t, fs)
	t1, t2 := kpiDay.Add(9*time.Hour), kpiDay.Add(15*time.Hour)
	for _, m := range []stock.Movement{
		{Source: "wms", EventID: "1", SKU: "TEA", Warehouse: "hz-1", Kind: stock.KindSet, Qty: 10, At: t1},
		{Source: "wms", EventID: "2", SKU: "CUP", Warehouse: "bj-1", Kind: stock.KindSet, Qty: 5, At: t1},
		{Source: "wms", EventID: "3", SKU: "TEA", Warehouse: "hz-1", Kind: stock.KindShip, Qty: 3, At: t2},
		{Source: "wms", EventID: "4", SKU: "CUP", Warehouse: "bj-1", Kind: stock.KindReceive, Qty: 2, At: t1.Add(time.Hour)},
	} {
		_, _, _, err := ss.ApplyMovement(ctx, m)
		require.NoError(t, err)
	}
	at := []time.Time{t1.Add(-time.Second), t1, t1.Add(time.Hour), t2.Add(-time.Microsecond), t2, t2.Add(24 * time.Hour)}
	got, err := ks.StockOnHand(ctx, at)
	require.NoError(t, err)
	require.Equal(t, []int64{0, 15, 17, 17, 14, 14}, got)
	got, err = ks.StockOnHand(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, got)
}

func testMetrics(t *testing.T, s kpi.Store, rows func(string) int64) {
	ctx := t.Context()
	d := kpiDay
	dec := func(v string) decimal.Decimal { return decimal.RequireFromString(v) }
	metric := func(name, platform string, day time.Time, v string) kpi.Metric {
		return kpi.Metric{Source: "ads", Name: name, Platform: platform, Shop: "s1", Day: day, Value: dec(v)}
	}
	require.NoError(t, s.PutMetrics(ctx, []kpi.Metric{
		metric("ad_spend", "douyin", d, "0.1"),
		metric("ad_spend", "jd", d, "0.2"),
		metric("ad_spend", "douyin", d.AddDate(0, 0, 1), "1000.123456"),
		metric("visitors", "douyin", d, "300"),
	}))
	// A repeat of the first with another value replaces it.
	require.NoError(t, s.PutMetrics(ctx, []kpi.Metric{metric("ad_spend", "douyin", d, "0.4")}))
	require.Equal(t, int64(4), rows("kpi_metrics"))

	tests := []struct {
		name      string
		metric    string
		from, to  time.Time
		filter    kpi.Filter
		want      string
		wantFound bool
	}{
		{name: "one day, every platform", metric: "ad_spend", from: d, to: d.AddDate(0, 0, 1), want: "0.6", wantFound: true},
		{name: "two days", metric: "ad_spend", from: d, to: d.AddDate(0, 0, 2), want: "1000.723456", wantFound: true},
		{name: "one platform", metric: "ad_spend", from: d, to: d.AddDate(0, 0, 1), filter: kpi.Filter{Platform: "jd"},
			want: "0.2", wantFound: true},
		{name: "the day after, whose start is the bound", metric: "ad_spend", from: d.Add(time.Nanosecond),
			to: d.AddDate(0, 0, 1).Add(time.Nanosecond), want: "1000.123456", wantFound: true},
		{name: "no such metric", metric: "cost", from: d, to: d.AddDate(0, 0, 2), want: "0"},
		{name: "no such shop", metric: "ad_spend", from: d, to: d.AddDate(0, 0, 2), filter: kpi.Filter{Shop: "s2"}, want: "0"},
	}
	for _, tt := range tests {
		got, found, err := s.SumMetric(ctx, tt.metric, tt.from, tt.to, tt.filter)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.wantFound, found, tt.name)
		require.True(t, dec(tt.want).Equal(got), "%s: got %s, want %s", tt.name, got, tt.want)
	}

	bad := []kpi.Metric{
		metric("ad_spend", "pdd", d, "5"),
		metric("Ad-Spend", "pdd", d, "5"),
		metric("ad_spend", "pdd\x00", d, "5"),
		metric("ad_spend", "pdd", d, "0.0000001"),
		metric("ad_spend", "pdd", time.Time{}, "1"),
	}
	for i := 1; i < len(bad); i++ {
		err := s.PutMetrics(ctx, []kpi.Metric{bad[0], bad[i]})
		require.ErrorIs(t, err, kpi.ErrInvalid, "metric %d", i)
	}
	require.Equal(t, int64(4), rows("kpi_metrics"), "a batch with an invalid metric stores none")
}
