package chart

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	return img
}

func TestRender(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	month := make([]string, MaxLabels)
	vals := make([]float64, MaxLabels)
	for i := range month {
		month[i] = "11/" + string(rune('0'+i/10)) + string(rune('0'+i%10))
		vals[i] = float64(i * i)
	}
	tests := []struct {
		name string
		spec Spec
	}{
		{name: "week of two series", spec: week()},
		{name: "percent", spec: Spec{Title: "退款率", Unit: UnitPercent, Labels: week().Labels,
			Series: []Series{{Values: []float64{4.2, 3.9, 4.5, 5.1, 4, 3.8, 4.1}}}}},
		{name: "all NaN", spec: Spec{Title: "无数据", Unit: UnitCount, Labels: []string{"a", "b"},
			Series: []Series{{Name: "x", Values: []float64{nan, nan}}}}},
		{name: "one point", spec: Spec{Unit: UnitDays, Labels: []string{"11/29"},
			Series: []Series{{Values: []float64{3}}}}},
		{name: "month of four series", spec: Spec{Title: "订单量", Unit: UnitCount, Locale: "en", Labels: month,
			Series: []Series{{Name: "天猫", Values: vals}, {Name: "京东", Values: vals}, {Name: "抖音", Values: vals}, {Name: "拼多多", Values: vals}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := Render(tt.spec)
			require.NoError(t, err)
			require.Equal(t, image.Rect(0, 0, Width, Height), decodePNG(t, b).Bounds())
		})
	}
}

func TestRenderRefusesInvalid(t *testing.T) {
	t.Parallel()
	s := week()
	s.Series = append(s.Series, s.Series[0], s.Series[0], s.Series[0])
	_, err := Render(s)
	require.ErrorIs(t, err, ErrInvalid)
}

// TestRenderNaNLeavesAGap checks that a NaN point is a gap in the line: a
// chart whose middle value is NaN differs from one where it is a number.
func TestRenderNaNLeavesAGap(t *testing.T) {
	t.Parallel()
	s := Spec{Unit: UnitCount, Labels: []string{"a", "b", "c"}, Series: []Series{{Values: []float64{1, 2, 1}}}}
	whole, err := Render(s)
	require.NoError(t, err)
	s.Series[0].Values[1] = math.NaN()
	gap, err := Render(s)
	require.NoError(t, err)
	require.NotEqual(t, whole, gap)
}

// TestFontCoversCommonChinese checks that every character the subset
// promises (GB2312 level 1, printable ASCII, the punctuation a chart
// writes) has a glyph of its own, not .notdef's box.
func TestFontCoversCommonChinese(t *testing.T) {
	t.Parallel()
	f, err := embeddedFont()
	require.NoError(t, err)
	var want []rune
	for r := rune(0x20); r < 0x7f; r++ {
		want = append(want, r)
	}
	punct := []rune("¥·×，。：；、！？（）《》“”…—")
	want = append(want, punct...)
	dec := simplifiedchinese.GBK.NewDecoder()
	for hi := 0xb0; hi <= 0xd7; hi++ {
		for lo := 0xa1; lo <= 0xfe; lo++ {
			if hi == 0xd7 && lo > 0xf9 {
				break
			}
			s, err := dec.Bytes([]byte{byte(hi), byte(lo)})
			require.NoError(t, err)
			want = append(want, []rune(string(s))...)
		}
	}
	require.Equal(t, 95+len(punct)+3755, len(want), "GB2312 level 1 has 3,755 characters")
	var missing []string
	for _, r := range want {
		if f.Index(r) == 0 {
			missing = append(missing, string(r))
		}
	}
	require.Empty(t, missing)
}

// TestRenderDrawsChineseTitle renders a title of common characters and a
// title of characters outside the subset. The latter are all .notdef
// boxes, so two different such titles draw the same pixels; the common
// characters draw something else.
func TestRenderDrawsChineseTitle(t *testing.T) {
	t.Parallel()
	f, err := embeddedFont()
	require.NoError(t, err)
	for _, r := range "喆赟堃" {
		require.Zero(t, f.Index(r), "%c is in the subset; pick another", r)
	}
	title := func(s string) image.Image {
		spec := Spec{Title: s, Unit: UnitCount, Labels: []string{"a"}, Series: []Series{{Values: []float64{1}}}}
		b, err := Render(spec)
		require.NoError(t, err)
		return decodePNG(t, b)
	}
	area := image.Rect(0, 0, Width/2, 40)
	boxes1, boxes2, sales := title("喆赟堃"), title("堃喆赟"), title("销售额")
	require.Zero(t, diff(boxes1, boxes2, area), "characters outside the subset should all draw the same box")
	require.Greater(t, diff(boxes1, sales, area), 100, "销售额 should draw glyphs, not boxes")
	require.Greater(t, ink(sales, area), 100, "the title should draw something")
}

// diff counts the pixels of r that differ between a and b.
func diff(a, b image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				n++
			}
		}
	}
	return n
}

// ink counts the pixels of r that are not white.
func ink(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if cr, cg, cb, _ := img.At(x, y).RGBA(); cr&cg&cb < 0xf000 {
				n++
			}
		}
	}
	return n
}

// TestRenderConcurrent draws charts from many goroutines, as the handler
// does, sharing the parsed font (run with -race).
func TestRenderConcurrent(t *testing.T) {
	t.Parallel()
	want, err := Render(week())
	require.NoError(t, err)
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() { got[i], errs[i] = Render(week()) })
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i])
		require.Equal(t, want, got[i])
	}
}

// BenchmarkRender draws a week of two series, a digest's usual chart.
func BenchmarkRender(b *testing.B) {
	s := week()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(s); err != nil {
			b.Fatal(err)
		}
	}
}
