package wecom_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/wecom"
	"cardflow/bot/wecom/wecomtest"
	"cardflow/config"
	"cardflow/queue"
)

func TestSendThenUpdateInPlace(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.sendRecorded(t, approvalCard("i1.t1"))
	require.Regexp(t, `^cf-[0-9a-f]{24}$`, m.MessageID)
	require.NotEmpty(t, m.UpdateToken)
	require.WithinDuration(t, time.Now().Add(72*time.Hour), m.TokenExpires, 2*time.Minute)

	msgs := b.fake.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "QianDuoduo", msgs[0].User)
	require.Equal(t, m.MessageID, msgs[0].TaskID)
	require.Equal(t, wecom.CardButtons, msgs[0].Card.CardType)
	require.Len(t, msgs[0].Card.ButtonList, 1, "拒绝 needs a reason: left out")

	decided := approvalCard("i1.t1")
	decided.Version, decided.Buttons, decided.Status, decided.StatusLine = 2, nil, bot.StatusApproved, "已同意 · 钱多多 · 10:42"
	sent, err := b.p.Update(t.Context(), qian, m, decided)
	require.NoError(t, err)
	require.Equal(t, m.MessageID, sent.MessageID)
	msgs = b.fake.Messages()
	require.Len(t, msgs, 1, "updated in place")
	require.Len(t, msgs[0].Updates, 1)
	require.Equal(t, "我的待办", msgs[0].Card.ButtonList[0].Text, "the decided card offers only the to-do list")
	require.Len(t, msgs[0].Card.ButtonList, 1)
	require.Contains(t, msgs[0].Card.SubTitleText, "已同意 · 钱多多")
	require.Equal(t, m.MessageID, msgs[0].Card.TaskID)
	tok, err := b.store.TakeCardToken(t.Context(), m.CardKey, m.MessageID, time.Now())
	require.NoError(t, err)
	require.Empty(t, tok, "the code was spent")

	// No code left: a card with nothing to do is left as it was...
	decided.Version = 3
	sent, err = b.p.Update(t.Context(), qian, m, decided)
	require.NoError(t, err)
	require.Equal(t, m.MessageID, sent.MessageID)
	require.Len(t, b.fake.Messages()[0].Updates, 1)
	require.Contains(t, b.log.String(), "card left as it was")
	// ...and one the reader must act on is sent anew.
	again := approvalCard("i1.t1")
	again.Version = 4
	sent, err = b.p.Update(t.Context(), qian, m, again)
	require.NoError(t, err)
	require.NotEqual(t, m.MessageID, sent.MessageID)
	require.NotEmpty(t, sent.UpdateToken)
	require.Len(t, b.fake.Messages(), 2)
	require.Contains(t, b.log.String(), "card sent anew")
}

func TestUpdateWithRefusedCodeSendsAnew(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.sendRecorded(t, approvalCard("i1.t1"))
	b.fake.FailNext("/cgi-bin/message/update_template_card", wecomtest.Failure{ErrCode: 40058})
	c := approvalCard("i1.t1")
	c.Version = 2
	sent, err := b.p.Update(t.Context(), qian, m, c)
	require.NoError(t, err)
	require.NotEqual(t, m.MessageID, sent.MessageID)
	require.Len(t, b.fake.Messages(), 2)
}

func TestUpdateKeepsCodeWhenTheCallMayBeRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.sendRecorded(t, approvalCard("i1.t1"))
	b.fake.FailNext("/cgi-bin/message/update_template_card", wecomtest.Failure{Status: http.StatusBadGateway})
	c := approvalCard("i1.t1")
	c.Version = 2
	_, err := b.p.Update(t.Context(), qian, m, c)
	require.Error(t, err)
	require.False(t, queue.IsPermanent(err))
	_, err = b.p.Update(t.Context(), qian, m, c)
	require.NoError(t, err, "the retry finds the code kept")
	require.Len(t, b.fake.Messages(), 1)
	require.Len(t, b.fake.Messages()[0].Updates, 1)
}

func TestFiftyConcurrentSendsFetchOneToken(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range 50 {
		wg.Go(func() {
			_, errs[i] = b.p.Send(t.Context(), qian, approvalCard("i1.t1"))
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, b.fake.TokenFetches())
	require.Len(t, b.fake.Messages(), 50)
}

func TestInvalidTokenRefetchedAndRetriedOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		failures []int
		ok       bool
	}{
		{name: "expired 42001", failures: []int{42001}, ok: true},
		{name: "invalid 40014", failures: []int{40014}, ok: true},
		{name: "twice: given up, retryable", failures: []int{42001, 42001}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			_, err := b.p.Send(t.Context(), qian, approvalCard("i1.t1"))
			require.NoError(t, err)
			for _, code := range tc.failures {
				b.fake.FailNext("/cgi-bin/message/send", wecomtest.Failure{ErrCode: code})
			}
			_, err = b.p.Send(t.Context(), qian, approvalCard("i1.t1"))
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, 2, b.fake.TokenFetches())
				return
			}
			require.Error(t, err)
			require.False(t, queue.IsPermanent(err))
			_, limited := queue.RetryAfter(err)
			require.False(t, limited)
			bottest.AssertNoLeak(t, b.secrets(), err, b.log.String())
		})
	}
	t.Run("token expired between calls", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		_, err := b.p.Send(t.Context(), qian, approvalCard("i1.t1"))
		require.NoError(t, err)
		b.fake.ExpireToken()
		_, err = b.p.Send(t.Context(), qian, approvalCard("i1.t1"))
		require.NoError(t, err)
		require.Equal(t, 2, b.fake.TokenFetches())
	})
}

func TestErrorsSayWhetherToRetry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		edit      func(*config.WeComConfig)
		failure   wecomtest.Failure
		permanent bool
		limited   bool
	}{
		{name: "rate limited 45009", failure: wecomtest.Failure{ErrCode: 45009}, limited: true},
		{name: "concurrency 45033", failure: wecomtest.Failure{ErrCode: 45033}, limited: true},
		{name: "system busy -1", failure: wecomtest.Failure{ErrCode: -1}},
		{name: "server error", failure: wecomtest.Failure{Status: http.StatusInternalServerError}},
		{name: "user outside the app 81013", failure: wecomtest.Failure{ErrCode: 81013}, permanent: true},
		{name: "bad secret 40001", edit: func(c *config.WeComConfig) { c.Secret = "wrong-secret-0123456789" },
			permanent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.edit)
			if tc.failure != (wecomtest.Failure{}) {
				b.fake.FailNext("/cgi-bin/message/send", tc.failure)
			}
			_, err := b.p.Send(t.Context(), qian, approvalCard("i1.t1"))
			require.Error(t, err)
			require.Equal(t, tc.permanent, queue.IsPermanent(err), err)
			after, limited := queue.RetryAfter(err)
			require.Equal(t, tc.limited, limited, err)
			if limited {
				require.Equal(t, time.Minute, after)
			}
			require.Contains(t, err.Error(), "wecom: send card i1.t1")
			bottest.AssertNoLeak(t, append(b.secrets(), "wrong-secret-0123456789"), err, b.log.String())
		})
	}
}

func TestSendToGroupChatIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, err := b.p.Send(t.Context(), bot.Reader{ChatID: "wr-chat"}, approvalCard("i1.t1"))
	require.True(t, queue.IsPermanent(err))
	require.Empty(t, b.fake.Messages())
}

func TestRobotPostsMarkdownWithinItsLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	r, ok := b.p.Robot("alerts")
	require.True(t, ok)
	_, ok = b.p.Robot("nobody")
	require.False(t, ok)
	c := bot.Card{Title: "超卖 · SKU-1", Fields: []bot.Field{{Label: "仓库", Value: "华东一仓"}}, Text: "**2 条**"}
	require.NoError(t, r.Send(t.Context(), c))
	require.NoError(t, r.Send(t.Context(), c))
	err := r.Send(t.Context(), c)
	after, limited := queue.RetryAfter(err)
	require.True(t, limited, "the limiter stops the third at once (burst 2, 18 a minute)")
	require.Positive(t, after)
	posts := b.fake.RobotPosts("robot-key-0123456789")
	require.Len(t, posts, 2)
	require.Contains(t, posts[0], "**超卖 · SKU-1**")
	require.Contains(t, posts[0], "仓库：华东一仓")
}

func TestRobotRateLimitedByWeCom(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	r, _ := b.p.Robot("alerts")
	b.fake.FailNext("/cgi-bin/webhook/send", wecomtest.Failure{ErrCode: 45009})
	err := r.Send(t.Context(), bot.Card{Title: "x"})
	_, limited := queue.RetryAfter(err)
	require.True(t, limited, err)
	b.fake.FailNext("/cgi-bin/webhook/send", wecomtest.Failure{Status: http.StatusBadGateway})
	err = r.Send(t.Context(), bot.Card{Title: "x"})
	require.Error(t, err)
	bottest.AssertNoLeak(t, b.secrets(), err, b.log.String())
}

// TestUnreachableWeComLeaksNothing points the app and a robot at a closed
// port: the transport's error names the URL, whose query (the corp secret,
// the robot's key) must not show.
func TestUnreachableWeComLeaksNothing(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	b := setup(t, func(c *config.WeComConfig) {
		c.BaseURL = closed.URL
		c.Robots = []config.Secret{config.Secret("alerts=" + closed.URL + "/cgi-bin/webhook/send?key=robot-key-0123456789")}
	})
	_, err := b.p.Send(t.Context(), qian, approvalCard("i1.t1"))
	require.Error(t, err)
	require.False(t, queue.IsPermanent(err), "a transport failure may pass")
	require.Contains(t, err.Error(), "/cgi-bin/gettoken")
	bottest.AssertNoLeak(t, b.secrets(), err, b.log.String())
	r, _ := b.p.Robot("alerts")
	err = r.Send(t.Context(), bot.Card{Title: "x"})
	require.Error(t, err)
	require.Contains(t, err.Error(), "/cgi-bin/webhook/send")
	bottest.AssertNoLeak(t, b.secrets(), err, b.log.String())
}

// TestTwoServersSpendACodeOnce updates one card from two server instances
// at once: the store hands the single-use code to one of them; the other
// leaves the closed card as it is rather than spend a used code.
func TestTwoServersSpendACodeOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	other, err := wecom.New(b.cfg, wecom.Deps{Inbound: b.in, Store: b.store, Directory: newDirectory(), Log: b.log.Logger})
	require.NoError(t, err)
	m := b.sendRecorded(t, approvalCard("i1.t1"))
	decided := approvalCard("i1.t1")
	decided.Version, decided.Buttons = 2, nil
	var wg sync.WaitGroup
	for _, p := range []*wecom.Platform{b.p, other} {
		wg.Go(func() {
			_, err := p.Update(t.Context(), qian, m, decided)
			require.NoError(t, err)
		})
	}
	wg.Wait()
	msgs := b.fake.Messages()
	require.Len(t, msgs, 1)
	require.Len(t, msgs[0].Updates, 1, "one update spent the code")
	require.Zero(t, b.fake.RefusedCodes(), "the other never tried the spent code")
	require.Contains(t, b.log.String(), "card left as it was")
}
