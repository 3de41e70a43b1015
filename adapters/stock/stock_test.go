package stock_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/stock"
)

var at = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func move(id string, kind stock.Kind, qty int64) stock.Movement {
	return stock.Movement{Source: "wms", EventID: id, SKU: "TEA-LJ-250", Warehouse: "hz-1", Kind: kind, Qty: qty, At: at}
}

func TestApply(t *testing.T) {
	t.Parallel()
	row := stock.Level{SKU: "TEA-LJ-250", Warehouse: "hz-1", OnHand: 10, Reserved: 4, UpdatedAt: at.Add(-time.Hour)}
	shipReserved := move("e", stock.KindShip, 3)
	shipReserved.FromReserved = true
	bigShip := move("e", stock.KindShip, 9)
	bigShip.FromReserved = true
	tests := []struct {
		name             string
		m                stock.Movement
		onHand, reserved int64 // the deltas
	}{
		{name: "set to a count", m: move("e", stock.KindSet, 7), onHand: -3},
		{name: "set to zero", m: move("e", stock.KindSet, 0), onHand: -10},
		{name: "receive", m: move("e", stock.KindReceive, 5), onHand: 5},
		{name: "ship from stock", m: move("e", stock.KindShip, 12), onHand: -12},
		{name: "ship a reservation", m: shipReserved, onHand: -3, reserved: -3},
		{name: "ship more than reserved takes what is reserved", m: bigShip, onHand: -9, reserved: -4},
		{name: "adjust down", m: move("e", stock.KindAdjust, -2), onHand: -2},
		{name: "reserve", m: move("e", stock.KindReserve, 20), reserved: 20},
		{name: "release", m: move("e", stock.KindRelease, 1), reserved: -1},
		{name: "release more than reserved stops at zero", m: move("e", stock.KindRelease, 9), reserved: -4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := stock.Prepare(tt.m)
			require.NoError(t, err)
			rec, err := stock.Apply(row, m)
			require.NoError(t, err)
			require.Equal(t, tt.onHand, rec.OnHandDelta)
			require.Equal(t, tt.reserved, rec.ReservedDelta)
			require.Equal(t, row.OnHand+tt.onHand, rec.After.OnHand)
			require.Equal(t, row.Reserved+tt.reserved, rec.After.Reserved)
			require.Equal(t, at, rec.After.UpdatedAt)
			before := rec.Before()
			require.Equal(t, [2]int64{row.OnHand, row.Reserved}, [2]int64{before.OnHand, before.Reserved})
		})
	}

	// A movement older than the row's last one does not move UpdatedAt back.
	old := move("e", stock.KindReceive, 1)
	old.At = at.Add(-2 * time.Hour)
	rec, err := stock.Apply(row, old)
	require.NoError(t, err)
	require.Equal(t, row.UpdatedAt, rec.After.UpdatedAt)
	// A row beyond the ledger's bounds is refused.
	_, err = stock.Apply(stock.Level{OnHand: 1_000_000_000_000_000}, move("e", stock.KindReceive, 1))
	require.ErrorIs(t, err, stock.ErrInvalid)
}

func TestPrepare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(m *stock.Movement)
		want string
	}{
		{name: "no source", edit: func(m *stock.Movement) { m.Source = "" }, want: "source: missing"},
		{name: "no event id", edit: func(m *stock.Movement) { m.EventID = " " }, want: "event_id: missing"},
		{name: "no sku", edit: func(m *stock.Movement) { m.SKU = "" }, want: "sku: missing"},
		{name: "a long sku", edit: func(m *stock.Movement) { m.SKU = strings.Repeat("x", 129) }, want: "sku: longer than 128 bytes"},
		{name: "NUL in a warehouse", edit: func(m *stock.Movement) { m.Warehouse = "hz\x00" }, want: "warehouse: not UTF-8 or holds NUL"},
		{name: "an event id not UTF-8", edit: func(m *stock.Movement) { m.EventID = "e-\xff" }, want: "event_id: not UTF-8"},
		{name: "an unknown kind", edit: func(m *stock.Movement) { m.Kind = "steal" }, want: `kind "steal": not one of`},
		{name: "a receive of nothing", edit: func(m *stock.Movement) { m.Kind, m.Qty = stock.KindReceive, 0 }, want: "a receive needs 1 to"},
		{name: "a negative set", edit: func(m *stock.Movement) { m.Qty = -1 }, want: "a set needs 0 to"},
		{name: "an adjust of nothing", edit: func(m *stock.Movement) { m.Kind, m.Qty = stock.KindAdjust, 0 }, want: "non-zero"},
		{name: "a huge quantity", edit: func(m *stock.Movement) { m.Qty = stock.MaxQty + 1 }, want: "a set needs 0 to"},
		{name: "a reserved receive", edit: func(m *stock.Movement) { m.Kind, m.FromReserved = stock.KindReceive, true }, want: "only a ship"},
		{name: "no time", edit: func(m *stock.Movement) { m.At = time.Time{} }, want: "at: missing"},
		{name: "a time past 9999", edit: func(m *stock.Movement) { m.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, want: "at: missing or outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := move("e-1", stock.KindSet, 5)
			tt.edit(&m)
			_, err := stock.Prepare(m)
			require.ErrorIs(t, err, stock.ErrInvalid)
			require.ErrorContains(t, err, tt.want)
		})
	}

	m := move("e-1", stock.KindSet, 5)
	m.At = time.Date(2026, 11, 30, 17, 0, 0, 1234567, time.FixedZone("CST", 8*3600))
	got, err := stock.Prepare(m)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 11, 30, 9, 0, 0, 1234000, time.UTC), got.At, "UTC, to the microsecond")
}
