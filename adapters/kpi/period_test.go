package kpi_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi"
)

func TestPeriodWindow(t *testing.T) {
	t.Parallel()
	newYork, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	cst := kpi.China
	d := func(zone *time.Location, y int, m time.Month, day, h int) time.Time {
		return time.Date(y, m, day, h, 0, 0, 0, zone)
	}
	tests := []struct {
		name             string
		p                kpi.Period
		at               time.Time
		zone             *time.Location
		from, to         time.Time
		prevFrom, prevTo time.Time
	}{
		{name: "a day", p: kpi.Day, at: d(cst, 2026, 11, 30, 15), zone: cst,
			from: d(cst, 2026, 11, 30, 0), to: d(cst, 2026, 12, 1, 0),
			prevFrom: d(cst, 2026, 11, 29, 0), prevTo: d(cst, 2026, 11, 30, 0)},
		{name: "a day read in China from a UTC instant of the day before", p: kpi.Day,
			at: time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC), zone: cst,
			from: d(cst, 2026, 12, 1, 0), to: d(cst, 2026, 12, 2, 0),
			prevFrom: d(cst, 2026, 11, 30, 0), prevTo: d(cst, 2026, 12, 1, 0)},
		{name: "a week across the month end", p: kpi.Week, at: d(cst, 2026, 12, 2, 9), zone: cst,
			from: d(cst, 2026, 11, 30, 0), to: d(cst, 2026, 12, 7, 0),
			prevFrom: d(cst, 2026, 11, 23, 0), prevTo: d(cst, 2026, 11, 30, 0)},
		{name: "a Sunday ends its week", p: kpi.Week, at: d(cst, 2026, 11, 29, 23), zone: cst,
			from: d(cst, 2026, 11, 23, 0), to: d(cst, 2026, 11, 30, 0),
			prevFrom: d(cst, 2026, 11, 16, 0), prevTo: d(cst, 2026, 11, 23, 0)},
		{name: "a month, the one before across the year", p: kpi.Month, at: d(cst, 2027, 1, 31, 23), zone: cst,
			from: d(cst, 2027, 1, 1, 0), to: d(cst, 2027, 2, 1, 0),
			prevFrom: d(cst, 2026, 12, 1, 0), prevTo: d(cst, 2027, 1, 1, 0)},
		{name: "a 23-hour day where clocks go forward", p: kpi.Day, at: d(newYork, 2026, 3, 8, 12), zone: newYork,
			from: d(newYork, 2026, 3, 8, 0), to: d(newYork, 2026, 3, 9, 0),
			prevFrom: d(newYork, 2026, 3, 7, 0), prevTo: d(newYork, 2026, 3, 8, 0)},
		{name: "the week after a 25-hour day", p: kpi.Week, at: d(newYork, 2026, 11, 3, 12), zone: newYork,
			from: d(newYork, 2026, 11, 2, 0), to: d(newYork, 2026, 11, 9, 0),
			prevFrom: d(newYork, 2026, 10, 26, 0), prevTo: d(newYork, 2026, 11, 2, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			from, to := tt.p.Window(tt.at, tt.zone)
			require.True(t, tt.from.Equal(from) && tt.to.Equal(to), "got %s – %s", from, to)
			pf, pt := tt.p.Prev(from, tt.zone)
			require.True(t, tt.prevFrom.Equal(pf) && tt.prevTo.Equal(pt), "prev %s – %s", pf, pt)
		})
	}
	from, to := kpi.Day.Window(time.Date(2026, 3, 8, 12, 0, 0, 0, newYork), newYork)
	require.Equal(t, 23*time.Hour, to.Sub(from), "the day clocks go forward is 23 hours long")
	from, to = kpi.Week.Prev(time.Date(2026, 11, 2, 0, 0, 0, 0, newYork), newYork)
	require.Equal(t, 7*24*time.Hour+time.Hour, to.Sub(from), "the week clocks go back is 169 hours long")
}

func TestDigestPeriodAt(t *testing.T) {
	t.Parallel()
	// Monday 1 December 2026, 09:00 in China.
	sent := time.Date(2026, 12, 1, 9, 0, 0, 0, kpi.China)
	tests := []struct {
		name     string
		period   string
		want     kpi.Period
		wantFrom time.Time
	}{
		{name: "yesterday", period: "yesterday", want: kpi.Day, wantFrom: time.Date(2026, 11, 30, 0, 0, 0, 0, kpi.China)},
		{name: "today", period: "today", want: kpi.Day, wantFrom: time.Date(2026, 12, 1, 0, 0, 0, 0, kpi.China)},
		{name: "last week", period: "last_week", want: kpi.Week, wantFrom: time.Date(2026, 11, 23, 0, 0, 0, 0, kpi.China)},
		{name: "last month", period: "last_month", want: kpi.Month, wantFrom: time.Date(2026, 11, 1, 0, 0, 0, 0, kpi.China)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, at := kpi.Digest{Period: tt.period, Zone: kpi.China}.PeriodAt(sent)
			require.Equal(t, tt.want, p)
			from, _ := p.Window(at, kpi.China)
			require.True(t, tt.wantFrom.Equal(from), "got %s", from)
		})
	}
}
