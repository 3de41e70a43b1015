package kpi

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Bounds of a metric: its name, and its source, platform and shop, in
// bytes; its value's magnitude and decimals.
const (
	MaxNameLen   = 64
	MaxKeyLen    = 64
	MaxDecimals  = 6
	maxMagnitude = 1_000_000_000_000_000 // a quadrillion: no day's metric
)

var namePattern = regexp.MustCompile(`^[a-z0-9_]+$`)

// Validate checks a metric before it is stored, returning every problem:
// a name of [a-z0-9_] up to 64 bytes, a source, platform and shop of UTF-8
// without NUL up to 64 bytes, a day from the years 2000 to 2999, a value
// below a quadrillion with at most six decimals.
func (m Metric) Validate() error {
	var errs []error
	if len(m.Name) > MaxNameLen || !namePattern.MatchString(m.Name) {
		errs = append(errs, fmt.Errorf("name %q: expected lower-case letters, digits and _, at most %d", clip(m.Name), MaxNameLen))
	}
	for _, f := range []struct{ name, v string }{{"source", m.Source}, {"platform", m.Platform}, {"shop", m.Shop}} {
		if len(f.v) > MaxKeyLen || !utf8.ValidString(f.v) || strings.ContainsRune(f.v, 0) {
			errs = append(errs, fmt.Errorf("%s: longer than %d bytes, not UTF-8 or holds NUL", f.name, MaxKeyLen))
		}
	}
	if m.Source == "" {
		errs = append(errs, errors.New("source: missing"))
	}
	if y := m.Day.Year(); m.Day.IsZero() || y < 2000 || y > 2999 {
		errs = append(errs, fmt.Errorf("day %s: expected a day of the years 2000 to 2999", m.Day.Format("2006-01-02")))
	}
	if err := checkValue(m.Value); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// checkValue bounds a metric's value.
func checkValue(v decimal.Decimal) error {
	if v.Abs().GreaterThanOrEqual(decimal.NewFromInt(maxMagnitude)) {
		return fmt.Errorf("value %s: too large", clip(v.String()))
	}
	if !v.Equal(v.Truncate(MaxDecimals)) {
		return fmt.Errorf("value %s: more than %d decimals", clip(v.String()), MaxDecimals)
	}
	return nil
}

// DayKey is the date a metric's day is stored under: its calendar date in
// the zone it was pushed in.
func (m Metric) DayKey() string { return m.Day.Format("2006-01-02") }

// clip shortens what an error quotes.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:40] + "…"
}
