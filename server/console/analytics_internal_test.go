package console

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHumanDuration: times to decide read as people write them, to the
// minute, in both languages.
func TestHumanDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		d      time.Duration
		zh, en string
	}{
		{name: "seconds", d: 20 * time.Second, zh: "不到1分钟", en: "<1m"},
		{name: "minutes", d: 36*time.Minute + 20*time.Second, zh: "36分", en: "36m"},
		{name: "hours and minutes", d: time.Hour + 36*time.Minute, zh: "1小时36分", en: "1h 36m"},
		{name: "whole hours", d: 2 * time.Hour, zh: "2小时", en: "2h"},
		{name: "days and hours", d: 50*time.Hour + 10*time.Minute, zh: "2天2小时", en: "2d 2h"},
		{name: "whole days", d: 7 * 24 * time.Hour, zh: "7天", en: "7d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.zh, humanDuration(tt.d, localeZH))
			require.Equal(t, tt.en, humanDuration(tt.d, localeEN))
		})
	}
}

// TestPercent: shares as whole percentages, or to a tenth.
func TestPercent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		share float64
		want  string
	}{
		{name: "none", share: 0, want: "0%"},
		{name: "half", share: 0.5, want: "50%"},
		{name: "a third", share: 1.0 / 3, want: "33.3%"},
		{name: "all", share: 1, want: "100%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, percent(tt.share))
		})
	}
}

// TestBarsScale: bars are as long as their value against the scale, and
// the chart grows by a row per label.
func TestBarsScale(t *testing.T) {
	t.Parallel()
	c := layoutBars("alt", []string{"a", "b"}, []series{{name: "s", fill: "#000", values: []float64{0.25, 1}, texts: []string{"25%", "100%"}}}, 1)
	area := chartW - 2*chartPad - chartLabelW - chartValueW
	require.Len(t, c.Rows, 2)
	require.InDelta(t, area/4, c.Rows[0].Bars[0].W, 1e-9)
	require.InDelta(t, area, c.Rows[1].Bars[0].W, 1e-9)
	require.Greater(t, c.Rows[1].Bars[0].Y, c.Rows[0].Bars[0].Y)
	require.Empty(t, c.Legend, "one series needs no legend")
}
