package chart

import (
	_ "embed"
	"fmt"
	"math"
	"sync"

	"github.com/go-analyze/charts"
	"github.com/golang/freetype/truetype"
)

// Size of a chart in pixels: wide enough for 31 date labels, small enough
// to load fast on a phone, where a card shows it about 350 points wide.
const (
	Width  = 600
	Height = 320
)

// fontData is WenQuanYi Micro Hei (Droid Sans Fallback with Droid Sans's
// Latin), subset to GB2312 level 1; see font/README.md. A character
// outside the subset is drawn as an empty box.
//
//go:embed font/WenQuanYiMicroHei-subset.ttf
var fontData []byte

// embeddedFont returns the embedded font, parsed once. A parsed font is only read
// afterwards, so concurrent renders share it.
var embeddedFont = sync.OnceValues(func() (*truetype.Font, error) {
	f, err := truetype.Parse(fontData)
	if err != nil {
		return nil, fmt.Errorf("chart: parse the embedded font: %w", err)
	}
	return f, nil
})

// Render draws the spec as a PNG line chart of Width×Height pixels: title
// top left, legend below, the y axis written per the spec's unit from
// zero for amounts, and a gap where a value is NaN. It returns an error wrapping ErrInvalid if
// the spec breaks a limit.
func Render(s Spec) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return render(s)
}

// render draws a spec that passed Validate.
func render(s Spec) ([]byte, error) {
	f, err := embeddedFont()
	if err != nil {
		return nil, err
	}
	theme := charts.GetTheme(charts.ThemeLight)
	text := func(size float64) charts.FontStyle {
		return charts.FontStyle{Font: f, FontSize: size} // the theme colours it
	}
	values := make([][]float64, len(s.Series))
	names := make([]string, len(s.Series))
	for i, se := range s.Series {
		values[i], names[i] = se.Values, se.Name
	}
	opt := charts.NewLineChartOptionWithData(values)
	opt.Theme = theme
	opt.Padding = charts.Box{Top: 14, Left: 14, Right: 20, Bottom: 10, IsSet: true}
	opt.Title = charts.TitleOption{Text: s.Title, FontStyle: text(17)}
	opt.Legend = charts.LegendOption{
		SeriesNames: names,
		FontStyle:   text(13),
		Offset:      charts.OffsetStr{Left: charts.PositionCenter, Top: charts.PositionBottom},
		Show:        charts.Ptr(len(s.Series) > 1 || s.Series[0].Name != ""),
	}
	opt.XAxis = charts.XAxisOption{Labels: s.Labels, LabelFontStyle: text(13)}
	if n := len(s.Labels); n > 8 {
		// A month of dates fits as every sixth or so, counted back from
		// the latest; the others are blank. The library's own pick always
		// draws the last label and, when the step does not divide the
		// points, draws it on top of the one before.
		opt.XAxis.Labels = sparseLabels(s.Labels, 5)
		opt.XAxis.LabelCount = n
		opt.XAxis.BoundaryGap = charts.Ptr(false) // points run edge to edge
		opt.Symbol = charts.Symbol{Shape: charts.SymbolNone}
	}
	ticks := niceAxis(s)
	format := axisFormatter(s.Unit, s.Locale, math.Max(math.Abs(ticks.lo), math.Abs(ticks.hi)))
	opt.YAxis = []charts.YAxisOption{{
		LabelFontStyle: text(13),
		ValueFormatter: format,
		Min:            &ticks.lo,
		Max:            &ticks.hi,
		LabelCount:     ticks.labels,
	}}
	opt.LineStrokeWidth = 2.5
	opt.ValueFormatter = format

	p := charts.NewPainter(charts.PainterOptions{
		OutputFormat: charts.ChartOutputPNG,
		Width:        Width,
		Height:       Height,
		Font:         f,
		Theme:        theme,
	})
	if err := p.LineChart(opt); err != nil {
		return nil, fmt.Errorf("chart: draw %q: %w", s.Title, err)
	}
	png, err := p.Bytes()
	if err != nil {
		return nil, fmt.Errorf("chart: encode %q: %w", s.Title, err)
	}
	return png, nil
}

// sparseLabels keeps about want of labels, evenly spaced and counted back
// from the last, and blanks the others.
func sparseLabels(labels []string, want int) []string {
	out := make([]string, len(labels))
	step := max(1, (len(labels)-1+want-1)/want)
	for i := len(labels) - 1; i >= 0; i -= step {
		out[i] = labels[i]
	}
	return out
}
