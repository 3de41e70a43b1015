package kpi

import (
	"time"

	"github.com/shopspring/decimal"
)

// Period is the span a figure covers.
type Period string

// Periods: a calendar day, a week from Monday to Sunday, a calendar month.
const (
	Day   Period = "day"
	Week  Period = "week"
	Month Period = "month"
)

// Valid reports whether p is one of Day, Week, Month.
func (p Period) Valid() bool { return p == Day || p == Week || p == Month }

// Window returns the period of p containing at, in zone: [from, to). It is
// computed on the calendar (time.Date normalises), so a day that a
// daylight-saving change makes 23 or 25 hours long is still one day.
func (p Period) Window(at time.Time, zone *time.Location) (from, to time.Time) {
	if zone == nil {
		zone = China
	}
	y, m, d := at.In(zone).Date()
	switch p {
	case Week:
		back := (int(time.Date(y, m, d, 0, 0, 0, 0, zone).Weekday()) + 6) % 7 // days since Monday
		from = time.Date(y, m, d-back, 0, 0, 0, 0, zone)
		return from, time.Date(y, m, d-back+7, 0, 0, 0, 0, zone)
	case Month:
		return time.Date(y, m, 1, 0, 0, 0, 0, zone), time.Date(y, m+1, 1, 0, 0, 0, 0, zone)
	default:
		return time.Date(y, m, d, 0, 0, 0, 0, zone), time.Date(y, m, d+1, 0, 0, 0, 0, zone)
	}
}

// Prev returns the period of p just before the one starting at from.
func (p Period) Prev(from time.Time, zone *time.Location) (time.Time, time.Time) {
	return p.Window(from.Add(-time.Nanosecond), zone)
}

// China is the zone figures are counted in unless a reader or a rule says
// otherwise: Asia/Shanghai, whose offset has not changed since 1991.
var China = func() *time.Location {
	if z, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return z
	}
	return time.FixedZone("CST", 8*3600)
}()

// Value is a figure's value; not Known when there was nothing to compute
// it from (no cost pushed) or it divides by zero (no orders).
type Value struct {
	V     decimal.Decimal
	Known bool
}

// known returns a known value.
func known(d decimal.Decimal) Value { return Value{V: d, Known: true} }

// Point is one period's value, for a chart.
type Point struct {
	From time.Time
	V    Value
}

// String writes the value plainly, for logs and errors.
func (v Value) String() string {
	if !v.Known {
		return "unknown"
	}
	return v.V.String()
}

// windowKey identifies a window in the board's caches.
type windowKey struct {
	from, to int64
	filter   Filter
}

func keyOf(from, to time.Time, f Filter) windowKey {
	return windowKey{from: from.UnixNano(), to: to.UnixNano(), filter: f}
}
