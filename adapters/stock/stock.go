// Package stock keeps cardflow's stock ledger: per SKU and warehouse, what
// is on hand, what paid orders have reserved, and what is left to sell;
// every movement that changed it, recorded once per source and event id;
// the signed webhook a WMS or ERP posts movements to; the movements order
// events make; the oversell alerts it raises through the alert flows; the
// /stock (库存) chat command; and the push of each changed SKU's sellable
// stock back to the shops and WMSs (Pusher), from an outbox the store
// fills in each movement's transaction.
//
// Quantities are exact integers (pieces), never floats.
package stock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind says what a movement does to a ledger row.
type Kind string

// Movement kinds. A WMS or ERP sends the first four; order events make
// reserve, release and ship (of a reserved quantity).
const (
	// KindSet makes on hand Qty (≥ 0): a stocktake's count, a sync of the
	// WMS's figure.
	KindSet Kind = "set"
	// KindReceive adds Qty (> 0) to on hand: goods in.
	KindReceive Kind = "receive"
	// KindShip takes Qty (> 0) off on hand: goods out. With FromReserved
	// it also takes it off reserved: an order shipped what it had reserved.
	KindShip Kind = "ship"
	// KindAdjust adds Qty (≠ 0, either sign) to on hand: a correction
	// (damage, loss, found).
	KindAdjust Kind = "adjust"
	// KindReserve adds Qty (> 0) to reserved: a paid order to be shipped.
	KindReserve Kind = "reserve"
	// KindRelease takes Qty (> 0) off reserved: an order cancelled or
	// refunded before it shipped.
	KindRelease Kind = "release"
)

// Limits of what one movement and one row may hold, far beyond any shop,
// so that no sum of them can overflow an int64.
const (
	MaxQty   = 1_000_000_000
	maxLevel = 1_000_000_000_000_000
	// MaxKeyLen bounds a SKU's and a warehouse's bytes; MaxIDLen an event
	// id's and a source's.
	MaxKeyLen = 128
	MaxIDLen  = 512
)

// Movement is one change to the stock of a SKU in a warehouse, as its
// source told it.
type Movement struct {
	// Source and EventID identify the movement: the same pair is applied
	// once, however often it is sent.
	Source    string `json:"source"`
	EventID   string `json:"event_id"`
	SKU       string `json:"sku"`
	Warehouse string `json:"warehouse"`
	Kind      Kind   `json:"kind"`
	Qty       int64  `json:"qty"`
	// FromReserved, on a ship only, takes the quantity off reserved as
	// well.
	FromReserved bool      `json:"from_reserved,omitempty"`
	At           time.Time `json:"at"`
	// OrderNo and Platform name the order a movement came from, when one
	// did: an oversell alert says which order oversold.
	OrderNo  string `json:"order_no,omitempty"`
	Platform string `json:"platform,omitempty"`
}

// Level is one ledger row: a SKU's stock in one warehouse.
type Level struct {
	SKU       string
	Warehouse string
	OnHand    int64
	Reserved  int64
	// UpdatedAt is the time of the latest movement applied (by its At), so
	// a movement delivered late does not move it back.
	UpdatedAt time.Time
}

// Sellable is what is left to sell: on hand less what paid orders hold.
// Below zero the SKU is oversold.
func (l Level) Sellable() int64 { return l.OnHand - l.Reserved }

// Record is a movement as the ledger recorded it: the change it made to
// each quantity and the row right after it.
type Record struct {
	Movement
	OnHandDelta   int64
	ReservedDelta int64
	After         Level
	RecordedAt    time.Time
}

// Before is the row's quantities as they stood right before the movement
// (its UpdatedAt is After's: the record does not keep the earlier one).
func (r Record) Before() Level {
	b := r.After
	b.OnHand -= r.OnHandDelta
	b.Reserved -= r.ReservedDelta
	return b
}

// Store is what the stock ledger keeps. storage/postgres and
// storage/sqlite implement it; one conformance group (storage/storetest)
// runs on both.
type Store interface {
	// ApplyMovement records m and applies it to its row with Apply in one
	// transaction, unless a movement with the same Source and EventID was
	// recorded before. first reports whether this call recorded it; rec is
	// the record of the movement (for a repeat: the one recorded first)
	// and now the row as it stands after the call. Concurrent movements on
	// one row are applied one after the other, none lost. A movement that
	// fails Prepare or Apply is refused with ErrInvalid and nothing is
	// written.
	ApplyMovement(ctx context.Context, m Movement) (rec Record, now Level, first bool, err error)

	// StockOf returns a SKU's rows on every warehouse, by warehouse in byte
	// order; an unknown SKU has none, which is not an error.
	StockOf(ctx context.Context, sku string) ([]Level, error)
}

// ErrInvalid is returned for a movement the ledger cannot record.
var ErrInvalid = errors.New("invalid stock movement")

// Prepare checks m before anything is written and returns it as a store
// keeps it (its time in UTC, to the microsecond both stores hold): ids and
// keys present, UTF-8 without NUL and within their limits, a known kind
// with a quantity it allows, and a time. Any failure wraps ErrInvalid and
// lists every problem.
func Prepare(m Movement) (Movement, error) {
	var errs []error
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"source", m.Source, MaxIDLen}, {"event_id", m.EventID, MaxIDLen},
		{"sku", m.SKU, MaxKeyLen}, {"warehouse", m.Warehouse, MaxKeyLen},
	} {
		switch {
		case strings.TrimSpace(f.v) == "":
			errs = append(errs, fmt.Errorf("%s: missing", f.name))
		case len(f.v) > f.max:
			errs = append(errs, fmt.Errorf("%s: longer than %d bytes", f.name, f.max))
		case !Storable(f.v):
			errs = append(errs, fmt.Errorf("%s: not UTF-8 or holds NUL", f.name))
		}
	}
	for _, f := range []struct{ name, v string }{{"order_no", m.OrderNo}, {"platform", m.Platform}} {
		if len(f.v) > MaxKeyLen || !Storable(f.v) {
			errs = append(errs, fmt.Errorf("%s: longer than %d bytes, not UTF-8 or holds NUL", f.name, MaxKeyLen))
		}
	}
	if err := checkQty(m); err != nil {
		errs = append(errs, err)
	}
	if m.FromReserved && m.Kind != KindShip {
		errs = append(errs, fmt.Errorf("from_reserved: only a ship takes from the reservation, not %s", m.Kind))
	}
	if m.At.IsZero() || m.At.Year() < 1970 || m.At.Year() > 9999 {
		errs = append(errs, errors.New("at: missing or outside the years 1970 to 9999"))
	}
	if err := errors.Join(errs...); err != nil {
		return Movement{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	m.At = m.At.UTC().Truncate(time.Microsecond)
	return m, nil
}

// checkQty checks a movement's quantity against what its kind allows.
func checkQty(m Movement) error {
	q := m.Qty
	switch m.Kind {
	case KindSet:
		if q < 0 || q > MaxQty {
			return fmt.Errorf("qty %d: a set needs 0 to %d", q, MaxQty)
		}
	case KindAdjust:
		if q == 0 || q < -MaxQty || q > MaxQty {
			return fmt.Errorf("qty %d: an adjust needs a non-zero quantity within ±%d", q, MaxQty)
		}
	case KindReceive, KindShip, KindReserve, KindRelease:
		if q <= 0 || q > MaxQty {
			return fmt.Errorf("qty %d: a %s needs 1 to %d", q, m.Kind, MaxQty)
		}
	default:
		return fmt.Errorf("kind %q: not one of set, receive, ship, adjust, reserve, release", clip(string(m.Kind)))
	}
	return nil
}

// Storable reports whether s can be kept in a text column of both stores:
// UTF-8, without NUL. A lookup by a key that is not storable finds nothing.
func Storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// Apply applies a prepared movement to the row it concerns (the zero row
// of its SKU and warehouse when none is stored) and returns its record.
// Reserved never goes below zero: a release or a shipped order's
// reservation larger than what is reserved takes what there is (an order
// paid before the ledger started, a paid event never received), and the
// record keeps the change actually made. On hand may go below zero: it is
// what the WMS reported, and the oversell alert is the remedy. A row
// beyond ±10^18 is refused with ErrInvalid.
func Apply(row Level, m Movement) (Record, error) {
	rec := Record{Movement: m}
	switch m.Kind {
	case KindSet:
		rec.OnHandDelta = m.Qty - row.OnHand
	case KindReceive, KindAdjust:
		rec.OnHandDelta = m.Qty
	case KindShip:
		rec.OnHandDelta = -m.Qty
		if m.FromReserved {
			rec.ReservedDelta = -min(m.Qty, max(row.Reserved, 0))
		}
	case KindReserve:
		rec.ReservedDelta = m.Qty
	case KindRelease:
		rec.ReservedDelta = -min(m.Qty, max(row.Reserved, 0))
	default:
		return Record{}, fmt.Errorf("%w: kind %q", ErrInvalid, clip(string(m.Kind)))
	}
	after := row
	after.SKU, after.Warehouse = m.SKU, m.Warehouse
	after.OnHand += rec.OnHandDelta
	after.Reserved += rec.ReservedDelta
	if after.OnHand > maxLevel || after.OnHand < -maxLevel || after.Reserved > maxLevel {
		return Record{}, fmt.Errorf("%w: %s in %s would leave the ledger beyond ±10^18", ErrInvalid, m.SKU, m.Warehouse)
	}
	if m.At.After(after.UpdatedAt) {
		after.UpdatedAt = m.At
	}
	rec.After = after
	return rec, nil
}

// clip shortens text quoted in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
