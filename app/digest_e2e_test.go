package app_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/app"
	"cardflow/bot"
	"cardflow/bot/sim"
	"cardflow/config"
)

// TestDigestGoesOutAtItsTime: the server's digest clock is set two seconds
// before 21:00 in Shanghai, the example's evening digest time; the GM's
// card comes at 21:00 by that clock, not before, once, with its chart.
func TestDigestGoesOutAtItsTime(t *testing.T) {
	t.Parallel()
	shanghai := time.FixedZone("CST", 8*3600)
	realStart := time.Now()
	local := realStart.In(shanghai)
	due := time.Date(local.Year(), local.Month(), local.Day(), 21, 0, 0, 0, shanghai)
	// By the digest clock it is 20:59:58 when the server starts.
	offset := due.Add(-2 * time.Second).Sub(realStart)
	clock := func() time.Time { return time.Now().Add(offset) }

	c := startChatRun(t, nil, func(cfg *config.Config) {
		cfg.KPI.File = "../configs/kpis.example.yaml"
	}, app.RunOptions{DigestClock: clock})
	var mu sync.Mutex
	var sentAt []time.Time
	c.sim.FailWith(func(call sim.Call) error {
		if call.Op == sim.OpSend && strings.HasPrefix(call.Card.Subject, "digest/evening/") && call.To.UserID == "u_wang" {
			mu.Lock()
			sentAt = append(sentAt, clock())
			mu.Unlock()
		}
		return nil
	})
	m := c.waitCard(t, "wang", func(card bot.Card) bool { return card.Title == "经营日报" })
	require.Equal(t, "digest/evening/"+due.Format("2006-01-02")+"T21:00", m.Card.Subject)
	require.NotNil(t, m.Card.Image)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, sentAt, 1)
	require.False(t, sentAt[0].Before(due), "sent at %s by the digest clock, before 21:00", sentAt[0])
}
