package kpi_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi"
	"cardflow/adapters/orders"
)

// boardDefs are the KPIs the board tests compute.
const boardDefs = `kpis:
  - {name: sales, label: 销售额, label_en: Sales, measure: sales}
  - {name: gmv, label: GMV, measure: gmv}
  - {name: orders, label: 订单数, label_en: Orders, measure: orders}
  - {name: units, label: 件数, label_en: Units, measure: units}
  - {name: aov, label: 客单价, label_en: AOV, measure: aov}
  - {name: refund_rate, label: 退款率, label_en: Refund rate, measure: refund_rate}
  - {name: refund_amount, label: 退款金额, label_en: Refunds, measure: refund_amount}
  - {name: gross_margin, label: 毛利率, label_en: Gross margin, measure: gross_margin, roles: [finance, gm]}
  - {name: turnover_days, label: 库存周转天数, label_en: Stock turnover, measure: turnover_days}
  - {name: jd_sales, label: 京东销售额, label_en: JD sales, measure: sales, platform: jd}
  - {name: ad_spend, label: 广告花费, label_en: Ad spend, metric: ad_spend, unit: money}
  - {name: roi, label: 广告 ROI, label_en: Ad ROI, expr: sales / ad_spend, unit: ratio}
  - {name: margin_left, label: 扣广告后, label_en: After ads, expr: "(sales - ad_spend) * 1.0 - -0", unit: money}
`

// today is Monday 30 November 2026, 15:00 in China.
var today = time.Date(2026, 11, 30, 15, 0, 0, 0, kpi.China)

// day is a time on the day n days from today's date, at hour h.
func day(n, h int) time.Time { return time.Date(2026, 11, 30+n, h, 0, 0, 0, kpi.China) }

func paidOrder(platform, no string, paidAt time.Time, total, paid orders.Money, units int64) orders.Order {
	return orders.Order{Platform: platform, Shop: "s1", No: no, Status: orders.StatusPaid, Total: total, Paid: paid,
		CreatedAt: paidAt.Add(-time.Minute), PaidAt: paidAt, Lines: []orders.Line{{SKU: "x", Qty: units}}}
}

// newBoard returns a board of boardDefs over a store with: today, two
// paid orders (one of them refunded) and one unpaid; yesterday one paid
// order; the same day last week one; ad spend of ¥30 today and ¥0
// yesterday; a cost of ¥60 today; 300 pieces on hand throughout.
func newBoard(t *testing.T) (*kpi.Board, *memStore) {
	t.Helper()
	return newBoardWith(t, "")
}

// newBoardWith is newBoard with more YAML after the KPIs (alerts).
func newBoardWith(t *testing.T, more string) (*kpi.Board, *memStore) {
	t.Helper()
	f, err := kpi.Parse("kpis.yaml", []byte(boardDefs+more))
	require.NoError(t, err)
	refunded := paidOrder("taobao", "o2", day(0, 11), 5_000, 5_000, 1)
	refunded.Refund = orders.RefundDone
	unpaid := orders.Order{Platform: "jd", Shop: "s1", No: "o3", Status: orders.StatusUnpaid, Total: 3_000,
		CreatedAt: day(0, 12), Lines: []orders.Line{{SKU: "x", Qty: 1}}}
	metric := func(name string, d time.Time, v string) kpi.Metric {
		return kpi.Metric{Source: "ads", Name: name, Day: d, Value: decimal.RequireFromString(v)}
	}
	store := &memStore{
		orders: []orders.Order{
			paidOrder("jd", "o1", day(0, 10), 12_000, 10_000, 2), refunded, unpaid,
			paidOrder("jd", "o4", day(-1, 10), 8_000, 8_000, 1),
			paidOrder("jd", "o5", day(-7, 10), 20_000, 20_000, 4),
		},
		metrics: []kpi.Metric{metric("ad_spend", day(0, 0), "30"), metric("ad_spend", day(-1, 0), "0"),
			metric("cost", day(0, 0), "60")},
		onHand: func(time.Time) int64 { return 300 },
	}
	return kpi.NewBoard(store, f, func() time.Time { return today }), store
}

func dec(s string) kpi.Value { return kpi.Value{V: decimal.RequireFromString(s), Known: true} }

// requireValue fails unless got is want: both unknown, or both known and
// equal as numbers.
func requireValue(t *testing.T, want, got kpi.Value, msg string) {
	t.Helper()
	require.Equal(t, want.Known, got.Known, "%s: known", msg)
	require.True(t, want.V.Equal(got.V), "%s: got %s, want %s", msg, got.V, want.V)
}

func TestFiguresOfADay(t *testing.T) {
	t.Parallel()
	b, _ := newBoard(t)
	figs, err := b.Figures(t.Context(), nil, kpi.Day, today, kpi.China)
	require.NoError(t, err)
	unknown := kpi.Value{}
	want := map[string][3]kpi.Value{ // now, prev, a week ago
		"sales":         {dec("150"), dec("80"), dec("200")},
		"gmv":           {dec("200"), dec("80"), dec("200")},
		"orders":        {dec("2"), dec("1"), dec("1")},
		"units":         {dec("3"), dec("1"), dec("4")},
		"aov":           {dec("75"), dec("80"), dec("200")},
		"refund_rate":   {dec("0.5"), dec("0"), dec("0")},
		"refund_amount": {dec("50"), dec("0"), dec("0")},
		// (150 − 50 − 60) ÷ (150 − 50); no cost pushed on the other days.
		"gross_margin": {dec("0.4"), unknown, unknown},
		// 300 pieces on hand every day ÷ (8 pieces sold in 30 days ÷ 30);
		// yesterday's 30 days sold 5 pieces, those ending a week ago 4.
		"turnover_days": {dec("1125"), dec("1800"), dec("2250")},
		"jd_sales":      {dec("100"), dec("80"), dec("200")},
		"ad_spend":      {dec("30"), dec("0"), unknown},
		// ¥0 of ad spend yesterday: a division by zero is unknown.
		"roi":         {dec("5"), unknown, unknown},
		"margin_left": {dec("120"), dec("80"), unknown},
	}
	require.Len(t, figs, len(want))
	for _, f := range figs {
		w, ok := want[f.KPI.Name]
		require.True(t, ok, f.KPI.Name)
		require.Equal(t, day(0, 0), f.From, f.KPI.Name)
		require.Equal(t, day(1, 0), f.To, f.KPI.Name)
		requireValue(t, w[0], f.Now, f.KPI.Name+" now")
		requireValue(t, w[1], f.Prev, f.KPI.Name+" prev")
		requireValue(t, w[2], f.WeekAgo, f.KPI.Name+" a week ago")
	}
}

func TestFiguresSeriesAndBatchedReads(t *testing.T) {
	t.Parallel()
	b, store := newBoard(t)
	figs, err := b.Figures(t.Context(), []string{"sales", "orders", "aov", "refund_rate", "gmv"}, kpi.Day, today, kpi.China)
	require.NoError(t, err)
	require.Len(t, figs, 5)
	require.Equal(t, 8, store.totalsReads(), "one totals read per window (7 days of series and a week ago), shared by the KPIs")
	var got []string
	for _, p := range figs[0].Series {
		require.True(t, p.V.Known)
		got = append(got, p.From.Format("01-02")+"="+p.V.V.String())
	}
	require.Equal(t, []string{"11-24=0", "11-25=0", "11-26=0", "11-27=0", "11-28=0", "11-29=80", "11-30=150"}, got)
}

func TestFiguresOfAWeekAndAMonth(t *testing.T) {
	t.Parallel()
	b, _ := newBoard(t)
	figs, err := b.Figures(t.Context(), []string{"sales", "aov"}, kpi.Week, today, kpi.China)
	require.NoError(t, err)
	require.Equal(t, day(0, 0), figs[0].From, "the week starts on Monday")
	require.Equal(t, day(7, 0), figs[0].To)
	requireValue(t, dec("150"), figs[0].Now, "this week's sales")
	requireValue(t, dec("280"), figs[0].Prev, "last week's: 80 on Sunday, 200 on Monday")
	requireValue(t, kpi.Value{}, figs[0].WeekAgo, "a week has no same day a week ago")
	requireValue(t, dec("140"), figs[1].Prev, "last week's AOV: 280 ÷ 2")

	figs, err = b.Figures(t.Context(), []string{"sales"}, kpi.Month, day(1, 9), kpi.China)
	require.NoError(t, err)
	require.Equal(t, day(1, 0), figs[0].From, "1 December")
	requireValue(t, dec("0"), figs[0].Now, "nothing in December")
	requireValue(t, dec("430"), figs[0].Prev, "all of November")
}

func TestFiguresUnknownName(t *testing.T) {
	t.Parallel()
	b, _ := newBoard(t)
	_, err := b.Figures(t.Context(), []string{"sales", "profit"}, kpi.Day, today, kpi.China)
	require.ErrorIs(t, err, kpi.ErrUnknownKPI)
	require.ErrorContains(t, err, `no KPI named "profit"`)
	_, err = b.Figures(t.Context(), nil, kpi.Period("year"), today, kpi.China)
	require.ErrorContains(t, err, `period "year"`)
}
