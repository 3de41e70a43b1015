package stock_test

import (
	"testing"
	"time"

	"cardflow/adapters/stock"
)

// FuzzDecode feeds the webhook body decoder arbitrary bytes: it never
// panics, and every movement it accepts is one Prepare accepts unchanged,
// of a kind a WMS may send.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"event_id":"wms-1","sku":"TEA-LJ-250","warehouse":"hz-1","kind":"set","qty":12,"at":"2026-11-30T17:00:00+08:00"}`))
	f.Add([]byte(`[{"event_id":"a","sku":"S","warehouse":"w","kind":"adjust","qty":-3},{"event_id":"b","sku":"S","warehouse":"w","kind":"ship","qty":1}]`))
	f.Add([]byte(`[{"event_id":"","kind":"steal","qty":1.5,"at":"yesterday","x":1}]`))
	f.Add([]byte(`{"qty":1e400}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``)) // once a panic: an empty body has no first byte
	now := time.Unix(1764493200, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		moves, err := stock.Decode("wms", b, now)
		if err != nil {
			return
		}
		if len(moves) == 0 {
			t.Fatal("accepted a body of no movement")
		}
		for _, m := range moves {
			again, err := stock.Prepare(m)
			if err != nil || again != m {
				t.Fatalf("accepted a movement Prepare refuses or changes: %+v: %v", m, err)
			}
			switch m.Kind {
			case stock.KindSet, stock.KindReceive, stock.KindShip, stock.KindAdjust:
			default:
				t.Fatalf("accepted kind %q from a WMS", m.Kind)
			}
			if m.Source != "wms" || m.FromReserved {
				t.Fatalf("a movement not of its source: %+v", m)
			}
		}
	})
}
