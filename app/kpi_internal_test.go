package app

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi"
	"cardflow/bot"
	"cardflow/config"
	"cardflow/internal/chart"
)

// TestChartOfEveryUnit draws a digest's chart for a KPI of every unit a
// KPI file accepts: a unit the chart signer refused would send the digest
// without its picture.
func TestChartOfEveryUnit(t *testing.T) {
	t.Parallel()
	signer, err := chart.NewSigner([]byte("0123456789abcdef-chart-test"))
	require.NoError(t, err)
	k := &kpiSide{cfg: &config.Config{Server: config.ServerConfig{PublicURL: "https://oa.example.com"}}, signer: signer}
	from := time.Date(2025, 11, 23, 0, 0, 0, 0, kpi.China)
	units := []kpi.Unit{kpi.UnitMoney, kpi.UnitCount, kpi.UnitPercent, kpi.UnitRatio, kpi.UnitDays, kpi.UnitHours}
	for _, u := range units {
		t.Run(string(u), func(t *testing.T) {
			t.Parallel()
			f := kpi.Figure{KPI: kpi.Definition{Name: "k", Label: "指标", Unit: u}, Period: kpi.Day}
			for i := range 7 {
				f.Series = append(f.Series, kpi.Point{From: from.AddDate(0, 0, i),
					V: kpi.Value{V: decimal.NewFromFloat(1.5), Known: true}})
			}
			for _, r := range []bot.Reader{{}, {Locale: bot.LocaleEN}} {
				img, err := k.chartOf(f, r)
				require.NoError(t, err)
				tok := img.URL[len("https://oa.example.com/charts/") : len(img.URL)-len(".png")]
				spec, err := signer.Verify(tok)
				require.NoError(t, err)
				_, err = chart.Render(spec)
				require.NoError(t, err)
			}
		})
	}
}
