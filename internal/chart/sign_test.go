package chart

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

var testSecret = []byte("0123456789abcdef-chart-test")

func newSigner(t testing.TB) *Signer {
	t.Helper()
	s, err := NewSigner(testSecret)
	require.NoError(t, err)
	return s
}

func TestNewSignerRefusesShortSecret(t *testing.T) {
	t.Parallel()
	_, err := NewSigner([]byte("fifteen bytes.."))
	require.EqualError(t, err, "chart: signing secret: 15 bytes, at least 16")
}

func TestSignerRoundTrip(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	spec := week()
	spec.Locale = "en"
	tok, err := s.Token(spec)
	require.NoError(t, err)
	got, err := s.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, spec.Title, got.Title)
	require.Equal(t, spec.Unit, got.Unit)
	require.Equal(t, spec.Locale, got.Locale)
	require.Equal(t, spec.Labels, got.Labels)
	require.Len(t, got.Series, len(spec.Series))
	for i, se := range spec.Series {
		require.Equal(t, se.Name, got.Series[i].Name)
		require.Len(t, got.Series[i].Values, len(se.Values))
		for j, v := range se.Values {
			g := got.Series[i].Values[j]
			if math.IsNaN(v) {
				require.True(t, math.IsNaN(g), "series %d value %d", i, j)
				continue
			}
			require.InEpsilon(t, v, g, 1e-5, "series %d value %d", i, j)
		}
	}
}

func TestSignerURL(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	u, err := s.URL("https://oa.example.com/", week())
	require.NoError(t, err)
	tok, ok := strings.CutPrefix(u, "https://oa.example.com/charts/")
	require.True(t, ok, u)
	tok, ok = strings.CutSuffix(tok, ".png")
	require.True(t, ok, u)
	_, err = s.Verify(tok)
	require.NoError(t, err)

	// The same spec always makes the same URL, which is what lets a
	// client cache the picture for good.
	again, err := s.URL("https://oa.example.com", week())
	require.NoError(t, err)
	require.Equal(t, u, again)
}

// TestSignerHours signs, verifies and draws a chart of hours, the unit of
// the approval KPIs (approval_hours): a unit the signer refused would send
// a digest without its picture.
func TestSignerHours(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	for _, locale := range []string{"zh-CN", "en"} {
		spec := Spec{Title: "审批时效", Unit: UnitHours, Locale: locale, Labels: week().Labels,
			Series: []Series{{Name: "本周", Values: []float64{1.5, 2, math.NaN(), 0.75, 3.25, 1, 1.5}}}}
		tok, err := s.Token(spec)
		require.NoError(t, err, locale)
		got, err := s.Verify(tok)
		require.NoError(t, err, locale)
		require.Equal(t, UnitHours, got.Unit)
		b, err := Render(got)
		require.NoError(t, err, locale)
		decodePNG(t, b)
	}
}

// TestSignerURLLength keeps a digest's chart URL short enough for every
// platform's card (WeCom's and DingTalk's URL fields are the tightest).
// TestSignerConcurrent signs from many goroutines, which share the pooled
// deflaters (run with -race).
func TestSignerConcurrent(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	want, err := s.Token(week())
	require.NoError(t, err)
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Go(func() { got[i], _ = s.Token(week()) })
	}
	wg.Wait()
	for i := range got {
		require.Equal(t, want, got[i])
	}
}

func TestSignerURLLength(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	base := "https://oa.example-shop.com.cn/cardflow"
	u, err := s.URL(base, week())
	require.NoError(t, err)
	require.Less(t, len(u), 1500, u)
	t.Logf("a week of two series: %d bytes", len(u))

	// Fractional values with full precision and four series over a month
	// still fit the token cap, because values keep six digits.
	labels := make([]string, MaxLabels)
	series := make([]Series, MaxSeries)
	for i := range labels {
		labels[i] = fmt.Sprintf("10/%02d", i+1)
	}
	for i := range series {
		series[i].Name = fmt.Sprintf("店铺%d", i+1)
		for j := range labels {
			series[i].Values = append(series[i].Values, math.Pi*float64((i+1)*(j+7)*997))
		}
	}
	month := Spec{Title: "各店铺销售额 · 10 月", Unit: UnitMoney, Labels: labels, Series: series}
	u, err = s.URL(base, month)
	require.NoError(t, err)
	require.Less(t, len(u), MaxTokenLen, u)
	t.Logf("a month of four series: %d bytes", len(u))
}

func TestSignerRefusesBadTokens(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	tok, err := s.Token(week())
	require.NoError(t, err)
	payload, mac, _ := strings.Cut(tok, ".")
	other, err := NewSigner([]byte("another secret of enough bytes"))
	require.NoError(t, err)
	foreign, err := other.Token(week())
	require.NoError(t, err)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name string
		tok  string
		want string
	}{
		{name: "empty", tok: "", want: "no MAC"},
		{name: "no MAC", tok: payload, want: "no MAC"},
		{name: "payload tampered", tok: flip(payload, 10) + "." + mac, want: "MAC mismatch"},
		{name: "MAC tampered", tok: payload + "." + flip(mac, 3), want: "MAC mismatch"},
		{name: "MAC truncated", tok: payload + "." + mac[:len(mac)-2], want: "MAC mismatch"},
		{name: "MAC not base64", tok: payload + "." + mac[:len(mac)-1] + "!", want: "MAC mismatch"},
		{name: "payload truncated", tok: payload[:len(payload)-4] + "." + mac, want: "MAC mismatch"},
		{name: "another secret", tok: foreign, want: "MAC mismatch"},
		{name: "oversized", tok: strings.Repeat("A", MaxTokenLen+1), want: "4097 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Verify(tt.tok)
			require.ErrorIs(t, err, errBadToken)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// signRaw signs an arbitrary deflated payload as cardflow would, to test
// what Verify does with signed content it never made.
func signRaw(s *Signer, js []byte) string {
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestCompression)
	_, _ = zw.Write(js)
	_ = zw.Close()
	payload := b64.EncodeToString(buf.Bytes())
	return payload + "." + b64.EncodeToString(s.mac(payload))
}

func TestSignerRefusesSignedButBadPayloads(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	// 1 MB of spaces deflates to about a kilobyte: a bomb that fits the
	// token cap and must be cut at MaxSpecJSON.
	bomb := signRaw(s, append([]byte(`{"u":"count","t":"`), bytes.Repeat([]byte(" "), 1<<20)...))
	require.Less(t, len(bomb), MaxTokenLen)

	// A token over the cap with a valid MAC is refused on its length,
	// before it is inflated.
	rnd := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, MaxTokenLen)
	for i := range big {
		big[i] = byte(rnd.Uint32()) // incompressible
	}
	oversized := signRaw(s, big)
	require.Greater(t, len(oversized), MaxTokenLen)

	tests := []struct {
		name string
		tok  string
		want string
	}{
		{name: "deflate bomb", tok: bomb, want: "inflates past 65536 bytes"},
		{name: "oversized", tok: oversized, want: fmt.Sprintf("%d bytes", len(oversized))},
		{name: "not deflate", tok: func() string {
			p := b64.EncodeToString([]byte("not deflate at all"))
			return p + "." + b64.EncodeToString(s.mac(p))
		}(), want: "inflate"},
		{name: "not JSON", tok: signRaw(s, []byte("<xml/>")), want: "decode"},
		{name: "invalid spec", tok: signRaw(s, []byte(`{"u":"count","l":["a"],"s":[]}`)), want: "series: none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Verify(tt.tok)
			require.ErrorIs(t, err, errBadToken)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestSignerTokenRefusesInvalidSpec(t *testing.T) {
	t.Parallel()
	spec := week()
	spec.Unit = "yuan"
	_, err := newSigner(t).URL("https://oa.example.com", spec)
	require.ErrorIs(t, err, ErrInvalid)
}

// BenchmarkURL signs a week of two series: the per-recipient cost when a
// digest's chart is shared.
func BenchmarkURL(b *testing.B) {
	s := newSigner(b)
	spec := week()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.URL("https://oa.example.com", spec); err != nil {
			b.Fatal(err)
		}
	}
}
