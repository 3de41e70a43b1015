package chart

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// week is a realistic digest chart: seven days, this week against last.
func week() Spec {
	return Spec{
		Title:  "销售额 · 近 7 天",
		Unit:   UnitMoney,
		Labels: []string{"11/23", "11/24", "11/25", "11/26", "11/27", "11/28", "11/29"},
		Series: []Series{
			{Name: "本周", Values: []float64{128000.5, 153000, math.NaN(), 98000.25, 210000, 188000.75, 164000}},
			{Name: "上周", Values: []float64{110000, 120000, 135000, 125000.5, 140000, 170000, 150000}},
		},
	}
}

func TestSpecValidate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("销", MaxNameRunes+1)
	tests := []struct {
		name  string
		edit  func(s *Spec)
		wants []string // substrings of the error; none means valid
	}{
		{name: "week", edit: func(*Spec) {}},
		{name: "NaN values", edit: func(s *Spec) { s.Series[0].Values[0] = math.NaN() }},
		{name: "one unnamed series", edit: func(s *Spec) { s.Series = s.Series[:1]; s.Series[0].Name = "" }},
		{name: "name at the limit", edit: func(s *Spec) { s.Series[0].Name = long[:len(long)-len("销")] }},
		{name: "en locale", edit: func(s *Spec) { s.Locale = "en" }},
		{name: "unknown unit", edit: func(s *Spec) { s.Unit = "yuan" },
			wants: []string{`unit: "yuan" is not money, percent, count, days, hours or ratio`}},
		{name: "no unit", edit: func(s *Spec) { s.Unit = "" }, wants: []string{`unit: ""`}},
		{name: "unknown locale", edit: func(s *Spec) { s.Locale = "fr" }, wants: []string{`locale: "fr"`}},
		{name: "no labels", edit: func(s *Spec) {
			s.Labels = nil
			s.Series = []Series{{Name: "x"}}
		}, wants: []string{"labels: none"}},
		{name: "too many labels", edit: func(s *Spec) {
			s.Labels = make([]string, MaxLabels+1)
			s.Series = []Series{{Values: make([]float64, MaxLabels+1)}}
		}, wants: []string{"labels: 32, at most 31"}},
		{name: "no series", edit: func(s *Spec) { s.Series = nil }, wants: []string{"series: none"}},
		{name: "too many series", edit: func(s *Spec) {
			for range 3 {
				s.Series = append(s.Series, s.Series[0])
			}
		}, wants: []string{"series: 5, at most 4"}},
		{name: "long label", edit: func(s *Spec) { s.Labels[2] = long },
			wants: []string{"labels[2]: 33 characters, at most 32"}},
		{name: "long series name", edit: func(s *Spec) { s.Series[1].Name = long },
			wants: []string{"series[1].name: 33 characters, at most 32"}},
		{name: "long title", edit: func(s *Spec) { s.Title = strings.Repeat("额", MaxTitleRunes+1) },
			wants: []string{"title: 65 characters, at most 64"}},
		{name: "invalid UTF-8", edit: func(s *Spec) { s.Labels[0] = "\xff" }, wants: []string{"labels[0]: not UTF-8"}},
		{name: "values short of labels", edit: func(s *Spec) { s.Series[0].Values = s.Series[0].Values[:6] },
			wants: []string{"series[0].values: 6 values for 7 labels"}},
		{name: "infinite value", edit: func(s *Spec) { s.Series[1].Values[3] = math.Inf(1) },
			wants: []string{"series[1].values[3]: infinite"}},
		{name: "every problem at once", edit: func(s *Spec) { s.Unit = ""; s.Series[0].Name = long },
			wants: []string{"unit:", "series[0].name:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := week()
			tt.edit(&s)
			err := s.Validate()
			if len(tt.wants) == 0 {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalid)
			for _, w := range tt.wants {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestAxisFormatter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		unit   Unit
		locale string
		top    float64
		v      float64
		want   string
	}{
		{name: "money below ten thousand", unit: UnitMoney, top: 8000, v: 6800, want: "¥6,800"},
		{name: "money with cents", unit: UnitMoney, top: 8000, v: 1234.5, want: "¥1,234.5"},
		{name: "money in 万", unit: UnitMoney, top: 25000, v: 12000, want: "¥1.2万"},
		{name: "money small tick in the 万 scale", unit: UnitMoney, top: 25000, v: 5000, want: "¥0.5万"},
		{name: "money zero", unit: UnitMoney, top: 25000, v: 0, want: "¥0"},
		{name: "money in 亿", unit: UnitMoney, top: 3e8, v: 1.25e8, want: "¥1.25亿"},
		{name: "money negative", unit: UnitMoney, top: 8000, v: -6800, want: "-¥6,800"},
		{name: "money tiny negative is zero", unit: UnitMoney, top: 8000, v: -1e-9, want: "¥0"},
		{name: "money en in K", unit: UnitMoney, locale: "en", top: 25000, v: 12000, want: "¥12K"},
		{name: "money en in M", unit: UnitMoney, locale: "en", top: 3e6, v: 1.5e6, want: "¥1.5M"},
		{name: "percent", unit: UnitPercent, top: 5, v: 4.2, want: "4.2%"},
		{name: "percent round", unit: UnitPercent, top: 5, v: 4, want: "4%"},
		{name: "count", unit: UnitCount, top: 9000, v: 6800, want: "6,800"},
		{name: "count in 万", unit: UnitCount, top: 12000, v: 12000, want: "1.2万"},
		{name: "days", unit: UnitDays, top: 5, v: 3, want: "3天"},
		{name: "days en", unit: UnitDays, locale: "en", top: 5, v: 2.5, want: "2.5d"},
		{name: "hours", unit: UnitHours, top: 5, v: 1.5, want: "1.5小时"},
		{name: "hours en", unit: UnitHours, locale: "en", top: 5, v: 12, want: "12h"},
		{name: "ratio", unit: UnitRatio, top: 2, v: 1.256, want: "1.26"},
		{name: "NaN", unit: UnitRatio, top: 2, v: math.NaN(), want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, axisFormatter(tt.unit, tt.locale, tt.top)(tt.v))
		})
	}
}

func TestNiceAxis(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tests := []struct {
		name   string
		unit   Unit
		values []float64
		want   axisTicks
	}{
		{name: "money from zero", unit: UnitMoney, values: []float64{9800, 21000}, want: axisTicks{0, 25000, 6}},
		{name: "percent around the values", unit: UnitPercent, values: []float64{3.8, 5.1}, want: axisTicks{3.5, 5.5, 5}},
		{name: "all NaN", unit: UnitCount, values: []float64{nan, nan}, want: axisTicks{0, 1, 6}},
		{name: "flat zero", unit: UnitCount, values: []float64{0, 0}, want: axisTicks{0, 1, 6}},
		{name: "flat percent", unit: UnitPercent, values: []float64{4, 4}, want: axisTicks{3, 5, 5}},
		{name: "negative amount", unit: UnitMoney, values: []float64{-500, 1500}, want: axisTicks{-500, 1500, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Spec{Unit: tt.unit, Labels: make([]string, len(tt.values)), Series: []Series{{Values: tt.values}}}
			require.Equal(t, tt.want, niceAxis(s))
		})
	}
}

func TestSparseLabels(t *testing.T) {
	t.Parallel()
	month := make([]string, 31)
	for i := range month {
		month[i] = string(rune('A' + i%26))
	}
	tests := []struct {
		name   string
		labels []string
		shown  []int
	}{
		{name: "a month: every sixth back from the last", labels: month, shown: []int{0, 6, 12, 18, 24, 30}},
		{name: "thirty: the first is skipped", labels: month[:30], shown: []int{5, 11, 17, 23, 29}},
		{name: "nine", labels: month[:9], shown: []int{0, 2, 4, 6, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := sparseLabels(tt.labels, 5)
			require.Len(t, got, len(tt.labels))
			var shown []int
			for i, l := range got {
				if l != "" {
					require.Equal(t, tt.labels[i], l)
					shown = append(shown, i)
				}
			}
			require.Equal(t, tt.shown, shown)
		})
	}
}
