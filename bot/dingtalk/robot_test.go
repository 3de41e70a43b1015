package dingtalk_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/dingtalk"
	"cardflow/internal/testclock"
	"cardflow/queue"
)

func TestRobotPostsSignedMarkdown(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	r, ok := w.platform.Robot("ops")
	require.True(t, ok)
	_, ok = w.platform.Robot("nope")
	require.False(t, ok)
	c := card("i1")
	c.Fields = []bot.Field{{Label: "SKU", Value: "SKU-1"}}
	require.NoError(t, r.Send(t.Context(), c))
	msgs := w.fake.RobotMessages()
	require.Len(t, msgs, 1)
	require.Equal(t, "markdown", msgs[0].Body["msgtype"])
	md := msgs[0].Body["markdown"].(map[string]any)
	require.Equal(t, c.Title, md["title"])
	require.Contains(t, md["text"], "**SKU**：SKU-1")
	require.NotContains(t, md["text"], "approve|", "no buttons: a robot's message cannot call back")

	// Unreachable: the error shows neither the robot's token nor its secret.
	w.fake.Close()
	err := r.Send(t.Context(), c)
	require.Error(t, err)
	require.False(t, queue.IsPermanent(err))
	bottest.AssertNoLeak(t, []string{robotToken, robotSecret}, err, w.log.String())
}

// TestRobotLimits: the declared limit never lets 21 messages through in a
// minute; past DingTalk's own limit the robot is blocked for ten minutes.
func TestRobotLimits(t *testing.T) {
	t.Parallel()
	clk := testclock.New(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	lim := bot.NewMemoryLimiter(dingtalk.Limits, clk.Now)
	w := newWorld(t, worldOptions{limiter: lim, now: clk.Now})
	r, _ := w.platform.Robot("ops")
	sent := 0
	for range 120 { // two minutes, a try every second
		err := r.Send(t.Context(), card("i1"))
		if err == nil {
			sent++
		} else {
			after, limited := queue.RetryAfter(err)
			require.True(t, limited, "%v", err)
			require.Positive(t, after)
		}
		clk.Advance(time.Second)
	}
	require.Equal(t, 40, sent, "20 a minute, steadily")

	// Without the limiter, DingTalk's block: errcode 130101 → 10 minutes.
	w2 := newWorld(t, worldOptions{now: clk.Now})
	r2, _ := w2.platform.Robot("ops")
	var err error
	for range 21 {
		if err = r2.Send(t.Context(), card("i1")); err != nil {
			break
		}
	}
	after, limited := queue.RetryAfter(err)
	require.True(t, limited, "%v", err)
	require.Equal(t, 10*time.Minute, after)
	require.Contains(t, err.Error(), "130101")
	bottest.AssertNoLeak(t, []string{robotToken, robotSecret, clientSecret}, err, w2.log.String())
}
