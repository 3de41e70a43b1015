package feishu_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/feishu"
	"cardflow/bot/feishu/feishutest"
	"cardflow/config"
	"cardflow/queue"
)

const (
	robotHook   = "hook-token-0123456789"
	robotSecret = "robot-sign-secret-0123"
)

// robotSetup configures robot "ops" on the fake, signed with secret, and
// a limiter with Feishu's limits on a clock that stands still.
func robotSetup(t *testing.T, secret string) (*bundle, *feishu.Robot) {
	t.Helper()
	var url string
	b := setup(t, func(c *config.FeishuConfig, d *feishu.Deps) {
		c.Robots = []config.Secret{config.Secret("ops=" + c.BaseURL + "/open-apis/bot/v2/hook/" + robotHook + "#" + secret)}
		now := time.Now()
		d.Limiter = bot.NewMemoryLimiter(feishu.Limits, func() time.Time { return now })
	})
	url = b.fake.AddRobot(robotHook, robotSecret)
	require.NotEmpty(t, url)
	r, ok := b.p.Robot("ops")
	require.True(t, ok)
	_, ok = b.p.Robot("nope")
	require.False(t, ok)
	return b, r
}

var digest = bot.Card{Subject: "kpi", Status: bot.StatusInfo, Title: "今日销售", Text: "**GMV** ¥12,000.00"}

func TestRobotPostsSignedCards(t *testing.T) {
	t.Parallel()
	b, r := robotSetup(t, robotSecret)
	require.NoError(t, r.Send(t.Context(), digest))
	posts := b.fake.RobotPosts()
	require.Len(t, posts, 1)
	require.Equal(t, robotHook, posts[0].Hook)
	require.Equal(t, "今日销售", feishutest.Header(posts[0].Card))
}

// TestRobotKeepsItsLimit: five posts at once pass, the sixth is put off by
// the limiter before any call (Feishu allows 5 a second per robot).
func TestRobotKeepsItsLimit(t *testing.T) {
	t.Parallel()
	b, r := robotSetup(t, robotSecret)
	for range 5 {
		require.NoError(t, r.Send(t.Context(), digest))
	}
	err := r.Send(t.Context(), digest)
	after, limited := queue.RetryAfter(err)
	require.True(t, limited, "%v", err)
	require.Positive(t, after)
	require.Equal(t, 5, b.fake.Calls(feishutest.OpRobot))
}

func TestRobotErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		secret    string
		fail      *feishutest.Failure
		limited   bool
		permanent bool
	}{
		{name: "wrong signing secret", secret: "wrong-secret-000", permanent: true},
		{name: "busy half-hour", secret: robotSecret, fail: &feishutest.Failure{Code: 11232, Msg: "frequency limited"}, limited: true},
		{name: "server error", secret: robotSecret, fail: &feishutest.ServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, r := robotSetup(t, tt.secret)
			if tt.fail != nil {
				b.fake.Fail(feishutest.OpRobot, *tt.fail)
			}
			err := r.Send(t.Context(), digest)
			require.Error(t, err)
			_, limited := queue.RetryAfter(err)
			require.Equal(t, tt.limited, limited, "%v", err)
			require.Equal(t, tt.permanent, queue.IsPermanent(err), "%v", err)
			bottest.AssertNoLeak(t, []string{robotHook, robotSecret, tt.secret}, err, b.log.String())
		})
	}
}

func TestRobotTransportErrorHidesTheWebhook(t *testing.T) {
	t.Parallel()
	b, r := robotSetup(t, robotSecret)
	b.fake.Close()
	err := r.Send(t.Context(), digest)
	require.Error(t, err)
	require.False(t, queue.IsPermanent(err))
	bottest.AssertNoLeak(t, []string{robotHook, robotSecret}, err, b.log.String())
}
