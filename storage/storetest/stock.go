package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/stock"
	"cardflow/flows"
)

// The Stock group checks stock.Store, which every flows.Store under test
// must implement as well. Where the contract leaves a choice, the suite
// pins:
//   - Times come back in UTC, equal to the prepared movement's (to the
//     microsecond); RecordedAt is the store's clock, in UTC.
//   - A repeat (same source and id) is answered with the first recording's
//     record, whatever the repeat carries, and with the row it concerns as
//     it stands now.
//   - StockOf orders rows by warehouse in byte order; a SKU that no row can
//     have (not UTF-8, NUL) finds nothing and is not an error.
func stockTests(count CountRowsFunc) []suiteTest {
	rows := func(t *testing.T, s flows.Store) func(string) int64 {
		return func(table string) int64 { return count(t, s, table) }
	}
	return []suiteTest{
		stockTest("round trip of movements and rows", testStockRoundTrip),
		stockTest("a repeat changes nothing", testStockRepeat),
		suiteTest{name: "invalid movements write nothing", run: func(t *testing.T, newStore NewStoreFunc) {
			s := newStore(t)
			testInvalidMovements(t, asStockStore(t, s), rows(t, s))
		}},
		stockTest("race: concurrent movements on one row are all applied", testStockRace),
		suiteTest{name: "race: one first of a movement", run: func(t *testing.T, newStore NewStoreFunc) {
			s := newStore(t)
			testStockRepeatRace(t, asStockStore(t, s), rows(t, s))
		}},
	}
}

// stockTest adapts a test of a stock.Store to the suite.
func stockTest(name string, fn func(t *testing.T, s stock.Store)) suiteTest {
	return storeTest(name, func(t *testing.T, s flows.Store) { fn(t, asStockStore(t, s)) })
}

func asStockStore(t *testing.T, s flows.Store) stock.Store {
	t.Helper()
	store, ok := s.(stock.Store)
	require.True(t, ok, "%T must implement stock.Store as well", s)
	return store
}

// NewMovement returns a movement from the WMS on TEA-LJ-250 in hz-1 at
// BaseTime plus d (to the nanosecond, in China time).
func NewMovement(id string, kind stock.Kind, qty int64, d time.Duration) stock.Movement {
	return stock.Movement{Source: "wms", EventID: id, SKU: "TEA-LJ-250", Warehouse: "hz-1", Kind: kind, Qty: qty,
		At: At(d + 789)}
}

// applyOK applies m, requiring it to be first or a repeat as wantFirst.
func applyOK(t *testing.T, s stock.Store, m stock.Movement, wantFirst bool) (stock.Record, stock.Level) {
	t.Helper()
	rec, now, first, err := s.ApplyMovement(t.Context(), m)
	require.NoError(t, err, "movement %s/%s", m.Source, m.EventID)
	require.Equal(t, wantFirst, first, "first of movement %s/%s", m.Source, m.EventID)
	return rec, now
}

// RequireRecord fails the test unless got is the record of m (as Prepare
// returns it) with these deltas and row after; RecordedAt must be set, in
// UTC.
func RequireRecord(t testing.TB, m stock.Movement, onHand, reserved int64, after stock.Level, got stock.Record) {
	t.Helper()
	p, err := stock.Prepare(m)
	require.NoError(t, err)
	require.False(t, got.RecordedAt.IsZero(), "RecordedAt must be set")
	require.Equal(t, time.UTC, got.RecordedAt.Location(), "RecordedAt must be in UTC")
	got.RecordedAt = time.Time{}
	require.Equal(t, time.UTC, got.At.Location(), "At must come back in UTC")
	require.Equal(t, time.UTC, got.After.UpdatedAt.Location(), "UpdatedAt must come back in UTC")
	require.Equal(t, stock.Record{Movement: p, OnHandDelta: onHand, ReservedDelta: reserved, After: after}, got,
		"movement %s/%s", m.Source, m.EventID)
}

// level is a row with its UpdatedAt as the stores return it.
func level(sku, warehouse string, onHand, reserved int64, updated time.Time) stock.Level {
	return stock.Level{SKU: sku, Warehouse: warehouse, OnHand: onHand, Reserved: reserved,
		UpdatedAt: updated.UTC().Truncate(time.Microsecond)}
}

func requireStockOf(t *testing.T, s stock.Store, sku string, want ...stock.Level) {
	t.Helper()
	got, err := s.StockOf(t.Context(), sku)
	require.NoError(t, err)
	for _, l := range got {
		require.Equal(t, time.UTC, l.UpdatedAt.Location(), "UpdatedAt must come back in UTC")
	}
	if len(want) == 0 {
		require.Empty(t, got, "stock of %q", sku)
		return
	}
	require.Equal(t, want, got, "stock of %q", sku)
}

func testStockRoundTrip(t *testing.T, s stock.Store) {
	requireStockOf(t, s, "TEA-LJ-250")
	set := NewMovement("wms-1", stock.KindSet, 12, 0)
	rec, now := applyOK(t, s, set, true)
	hz := level("TEA-LJ-250", "hz-1", 12, 0, set.At)
	RequireRecord(t, set, 12, 0, hz, rec)
	require.Equal(t, hz, now)

	reserve := NewMovement("o-1", stock.KindReserve, 5, time.Minute)
	reserve.Source, reserve.OrderNo, reserve.Platform = "orders", "TB-1", "taobao"
	rec, now = applyOK(t, s, reserve, true)
	hz = level("TEA-LJ-250", "hz-1", 12, 5, reserve.At)
	RequireRecord(t, reserve, 0, 5, hz, rec)
	require.Equal(t, hz, now)

	// A shipped order takes its reservation; an older movement does not
	// move the row's time back.
	ship := NewMovement("o-2", stock.KindShip, 7, -time.Hour)
	ship.Source, ship.FromReserved = "orders", true
	rec, _ = applyOK(t, s, ship, true)
	hz = level("TEA-LJ-250", "hz-1", 5, 0, reserve.At)
	RequireRecord(t, ship, -7, -5, hz, rec)
	require.Equal(t, int64(5), rec.Before().Reserved)

	adjust := NewMovement("wms-2", stock.KindAdjust, -9, 2*time.Minute)
	rec, _ = applyOK(t, s, adjust, true)
	hz = level("TEA-LJ-250", "hz-1", -4, 0, adjust.At)
	RequireRecord(t, adjust, -9, 0, hz, rec)

	// Other warehouses, and another SKU.
	other := []stock.Movement{
		{Source: "wms", EventID: "wms-3", SKU: "TEA-LJ-250", Warehouse: "bj-1", Kind: stock.KindReceive, Qty: 3, At: At(0)},
		{Source: "wms", EventID: "wms-4", SKU: "TEA-LJ-250", Warehouse: "Z-9", Kind: stock.KindReceive, Qty: 1, At: At(0)},
		{Source: "wms", EventID: "wms-5", SKU: "CUP-01", Warehouse: "hz-1", Kind: stock.KindReceive, Qty: 2, At: At(0)},
		{Source: "orders", EventID: "o-3", SKU: "CUP-01", Warehouse: "hz-1", Kind: stock.KindRelease, Qty: 2, At: At(0)},
	}
	for _, m := range other {
		applyOK(t, s, m, true)
	}
	requireStockOf(t, s, "TEA-LJ-250", level("TEA-LJ-250", "Z-9", 1, 0, At(0)),
		level("TEA-LJ-250", "bj-1", 3, 0, At(0)), hz) // byte order: upper case first
	requireStockOf(t, s, "CUP-01", level("CUP-01", "hz-1", 2, 0, At(0)))
	requireStockOf(t, s, "TEA")
	requireStockOf(t, s, "TEA-LJ-250\x00")
	requireStockOf(t, s, "\xff")
}

func testStockRepeat(t *testing.T, s stock.Store) {
	receive := NewMovement("wms-1", stock.KindReceive, 10, 0)
	first, _ := applyOK(t, s, receive, true)
	applyOK(t, s, NewMovement("wms-2", stock.KindShip, 4, time.Minute), true)

	tests := []struct {
		name string
		edit func(m *stock.Movement)
	}{
		{name: "the same movement"},
		{name: "the same id with another quantity", edit: func(m *stock.Movement) { m.Qty = 99 }},
		{name: "the same id on another row", edit: func(m *stock.Movement) { m.SKU, m.Warehouse = "CUP-01", "bj-1" }},
	}
	for _, tc := range tests {
		m := receive
		if tc.edit != nil {
			tc.edit(&m)
		}
		rec, now := applyOK(t, s, m, false)
		require.Equal(t, first, rec, "%s: the first record", tc.name)
		require.Equal(t, level("TEA-LJ-250", "hz-1", 6, 0, At(time.Minute+789)), now, "%s: the row as it stands", tc.name)
	}
	requireStockOf(t, s, "CUP-01")

	// The same id from another source is another movement.
	other := receive
	other.Source = "erp"
	applyOK(t, s, other, true)
	requireStockOf(t, s, "TEA-LJ-250", level("TEA-LJ-250", "hz-1", 16, 0, At(time.Minute+789)))
}

func testInvalidMovements(t *testing.T, s stock.Store, rows func(table string) int64) {
	tests := []struct {
		name string
		edit func(m *stock.Movement)
	}{
		{name: "no source", edit: func(m *stock.Movement) { m.Source = "" }},
		{name: "no event id", edit: func(m *stock.Movement) { m.EventID = "" }},
		{name: "an event id over 512 bytes", edit: func(m *stock.Movement) { m.EventID = strings.Repeat("x", 513) }},
		{name: "no SKU", edit: func(m *stock.Movement) { m.SKU = "" }},
		{name: "no warehouse", edit: func(m *stock.Movement) { m.Warehouse = "" }},
		{name: "NUL in the SKU", edit: func(m *stock.Movement) { m.SKU = "A\x00" }},
		{name: "a source not UTF-8", edit: func(m *stock.Movement) { m.Source = "wms-\xff" }},
		{name: "an unknown kind", edit: func(m *stock.Movement) { m.Kind = "steal" }},
		{name: "a receive of nothing", edit: func(m *stock.Movement) { m.Kind, m.Qty = stock.KindReceive, 0 }},
		{name: "a negative set", edit: func(m *stock.Movement) { m.Qty = -1 }},
		{name: "a quantity over the limit", edit: func(m *stock.Movement) { m.Qty = stock.MaxQty + 1 }},
		{name: "no time", edit: func(m *stock.Movement) { m.At = time.Time{} }},
		{name: "an order number not UTF-8", edit: func(m *stock.Movement) { m.OrderNo = "\xff" }},
	}
	for _, tc := range tests {
		m := NewMovement("wms-1", stock.KindSet, 3, 0)
		tc.edit(&m)
		rec, now, first, err := s.ApplyMovement(t.Context(), m)
		require.ErrorIs(t, err, stock.ErrInvalid, tc.name)
		RequireWrappedOnce(t, err)
		require.False(t, first, tc.name)
		require.Zero(t, rec, tc.name)
		require.Zero(t, now, tc.name)
	}
	require.Zero(t, rows("stock_levels"), "nothing may be written")
	require.Zero(t, rows("stock_movements"), "nothing may be written")

	// At the limits: recorded.
	long := NewMovement(strings.Repeat("审", 170)+"xx", stock.KindSet, stock.MaxQty, 0) // a 512-byte id
	long.SKU = strings.Repeat("x", stock.MaxKeyLen)
	applyOK(t, s, long, true)
	require.Equal(t, int64(1), rows("stock_movements"))
}

func testStockRace(t *testing.T, s stock.Store) {
	const n = 16
	// Each round, n movements race on one row: receives and reserves of
	// distinct quantities. A store that applies one over a row another
	// changed since it read it (a lost update) ends with the wrong sums,
	// and two records then start from the same row.
	for round := range 4 {
		sku := fmt.Sprint("RACE-", round)
		if round%2 == 1 { // half the rounds race on a row that exists
			applyOK(t, s, stock.Movement{Source: "wms", EventID: sku + "/seed", SKU: sku, Warehouse: "hz-1",
				Kind: stock.KindSet, Qty: 100, At: At(0)}, true)
		}
		var wantOnHand, wantReserved int64 = 100 * int64(round%2), 0
		moves := make([]stock.Movement, n)
		for i := range n {
			kind := stock.KindReceive
			if i%2 == 1 {
				kind = stock.KindReserve
				wantReserved += int64(i + 1)
			} else {
				wantOnHand += int64(i + 1)
			}
			moves[i] = stock.Movement{Source: "wms", EventID: fmt.Sprint(sku, "/", i), SKU: sku, Warehouse: "hz-1",
				Kind: kind, Qty: int64(i + 1), At: At(time.Duration(i) * time.Second)}
		}
		recs := make([]stock.Record, n)
		errs := race(n, func(i int) error {
			rec, _, first, err := s.ApplyMovement(t.Context(), moves[i])
			if err == nil && !first {
				err = fmt.Errorf("movement %d of its own id was not first", i)
			}
			recs[i] = rec
			return err
		})
		for i, err := range errs {
			require.NoError(t, err, "round %d, movement %d", round, i)
		}
		requireStockOf(t, s, sku, level(sku, "hz-1", wantOnHand, wantReserved, At(time.Duration(n-1)*time.Second)))

		// The records chain: each starts from the row another left (or
		// from the round's first row), each row left once.
		type q struct{ onHand, reserved int64 }
		left := map[q]int{}
		for _, r := range recs {
			left[q{r.After.OnHand, r.After.Reserved}]++
		}
		start := q{100 * int64(round%2), 0}
		for i, r := range recs {
			b := q{r.Before().OnHand, r.Before().Reserved}
			if b == start {
				start = q{-1, -1} // once only
				continue
			}
			require.Positive(t, left[b], "round %d: movement %d applied over a row no movement left (a lost update)", round, i)
			left[b]--
		}
	}
}

func testStockRepeatRace(t *testing.T, s stock.Store, rows func(table string) int64) {
	const n = 16
	for round := range 4 {
		id := fmt.Sprint("wms/dup-", round)
		moves := make([]stock.Movement, n)
		firsts := make([]bool, n)
		recs := make([]stock.Record, n)
		errs := race(n, func(i int) error {
			// One id, each retry with its own quantity, so the row tells
			// whose movement was applied.
			moves[i] = stock.Movement{Source: "wms", EventID: id, SKU: "DUP", Warehouse: "hz-1", Kind: stock.KindReceive,
				Qty: int64(i + 1), At: At(0)}
			var err error
			recs[i], _, firsts[i], err = s.ApplyMovement(t.Context(), moves[i])
			return err
		})
		won := winner(t, firstErrors(errs, firsts), errNotFirst)
		for i := range n {
			require.Equal(t, recs[won], recs[i], "round %d: everyone is answered with the winner's record", round)
		}
		require.Equal(t, moves[won].Qty, recs[won].OnHandDelta)
	}
	require.Equal(t, int64(4), rows("stock_movements"))
	require.Equal(t, int64(1), rows("stock_levels"))
}
