package console

import (
	"strings"

	"cardflow/flows"
)

// The bar charts' geometry, in SVG user units (and CSS pixels at 1:1).
const (
	chartW      = 640.0
	chartPad    = 8.0
	chartLabelW = 150.0
	chartValueW = 120.0
	legendH     = 24.0
	barH        = 14.0
	barGap      = 4.0
	rowGap      = 12.0
	chartFont   = 12.0
)

// barChart is a horizontal bar chart laid out for the analytics template:
// one row per step, one bar per series in each, the value written after
// the bar. Alt says every figure the bars show, for screen readers.
type barChart struct {
	Alt           string
	Width, Height float64
	Legend        []legendItem
	Rows          []barRow
	AxisX         float64
	AxisTop       float64
	AxisBottom    float64
}

type legendItem struct {
	X, TX float64
	Fill  string
	Text  string
}

type barRow struct {
	Label, Full string
	LY          float64 // the label's baseline
	Bars        []bar
}

type bar struct {
	X, Y, W, H float64
	Fill       string
	Text       string
	TX, TY     float64
}

// series is one set of bars: a value per row and how it is written.
type series struct {
	name   string
	fill   string
	values []float64
	texts  []string
}

// layoutBars lays rows (the step names) out with a bar per series, scaled
// to full, or to the largest value when full is 0.
func layoutBars(alt string, labels []string, ss []series, full float64) *barChart {
	c := &barChart{Alt: alt, Width: chartW}
	top := chartPad
	if len(ss) > 1 {
		x := chartPad + chartLabelW
		for _, s := range ss {
			c.Legend = append(c.Legend, legendItem{X: x, TX: x + barH + 4, Fill: s.fill, Text: s.name})
			x += barH + 4 + textWidth(s.name, chartFont) + 16
		}
		top += legendH
	}
	peak := full
	for _, s := range ss {
		for _, v := range s.values {
			peak = max(peak, v)
		}
	}
	area := chartW - 2*chartPad - chartLabelW - chartValueW
	c.AxisX, c.AxisTop = chartPad+chartLabelW, top-rowGap/2
	y := top
	for i, l := range labels {
		h := float64(len(ss))*(barH+barGap) - barGap
		row := barRow{Label: fit(l, chartFont, chartLabelW-8), Full: l, LY: y + h/2 + chartFont*0.35}
		for j, s := range ss {
			w := 0.0
			if peak > 0 {
				w = s.values[i] / peak * area
			}
			by := y + float64(j)*(barH+barGap)
			row.Bars = append(row.Bars, bar{X: c.AxisX, Y: by, W: w, H: barH, Fill: s.fill, Text: s.texts[i],
				TX: c.AxisX + w + 6, TY: by + barH/2 + chartFont*0.35})
		}
		c.Rows = append(c.Rows, row)
		y += h + rowGap
	}
	c.AxisBottom = y - rowGap/2
	c.Height = y - rowGap + chartPad
	return c
}

// timesChart is a flow's median and P90 time to decide per step; nil when
// no step has a decision.
func timesChart(f flows.FlowAnalytics, l string) *barChart {
	var labels, alts []string
	med := series{name: tr(l, "an.median"), fill: "#60a5fa"}
	p90 := series{name: tr(l, "an.p90"), fill: "#1e40af"}
	for _, s := range f.Steps {
		if s.Decisions.Decided == 0 {
			continue
		}
		m, p := humanDuration(s.Decisions.Median, l), humanDuration(s.Decisions.P90, l)
		labels = append(labels, s.Name)
		med.values, med.texts = append(med.values, s.Decisions.Median.Hours()), append(med.texts, m)
		p90.values, p90.texts = append(p90.values, s.Decisions.P90.Hours()), append(p90.texts, p)
		alts = append(alts, tr(l, "an.chart.times.step", s.Name, m, p))
	}
	if len(labels) == 0 {
		return nil
	}
	return layoutBars(tr(l, "an.chart.times", f.Name)+strings.Join(alts, tr(l, "an.chart.sep")), labels, []series{med, p90}, 0)
}

// overdueChart is a flow's overdue share per step; nil when no step has a
// task with a due time.
func overdueChart(f flows.FlowAnalytics, l string) *barChart {
	var labels, alts []string
	s := series{name: tr(l, "an.overdue"), fill: "#dc2626"}
	for _, st := range f.Steps {
		if st.Decisions.Due == 0 {
			continue
		}
		text := overdueText(st.Decisions)
		labels = append(labels, st.Name)
		s.values, s.texts = append(s.values, st.Decisions.OverdueShare), append(s.texts, text)
		alts = append(alts, st.Name+" "+text)
	}
	if len(labels) == 0 {
		return nil
	}
	return layoutBars(tr(l, "an.chart.overdue", f.Name)+strings.Join(alts, tr(l, "an.chart.sep")), labels, []series{s}, 1)
}
