package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/flows"
)

// The Orders group checks orders.Store, which every flows.Store under test
// must implement as well. Where the contract leaves a choice, the suite
// pins:
//   - Times of orders and events come back in UTC, equal to the instant
//     written to the nanosecond (the stores keep JSON documents); zero times
//     stay zero; nil and empty lines are equal.
//   - The order IngestOrderEvent answers with is the order as it reads back
//     from the store afterwards.
//   - A repeated event (same source and id) is answered with the order the
//     first recording applied to, as it stands now, whatever the repeat
//     carries; the event recorded stays the first one.
//   - OrdersByNo orders by Order.UpdatedAt (the platform's time), newest
//     first; orders without one come last; ties go by platform, then shop,
//     in byte order.
//   - UnroutedOrderEvents returns events in the order they were recorded;
//     a limit of 0 or less returns none. RecordedAt is the store's clock,
//     in UTC, and does not go back from one event to the next when they
//     are recorded one after the other.
//   - MarkOrderEventRouted keeps the first routing; a zero at still marks
//     the event routed; a repeat of a routed event leaves it routed.
//   - Besides failing Validate, an event the store cannot record fails with
//     orders.ErrInvalid: text kept in columns (source, id, kind, platform,
//     shop, number, status, refund) that is not UTF-8 or holds NUL, and
//     times JSON cannot write (years beyond 9999). Lookups by such keys find
//     nothing and are not errors. Other text is kept as JSON keeps it: NUL
//     included, bytes that are not UTF-8 replaced by U+FFFD.
func ordersTests(count CountRowsFunc) []suiteTest {
	return []suiteTest{
		ordersTest("full order round trip", testOrderRoundTrip),
		ordersTest("a repeated event changes nothing", testRepeatedOrderEvent),
		ordersTest("a thin push moves the stored order", testThinPush),
		ordersTest("details older than the stored order change nothing", testLateDetail),
		ordersTest("a thin push before the order's detail", testThinBeforeDetail),
		ordersTest("orders by number on every platform, newest first", testOrdersByNo),
		ordersTest("unrouted events oldest first, then routed", testUnroutedOrderEvents),
		suiteTest{name: "invalid events write nothing", run: func(t *testing.T, newStore NewStoreFunc) {
			s := newStore(t)
			testInvalidOrderEvents(t, asOrderStore(t, s), func(table string) int64 { return count(t, s, table) })
		}},
		suiteTest{name: "race: one first of an event", run: func(t *testing.T, newStore NewStoreFunc) {
			s := newStore(t)
			testOrderEventRace(t, asOrderStore(t, s), func(table string) int64 { return count(t, s, table) })
		}},
		ordersTest("race: concurrent events on one order are all applied", testOrderMergeRace),
		ordersTest("pollers' cursors per source and shop", testOrderCursors),
	}
}

func testOrderCursors(t *testing.T, s orders.Store) {
	ctx := t.Context()
	got, err := s.OrderCursor(ctx, "jd-pop", "10012345")
	require.NoError(t, err)
	require.Empty(t, got, "never polled")
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	require.NoError(t, s.SetOrderCursor(ctx, "jd-pop", "10012345", "2026-11-30T09:00:00+08:00|1", at))
	require.NoError(t, s.SetOrderCursor(ctx, "jd-pop", "other", "x", at))
	require.NoError(t, s.SetOrderCursor(ctx, "jd-pop", "10012345", "2026-11-30T10:00:00+08:00|3", at.Add(time.Hour)))
	got, err = s.OrderCursor(ctx, "jd-pop", "10012345")
	require.NoError(t, err)
	require.Equal(t, "2026-11-30T10:00:00+08:00|3", got, "the latest cursor")
	got, err = s.OrderCursor(ctx, "jd-pop", "other")
	require.NoError(t, err)
	require.Equal(t, "x", got, "one per shop")
	got, err = s.OrderCursor(ctx, "taobao-tmc", "10012345")
	require.NoError(t, err)
	require.Empty(t, got, "one per source")
	for _, bad := range [][3]string{{"", "s", "c"}, {"src", "", "c"}, {"src", "s", ""}, {"src", "s\x00", "c"},
		{"src", "s", strings.Repeat("c", 513)}} {
		require.ErrorIs(t, s.SetOrderCursor(ctx, bad[0], bad[1], bad[2], at), orders.ErrInvalid, "%q", bad)
	}
}

// ordersTest adapts a test of an orders.Store to the suite, whose stores
// are flows.Stores.
func ordersTest(name string, fn func(t *testing.T, s orders.Store)) suiteTest {
	return storeTest(name, func(t *testing.T, s flows.Store) { fn(t, asOrderStore(t, s)) })
}

func asOrderStore(t *testing.T, s flows.Store) orders.Store {
	t.Helper()
	store, ok := s.(orders.Store)
	require.True(t, ok, "%T must implement orders.Store as well", s)
	return store
}

// NewOrder returns a paid order with every field set but Refund, ShippedAt
// and the lines' refunds: two lines, times in China time to the
// nanosecond, last changed at updated.
func NewOrder(platform, shop, no string, updated time.Time) orders.Order {
	return orders.Order{
		Platform: platform, Shop: shop, No: no,
		Status: orders.StatusPaid, PlatformStatus: "WAIT_SELLER_SEND_GOODS",
		Total: 35_600, Paid: 33_400, Postage: 800, Discount: 3_000,
		Buyer: "李*", Province: "浙江省", City: "杭州市",
		Lines: []orders.Line{
			{SKU: "5001234567890", OuterSKU: "TEA-LJ-250", Title: "明前龙井 250g", Qty: 2, Price: 12_800, Paid: 11_800},
			{SKU: "5001234567891", OuterSKU: "CUP-01", Title: "玻璃杯", Qty: 1, Price: 10_000, Paid: 9_000},
		},
		CreatedAt: At(-2*time.Hour + 123),
		PaidAt:    At(-time.Hour + 456),
		UpdatedAt: updated,
	}
}

// thinEvent returns a platform's thin push about an order: its key, and
// status and paid amount when given.
func thinEvent(id string, kind orders.EventKind, key orders.Order, status orders.Status, platformStatus string,
	paid orders.Money, at time.Time,
) orders.Event {
	return orders.Event{ID: id, Kind: kind, At: at, Order: orders.Order{
		Platform: key.Platform, Shop: key.Shop, No: key.No, Status: status, PlatformStatus: platformStatus, Paid: paid,
	}}
}

// detailEvent returns the event of a whole order with its own id.
func detailEvent(id string, o orders.Order) orders.Event {
	e := orders.OrderEvent("erp", o, BaseTime)
	e.ID = id
	return e
}

// RequireOrder fails the test unless got is want as stored.
func RequireOrder(t testing.TB, want, got orders.Order) {
	t.Helper()
	what := fmt.Sprintf("order %s/%s/%s", want.Platform, want.Shop, want.No)
	requireInstant(t, what+": CreatedAt", want.CreatedAt, &got.CreatedAt)
	requireInstant(t, what+": PaidAt", want.PaidAt, &got.PaidAt)
	requireInstant(t, what+": ShippedAt", want.ShippedAt, &got.ShippedAt)
	requireInstant(t, what+": UpdatedAt", want.UpdatedAt, &got.UpdatedAt)
	if len(want.Lines) == 0 && len(got.Lines) == 0 {
		want.Lines, got.Lines = nil, nil
	}
	require.Equal(t, want, got, what)
}

// RequireStoredEvent fails the test unless got is the event e from source,
// recorded with the order after it as want. RecordedAt must be set, in UTC.
func RequireStoredEvent(t testing.TB, source string, e orders.Event, want orders.Order, got orders.StoredEvent) {
	t.Helper()
	what := "event " + source + " " + e.ID
	require.Equal(t, source, got.Source, what)
	require.False(t, got.RecordedAt.IsZero(), "%s: RecordedAt must be set", what)
	require.Equal(t, time.UTC, got.RecordedAt.Location(), "%s: RecordedAt must be in UTC", what)
	RequireOrder(t, e.Order, got.Event.Order)
	RequireOrder(t, want, got.Order)
	requireInstant(t, what+": At", e.At, &got.Event.At)
	got.Event.Order = e.Order
	require.Equal(t, e, got.Event, what)
}

// requireInstant checks a time that must come back exact and in UTC, and
// then copies want into got so the caller's require.Equal compares the
// rest.
func requireInstant(t testing.TB, what string, want time.Time, got *time.Time) {
	t.Helper()
	if want.IsZero() {
		require.True(t, got.IsZero(), "%s must stay zero, got %v", what, *got)
		*got = want
		return
	}
	require.Equal(t, time.UTC, got.Location(), "%s must come back in UTC, got %v", what, *got)
	require.True(t, got.Equal(want), "%s = %s, want %s", what,
		got.Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
	*got = want
}

// mustIngest ingests e from source, requires first to be as given, and
// returns the order as stored after.
func mustIngest(t *testing.T, s orders.Store, source string, e orders.Event, first bool) orders.Order {
	t.Helper()
	got, o, err := s.IngestOrderEvent(t.Context(), source, e)
	require.NoError(t, err, "ingest %s %s", source, e.ID)
	require.Equal(t, first, got, "ingest %s %s: first", source, e.ID)
	return o
}

func requireOrdersByNo(t *testing.T, s orders.Store, no string, want ...orders.Order) {
	t.Helper()
	got, err := s.OrdersByNo(t.Context(), no)
	require.NoError(t, err)
	require.Len(t, got, len(want), "orders numbered %q", no)
	for i := range want {
		RequireOrder(t, want[i], got[i])
	}
}

func unrouted(t *testing.T, s orders.Store, limit int) []orders.StoredEvent {
	t.Helper()
	got, err := s.UnroutedOrderEvents(t.Context(), limit)
	require.NoError(t, err)
	return got
}

func testOrderRoundTrip(t *testing.T, s orders.Store) {
	o := NewOrder("taobao", "茶叶旗舰店", "4012345678901234567", At(30*time.Minute+789))
	o.Status, o.PlatformStatus, o.Refund = orders.StatusShipped, "WAIT_BUYER_CONFIRM_GOODS", orders.RefundRefused
	o.Total = 1<<53 + 1 // no float64 holds it
	o.ShippedAt = At(20 * time.Minute)
	o.Lines[1].Refund = orders.RefundClosed
	o.Lines[1].Title = "玻璃杯\x00<b>&\"" // text outside the key columns may hold NUL
	// A gift: no SKU id, no price.
	o.Lines = append(o.Lines, orders.Line{OuterSKU: "GIFT", Qty: 1})
	e := orders.OrderEvent("taobao", o, BaseTime)

	got := mustIngest(t, s, "erp-1", e, true)
	RequireOrder(t, o, got)
	requireOrdersByNo(t, s, o.No, o)
	events := unrouted(t, s, 10)
	require.Len(t, events, 1)
	RequireStoredEvent(t, "erp-1", e, o, events[0])
}

func testRepeatedOrderEvent(t *testing.T, s orders.Store) {
	o := NewOrder("jd", "v-10086", "300001", BaseTime)
	e := orders.OrderEvent("jd", o, BaseTime)
	RequireOrder(t, o, mustIngest(t, s, "jd", e, true))

	// The same id again, now carrying news: not recorded, not applied.
	again := e
	again.Kind, again.Order.Status, again.Order.UpdatedAt = orders.EventShipped, orders.StatusShipped, At(time.Hour)
	RequireOrder(t, o, mustIngest(t, s, "jd", again, false))
	requireOrdersByNo(t, s, o.No, o)

	// The same id from another source is another event.
	RequireOrder(t, again.Order, mustIngest(t, s, "erp", again, true))
	// A repeat is answered with the order as it now stands.
	RequireOrder(t, again.Order, mustIngest(t, s, "jd", e, false))

	events := unrouted(t, s, 10)
	require.Len(t, events, 2)
	RequireStoredEvent(t, "jd", e, o, events[0])
	RequireStoredEvent(t, "erp", again, again.Order, events[1])
}

func testThinPush(t *testing.T, s orders.Store) {
	// Each case stores a paid order last changed at BaseTime, then pushes
	// push over it; edit makes the stored order into the one expected.
	tests := []struct {
		name string
		push func(key orders.Order) orders.Event
		edit func(o *orders.Order)
	}{
		{
			name: "shipped moves the status",
			push: func(k orders.Order) orders.Event {
				return thinEvent("m-1", orders.EventShipped, k, orders.StatusShipped, "3", 0, At(time.Minute))
			},
			edit: func(o *orders.Order) {
				o.Status, o.PlatformStatus, o.UpdatedAt = orders.StatusShipped, "3", At(time.Minute)
			},
		},
		{
			name: "a refund request without a status moves only the refund",
			push: func(k orders.Order) orders.Event {
				return thinEvent("m-2", orders.EventRefundRequested, k, "", "", 0, At(time.Minute))
			},
			edit: func(o *orders.Order) { o.Refund, o.UpdatedAt = orders.RefundRequested, At(time.Minute) },
		},
		{
			name: "refunded closes it",
			push: func(k orders.Order) orders.Event {
				return thinEvent("m-3", orders.EventRefunded, k, orders.StatusClosed, "4", 0, At(time.Minute))
			},
			edit: func(o *orders.Order) {
				o.Status, o.PlatformStatus, o.Refund, o.UpdatedAt = orders.StatusClosed, "4", orders.RefundDone, At(time.Minute)
			},
		},
		{
			name: "a paid amount replaces the stored one",
			push: func(k orders.Order) orders.Event {
				return thinEvent("m-4", orders.EventChanged, k, orders.StatusPaid, "2", 30_100, At(time.Minute))
			},
			edit: func(o *orders.Order) {
				o.PlatformStatus, o.Paid, o.UpdatedAt = "2", 30_100, At(time.Minute)
			},
		},
		{
			name: "an older push moves the status but not the update time",
			push: func(k orders.Order) orders.Event {
				return thinEvent("m-5", orders.EventFinished, k, orders.StatusFinished, "5", 0, At(-time.Minute))
			},
			edit: func(o *orders.Order) { o.Status, o.PlatformStatus = orders.StatusFinished, "5" },
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stored := NewOrder("douyin", "shop-9", fmt.Sprint("69", 1000+i), BaseTime)
			mustIngest(t, s, "douyin", detailEvent(fmt.Sprint("detail-", i), stored), true)
			push := tc.push(stored)
			want := stored
			want.Lines = append([]orders.Line(nil), stored.Lines...)
			tc.edit(&want)
			RequireOrder(t, want, mustIngest(t, s, "douyin", push, true))
			requireOrdersByNo(t, s, stored.No, want)
		})
	}
}

func testLateDetail(t *testing.T, s orders.Store) {
	// One order's details arrive in this order; each is recorded, and the
	// stored order after it is want (an index into details).
	base := NewOrder("pdd", "mall-1", "240618-001", At(time.Hour))
	details := []orders.Order{base, base, base, base, base}
	details[1].Status, details[1].UpdatedAt = orders.StatusUnpaid, BaseTime
	details[2].Status, details[2].UpdatedAt = orders.StatusShipped, At(2*time.Hour)
	details[2].Lines, details[2].Buyer = details[2].Lines[:1], ""
	details[3].Status, details[3].UpdatedAt = orders.StatusFinished, At(2*time.Hour)
	details[4].Status, details[4].UpdatedAt = orders.StatusClosed, time.Time{}
	tests := []struct {
		name string
		want int
	}{
		{name: "the first detail is stored", want: 0},
		{name: "an older detail changes nothing", want: 0},
		{name: "a newer detail replaces the order whole", want: 2},
		{name: "a detail of the same time replaces it", want: 3},
		{name: "a detail without an update time replaces it", want: 4},
	}
	for i, tc := range tests {
		got := mustIngest(t, s, "pdd", detailEvent(fmt.Sprint("d-", i), details[i]), true)
		RequireOrder(t, details[tc.want], got)
		requireOrdersByNo(t, s, base.No, details[tc.want])
	}
	events := unrouted(t, s, 10)
	require.Len(t, events, len(tests))
	for i, tc := range tests {
		RequireStoredEvent(t, "pdd", detailEvent(fmt.Sprint("d-", i), details[i]), details[tc.want], events[i])
	}
}

func testThinBeforeDetail(t *testing.T, s orders.Store) {
	key := orders.Order{Platform: "douyin", Shop: "shop-7", No: "6912345678901234567"}
	paid := thinEvent("douyin/m-1", orders.EventPaid, key, orders.StatusPaid, "2", 4_500, BaseTime)
	// Kept as it is: the thin order, with no lines or times.
	RequireOrder(t, paid.Order, mustIngest(t, s, "douyin", paid, true))
	requireOrdersByNo(t, s, key.No, paid.Order)

	// A refund request on an order not stored yet records the refund.
	other := orders.Order{Platform: "douyin", Shop: "shop-7", No: "6912345678901234568"}
	refund := thinEvent("douyin/m-2", orders.EventRefundRequested, other, "", "", 0, BaseTime)
	want := refund.Order
	want.Refund = orders.RefundRequested
	RequireOrder(t, want, mustIngest(t, s, "douyin", refund, true))

	// Its detail replaces the thin order.
	detail := NewOrder(key.Platform, key.Shop, key.No, At(time.Minute))
	RequireOrder(t, detail, mustIngest(t, s, "douyin", orders.OrderEvent("douyin", detail, BaseTime), true))
	requireOrdersByNo(t, s, key.No, detail)
}

func testOrdersByNo(t *testing.T, s orders.Store) {
	const no = "1001"
	taobaoA := NewOrder("taobao", "shop-a", no, At(time.Hour))
	taobaoB := NewOrder("taobao", "shop-b", no, At(3*time.Hour))
	jd := NewOrder("jd", "v-2", no, At(3*time.Hour)) // ties with taobaoB: "jd" sorts first
	douyin := NewOrder("douyin", "s-4", no, At(2*time.Hour))
	pdd := orders.Order{Platform: "pdd", Shop: "m-3", No: no, Status: orders.StatusPaid} // no update time: last
	another := NewOrder("taobao", "shop-a", "1002", At(4*time.Hour))
	for i, o := range []orders.Order{taobaoA, pdd, another, douyin, jd, taobaoB} {
		mustIngest(t, s, "erp", orders.Event{ID: fmt.Sprint("e-", i), Kind: orders.EventPaid, Order: o, Full: i != 1}, true)
	}
	requireOrdersByNo(t, s, no, jd, taobaoB, douyin, taobaoA, pdd)
	requireOrdersByNo(t, s, "1002", another)
	requireOrdersByNo(t, s, "1003")
	requireOrdersByNo(t, s, "100") // a prefix is another number
	requireOrdersByNo(t, s, "1001\x00")
}

func testUnroutedOrderEvents(t *testing.T, s orders.Store) {
	ctx := t.Context()
	a := NewOrder("taobao", "shop-a", "2001", BaseTime)
	b := NewOrder("jd", "v-1", "2002", BaseTime)
	aShipped := a
	aShipped.Status, aShipped.PlatformStatus, aShipped.UpdatedAt = orders.StatusShipped, "s", At(time.Hour)
	bRefund := b
	bRefund.Refund, bRefund.UpdatedAt = orders.RefundRequested, At(time.Minute)
	aFinished := aShipped
	aFinished.Status, aFinished.PlatformStatus, aFinished.UpdatedAt = orders.StatusFinished, "f", At(2*time.Hour)
	steps := []struct {
		source string
		e      orders.Event
		after  orders.Order // the order as it stood right after the event
	}{
		{source: "taobao", e: orders.OrderEvent("taobao", a, BaseTime), after: a},
		{source: "jd", e: orders.OrderEvent("jd", b, BaseTime), after: b},
		{source: "taobao", e: thinEvent("tb/1", orders.EventShipped, a, orders.StatusShipped, "s", 0, At(time.Hour)), after: aShipped},
		{source: "jd", e: thinEvent("jd/1", orders.EventRefundRequested, b, "", "", 0, At(time.Minute)), after: bRefund},
		{source: "taobao", e: thinEvent("tb/2", orders.EventFinished, a, orders.StatusFinished, "f", 0, At(2*time.Hour)), after: aFinished},
	}
	// Checks that got is the steps numbered want, in that order.
	requireSteps := func(got []orders.StoredEvent, want ...int) {
		t.Helper()
		require.Len(t, got, len(want))
		for i, w := range want {
			RequireStoredEvent(t, steps[w].source, steps[w].e, steps[w].after, got[i])
			if i > 0 {
				require.False(t, got[i].RecordedAt.Before(got[i-1].RecordedAt), "recorded times go back")
			}
		}
	}
	requireSteps(unrouted(t, s, 10))
	for _, st := range steps {
		mustIngest(t, s, st.source, st.e, true)
	}
	requireSteps(unrouted(t, s, 10), 0, 1, 2, 3, 4)
	requireSteps(unrouted(t, s, 2), 0, 1)
	requireSteps(unrouted(t, s, 0))
	requireSteps(unrouted(t, s, -1))

	marks := []struct {
		name       string
		source, id string
		at         time.Time
	}{
		{name: "the oldest", source: "taobao", id: steps[0].e.ID, at: BaseTime},
		{name: "a thin push", source: "taobao", id: "tb/1", at: BaseTime},
		{name: "the oldest again", source: "taobao", id: steps[0].e.ID, at: At(time.Hour)},
		{name: "at the zero time", source: "jd", id: "jd/1"},
		{name: "an unknown id", source: "taobao", id: "tb/404", at: BaseTime},
		{name: "an id under another source", source: "jd", id: "tb/2", at: BaseTime},
		{name: "an id no event can have", source: "jd", id: "jd/\x00", at: BaseTime},
		{name: "a source no event can have", source: "\xff", id: "tb/2", at: BaseTime},
	}
	for _, m := range marks {
		require.NoError(t, s.MarkOrderEventRouted(ctx, m.source, m.id, m.at), m.name)
	}
	requireSteps(unrouted(t, s, 10), 1, 4)

	// A repeat of a routed event does not bring it back.
	mustIngest(t, s, "taobao", steps[0].e, false)
	requireSteps(unrouted(t, s, 10), 1, 4)
}

func testInvalidOrderEvents(t *testing.T, s orders.Store, rows func(table string) int64) {
	ctx := t.Context()
	valid := orders.OrderEvent("jd", NewOrder("jd", "v-1", "3001", BaseTime), BaseTime)
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		source string
		edit   func(e *orders.Event)
	}{
		{name: "no id", edit: func(e *orders.Event) { e.ID = "" }},
		{name: "an id over 512 bytes", edit: func(e *orders.Event) { e.ID = strings.Repeat("x", 513) }},
		{name: "no kind", edit: func(e *orders.Event) { e.Kind = "" }},
		{name: "no order number", edit: func(e *orders.Event) { e.Order.No = "" }},
		{name: "no platform", edit: func(e *orders.Event) { e.Order.Platform = "" }},
		{name: "a detail with an unknown status", edit: func(e *orders.Event) { e.Order.Status = "lost" }},
		{name: "a detail with a line of no quantity", edit: func(e *orders.Event) { e.Order.Lines[0].Qty = 0 }},
		{name: "a thin push with no number", edit: func(e *orders.Event) {
			*e = thinEvent("m-1", orders.EventPaid, orders.Order{Platform: "douyin"}, orders.StatusPaid, "2", 0, BaseTime)
		}},
		{name: "NUL in the id", edit: func(e *orders.Event) { e.ID = "jd/\x00" }},
		{name: "NUL in a thin push's shop", edit: func(e *orders.Event) {
			*e = thinEvent("m-2", orders.EventPaid, orders.Order{Platform: "douyin", Shop: "s\x00", No: "69"}, "", "", 0, BaseTime)
		}},
		{name: "a source not UTF-8", source: "erp-\xff"},
		{name: "an order number not UTF-8", edit: func(e *orders.Event) { e.Order.No = "3001\xff" }},
		{name: "an event time JSON cannot write", edit: func(e *orders.Event) { e.At = far }},
		{name: "an order time JSON cannot write", edit: func(e *orders.Event) { e.Order.UpdatedAt = far }},
	}
	for _, tc := range tests {
		e := valid
		e.Order.Lines = append([]orders.Line(nil), valid.Order.Lines...)
		if tc.edit != nil {
			tc.edit(&e)
		}
		source := tc.source
		if source == "" {
			source = "jd"
		}
		first, o, err := s.IngestOrderEvent(ctx, source, e)
		require.ErrorIs(t, err, orders.ErrInvalid, tc.name)
		require.False(t, first, tc.name)
		require.Zero(t, o, tc.name)
	}
	require.Empty(t, unrouted(t, s, 100), "nothing may be written")
	requireOrdersByNo(t, s, valid.Order.No)
	require.Zero(t, rows("orders"), "nothing may be written")
	require.Zero(t, rows("order_events"), "nothing may be written")

	// At the limits: recorded.
	long := valid
	long.ID = strings.Repeat("审", 170) + "xx" // 512 bytes
	mustIngest(t, s, "jd", long, true)
	require.Equal(t, int64(1), rows("order_events"))
}
