package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/app"
	"cardflow/bot"
	"cardflow/config"
	"cardflow/internal/shopday"
)

// TestShopDay plays the demo's shop day against a server with the
// simulator, ten times faster, and looks for every kind of card it brings.
func TestShopDay(t *testing.T) {
	t.Parallel()
	secrets := shopday.NewSecrets()
	// At SLA scale 60 the alerts' group_wait (5s, 10s) passes in well under
	// the day's 10× faster steps, so the oversell is paged before its
	// restock resolves it, as it is in the demo.
	c := startChatRun(t, nil, func(cfg *config.Config) {
		o, s := shopday.Sources(secrets)
		for _, e := range o {
			cfg.Orders.Sources = append(cfg.Orders.Sources, config.Secret(e))
		}
		cfg.Stock.Sources = []config.Secret{config.Secret(s[0])}
		cfg.Stock.LowStock = shopday.LowStock
		cfg.Orders.RulesFile = "../configs/order_rules.example.yaml"
		cfg.KPI.File = "../configs/kpis.example.yaml"
	}, app.RunOptions{SLAScale: 60})
	require.NoError(t, shopday.Play(t.Context(), shopday.Target{BaseURL: c.base, Secrets: secrets,
		After:  func(d time.Duration) <-chan time.Time { return time.After(d / 10) },
		Digest: func(ctx context.Context) error { return c.ready.SendDigest(ctx, "evening") }}))
	// Every order reaches finance; the big one and the refund are there.
	for _, no := range []string{"4012345678901230001", "298765432100001", "261130-512345678900001", "6923456789012340001",
		"4012345678901230002", "261130-512345678900010", "261130-512345678900011", "261130-512345678900012",
		"6923456789012340002"} {
		c.waitCard(t, "qian", func(card bot.Card) bool { return strings.HasPrefix(card.Title, "订单履约 · "+no+" · ") })
	}
	c.waitCard(t, "chen", func(card bot.Card) bool { return card.Title == "退货 · 261130-512345678900001 · ¥49.80" })
	oversell := c.waitCard(t, "zheng", func(card bot.Card) bool {
		return strings.HasPrefix(card.Title, "超卖 · CUP-WHT") && strings.HasPrefix(card.StatusLine, "已自动恢复")
	})
	require.Empty(t, oversell.Card.Buttons, "resolved by the restock")
	// The evening digest (today's figures) reaches the GM, with its chart.
	// (A run of it may have gone out at start-up already, as the catch-up
	// of 21:00 when the test runs late in China's evening.)
	m := c.waitCard(t, "wang", func(card bot.Card) bool {
		return card.Title == "经营日报" && len(card.Tables) == 1 && card.Tables[0].Rows[0][1] == "¥7,777.50"
	})
	rows := m.Card.Tables[0].Rows
	require.Len(t, rows, 6)
	require.Equal(t, [][]string{{"销售额", "¥7,777.50"}, {"订单数", "9"}, {"客单价", "¥864.17"}, {"退款率", "0.0%"}},
		firstColumns(rows[:4], 2))
	// The approval figures depend on how fast the day's steps ran.
	require.Equal(t, [][]string{{"审批时效"}, {"审批超时率"}}, firstColumns(rows[4:], 1))
	require.NotNil(t, m.Card.Image)
	resp, err := http.Get(c.base + m.Card.Image.URL)
	require.NoError(t, err)
	png, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")))

	low := c.waitCard(t, "zheng", func(card bot.Card) bool { return card.Title == "库存偏低 · SOCK-3P · main" })
	require.NotEmpty(t, low.Card.Buttons, "the warehouse acknowledges it from the card")
}

// firstColumns are the first n cells of each row.
func firstColumns(rows [][]string, n int) [][]string {
	var out [][]string
	for _, r := range rows {
		out = append(out, r[:n])
	}
	return out
}
