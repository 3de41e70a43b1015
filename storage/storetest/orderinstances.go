package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
)

// The OrderInstances group checks orders.Store's links from orders to the
// flow instances started for them. Where the contract leaves a choice, the
// suite pins: StartedAt comes back in UTC to the microsecond; a repeated
// link keeps the first FlowID and StartedAt; links are per order key
// (platform, shop, number), and an order need not be stored to be linked.
func orderInstanceTests(count CountRowsFunc) []suiteTest {
	return []suiteTest{
		ordersTest("instance links: latest first, per order, limited", testOrderInstanceLinks),
		ordersTest("instance links: a repeat changes nothing", testOrderInstanceRepeat),
		suiteTest{name: "instance links: invalid ones write nothing", run: func(t *testing.T, newStore NewStoreFunc) {
			s := newStore(t)
			testOrderInstanceInvalid(t, asOrderStore(t, s), func() int64 { return count(t, s, "order_instances") })
		}},
		suiteTest{name: "race: one link of an order and instance", run: func(t *testing.T, newStore NewStoreFunc) {
			s := newStore(t)
			testOrderInstanceRace(t, asOrderStore(t, s), func() int64 { return count(t, s, "order_instances") })
		}},
	}
}

func link(no, instance, flow string, at time.Time) orders.InstanceLink {
	return orders.InstanceLink{Platform: "taobao", Shop: "云栖旗舰店", No: no, InstanceID: instance, FlowID: flow, StartedAt: at}
}

func testOrderInstanceLinks(t *testing.T, s orders.Store) {
	ctx := t.Context()
	got, err := s.OrderInstances(ctx, "taobao", "云栖旗舰店", "1001", 5)
	require.NoError(t, err)
	require.Empty(t, got, "none linked")
	// A time in China time with nanoseconds: it comes back in UTC, to the
	// microsecond.
	china := time.FixedZone("CST", 8*3600)
	first := time.Date(2026, 11, 30, 9, 1, 0, 123_456_789, china)
	for _, l := range []orders.InstanceLink{
		link("1001", "in-b", "order_fulfilment", first),
		link("1001", "in-c", "return_exchange", first.Add(time.Hour)),
		link("1001", "in-a", "return_exchange", first.Add(time.Hour)), // a tie: by id
		link("1001", "in-d", "order_fulfilment", first.Add(-time.Hour)),
		link("1002", "in-e", "order_fulfilment", first.Add(2*time.Hour)),                  // another order
		{Platform: "jd", Shop: "云栖旗舰店", No: "1001", InstanceID: "in-f", StartedAt: first}, // another platform
		{Platform: "taobao", Shop: "", No: "1001", InstanceID: "in-g", StartedAt: first},  // another shop
	} {
		require.NoError(t, s.LinkOrderInstance(ctx, l), "%+v", l)
	}
	got, err = s.OrderInstances(ctx, "taobao", "云栖旗舰店", "1001", 10)
	require.NoError(t, err)
	var ids []string
	for _, l := range got {
		ids = append(ids, l.InstanceID)
		require.Equal(t, "1001", l.No)
		require.Equal(t, "taobao", l.Platform)
		require.Equal(t, "云栖旗舰店", l.Shop)
		require.Equal(t, time.UTC, l.StartedAt.Location(), "in UTC")
	}
	require.Equal(t, []string{"in-a", "in-c", "in-b", "in-d"}, ids, "latest first, ties by id")
	require.Equal(t, first.Truncate(time.Microsecond).UTC(), got[2].StartedAt, "to the microsecond")
	require.Equal(t, "order_fulfilment", got[2].FlowID)
	require.Equal(t, "return_exchange", got[1].FlowID)

	got, err = s.OrderInstances(ctx, "taobao", "云栖旗舰店", "1001", 2)
	require.NoError(t, err)
	require.Len(t, got, 2, "limited")
	require.Equal(t, "in-a", got[0].InstanceID)
	for _, limit := range []int{0, -1} {
		got, err = s.OrderInstances(ctx, "taobao", "云栖旗舰店", "1001", limit)
		require.NoError(t, err)
		require.Empty(t, got, "limit %d", limit)
	}
	got, err = s.OrderInstances(ctx, "taobao", "", "1001", 10)
	require.NoError(t, err)
	require.Len(t, got, 1, "the empty shop is a shop")
	require.Equal(t, "in-g", got[0].InstanceID)
	got, err = s.OrderInstances(ctx, "taobao", "云栖旗舰店\x00", "1001", 10)
	require.NoError(t, err)
	require.Empty(t, got, "a key never stored finds nothing")
}

func testOrderInstanceRepeat(t *testing.T, s orders.Store) {
	ctx := t.Context()
	at := At(0)
	require.NoError(t, s.LinkOrderInstance(ctx, link("1001", "in-a", "order_fulfilment", at)))
	require.NoError(t, s.LinkOrderInstance(ctx, link("1001", "in-a", "return_exchange", at.Add(time.Hour))))
	got, err := s.OrderInstances(ctx, "taobao", "云栖旗舰店", "1001", 5)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "order_fulfilment", got[0].FlowID, "the first stays")
	require.True(t, at.Equal(got[0].StartedAt), "the first stays: %v", got[0].StartedAt)
}

func testOrderInstanceInvalid(t *testing.T, s orders.Store, rows func() int64) {
	long := strings.Repeat("x", 513)
	for _, tc := range []struct {
		name string
		l    orders.InstanceLink
	}{
		{name: "no platform", l: orders.InstanceLink{No: "1", InstanceID: "i"}},
		{name: "no number", l: orders.InstanceLink{Platform: "jd", InstanceID: "i"}},
		{name: "no instance", l: orders.InstanceLink{Platform: "jd", No: "1"}},
		{name: "long number", l: orders.InstanceLink{Platform: "jd", No: long, InstanceID: "i"}},
		{name: "NUL in the shop", l: orders.InstanceLink{Platform: "jd", Shop: "a\x00", No: "1", InstanceID: "i"}},
		{name: "not UTF-8 flow", l: orders.InstanceLink{Platform: "jd", No: "1", InstanceID: "i", FlowID: "\xff"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, s.LinkOrderInstance(t.Context(), tc.l), orders.ErrInvalid)
		})
	}
	require.Zero(t, rows(), "nothing written")
}

func testOrderInstanceRace(t *testing.T, s orders.Store, rows func() int64) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.LinkOrderInstance(t.Context(), link("1001", "in-a", "order_fulfilment", At(time.Duration(i))))
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(1), rows(), "one row")
}
