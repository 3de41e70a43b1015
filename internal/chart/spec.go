// Package chart draws the small KPI charts that digest cards carry (a PNG
// line chart with Chinese title, labels and legend, in a font embedded in
// the binary) and serves them from signed, stateless URLs: the URL carries
// the chart's data and an HMAC of it, so any cardflow instance behind a load
// balancer can draw the picture, and nobody without the secret can make
// cardflow draw one.
package chart

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// Unit says what a chart's values measure and so how its y axis reads.
type Unit string

// Units of a chart's values.
const (
	// UnitMoney is yuan: ¥6,800, ¥1.2万.
	UnitMoney Unit = "money"
	// UnitPercent is a percentage, 4.2 meaning 4.2% (not 0.042).
	UnitPercent Unit = "percent"
	// UnitCount is a number of things: 6,800, 1.2万.
	UnitCount Unit = "count"
	// UnitDays is a duration in days: 3天.
	UnitDays Unit = "days"
	// UnitHours is a duration in hours: 1.5小时.
	UnitHours Unit = "hours"
	// UnitRatio is a plain ratio: 1.25.
	UnitRatio Unit = "ratio"
)

// Limits of a Spec. They keep a signed URL short (a 31-day, 4-series chart
// still fits the token cap) and a chart readable on a phone.
const (
	MaxSeries     = 4
	MaxLabels     = 31
	MaxNameRunes  = 32 // a series name or an x label
	MaxTitleRunes = 64
)

// Spec is what a chart shows. Its text is already in the reader's
// language; Locale only picks how the y axis writes numbers.
type Spec struct {
	Title string
	Unit  Unit
	// Locale is "zh-CN" (or "") for ¥1.2万, 3天 and 1.5小时, "en" for ¥12K,
	// 3d and 1.5h.
	Locale string
	// Labels name the x axis's points, such as 11/23 … 11/29.
	Labels []string
	Series []Series
}

// Series is one line of a chart. Values has one entry per label; NaN marks
// a point with no data, which the line skips. Floats are fine here: it is a
// picture, not money.
type Series struct {
	Name   string
	Values []float64
}

// ErrInvalid is wrapped by every error Validate returns.
var ErrInvalid = errors.New("chart: invalid spec")

// Validate reports every way the spec breaks a limit, joined, each wrapping
// ErrInvalid.
func (s Spec) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...))
	}
	if n := utf8.RuneCountInString(s.Title); n > MaxTitleRunes {
		bad("title: %d characters, at most %d", n, MaxTitleRunes)
	}
	if !utf8.ValidString(s.Title) {
		bad("title: not UTF-8")
	}
	switch s.Unit {
	case UnitMoney, UnitPercent, UnitCount, UnitDays, UnitHours, UnitRatio:
	default:
		bad("unit: %q is not money, percent, count, days, hours or ratio", s.Unit)
	}
	switch s.Locale {
	case "", "zh-CN", "en":
	default:
		bad("locale: %q is not zh-CN or en", s.Locale)
	}
	switch n := len(s.Labels); {
	case n == 0:
		bad("labels: none")
	case n > MaxLabels:
		bad("labels: %d, at most %d", n, MaxLabels)
	}
	for i, l := range s.Labels {
		if err := checkName(l); err != "" {
			bad("labels[%d]: %s", i, err)
		}
	}
	switch n := len(s.Series); {
	case n == 0:
		bad("series: none")
	case n > MaxSeries:
		bad("series: %d, at most %d", n, MaxSeries)
	}
	for i, se := range s.Series {
		if err := checkName(se.Name); err != "" {
			bad("series[%d].name: %s", i, err)
		}
		if len(se.Values) != len(s.Labels) {
			bad("series[%d].values: %d values for %d labels", i, len(se.Values), len(s.Labels))
		}
		for j, v := range se.Values {
			if math.IsInf(v, 0) {
				bad("series[%d].values[%d]: infinite", i, j)
			}
		}
	}
	return errors.Join(errs...)
}

func checkName(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "not UTF-8"
	case utf8.RuneCountInString(s) > MaxNameRunes:
		return fmt.Sprintf("%d characters, at most %d", utf8.RuneCountInString(s), MaxNameRunes)
	}
	return ""
}
