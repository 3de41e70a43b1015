package wecom_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/wecom"
)

// TestLimitsStayUnderWeCom drives the declared limits as hard as a busy
// pipeline would (a call every 100 ms for two hours) and counts what they
// let through in every window WeCom counts: a member gets at most 30 a
// minute and 1,000 an hour (the rest is dropped silently), a robot 20 a
// minute.
func TestLimitsStayUnderWeCom(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name               string
		key                string
		perMinute, perHour int
	}{
		{name: "a member", key: wecom.Name + ":QianDuoduo", perMinute: 30, perHour: 1000},
		{name: "a group robot", key: wecom.Name + "-robot:alerts", perMinute: 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
			l := bot.NewMemoryLimiter(wecom.Limits, func() time.Time { return now })
			var allowed []time.Time
			for end := now.Add(2 * time.Hour); now.Before(end); now = now.Add(100 * time.Millisecond) {
				ok, _, err := l.Allow(t.Context(), tc.key)
				require.NoError(t, err)
				if ok {
					allowed = append(allowed, now)
				}
			}
			require.NotEmpty(t, allowed)
			require.LessOrEqual(t, most(allowed, time.Minute), tc.perMinute)
			if tc.perHour > 0 {
				require.LessOrEqual(t, most(allowed, time.Hour), tc.perHour)
			}
		})
	}
}

// most is the largest number of times within any window of length d.
func most(times []time.Time, d time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= d {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}
