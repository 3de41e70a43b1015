package dingtalk_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/dingtalk"
	"cardflow/bot/dingtalk/dingtalktest"
	"cardflow/config"
	"cardflow/queue"
)

func TestSendAndUpdateInPlace(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	c := card("i1.t1")
	sent, err := w.platform.Send(t.Context(), reader("0202"), c)
	require.NoError(t, err)
	require.Regexp(t, `^cf-[0-9a-f]{12}-[0-9a-f]{12}$`, sent.MessageID)
	got, ok := w.fake.Card(sent.MessageID)
	require.True(t, ok)
	require.Equal(t, "0202", got.UserID)
	require.Equal(t, templateID, got.TemplateID)
	require.Equal(t, "STREAM", got.CallbackType)
	require.Equal(t, dingtalk.Render(c, bot.LocaleZH), got.Params)

	c.Status, c.Buttons, c.StatusLine = bot.StatusApproved, nil, "已同意 · 钱多多 · 10:42"
	up, err := w.platform.Update(t.Context(), reader("0202"), bot.CardMessage{MessageID: sent.MessageID}, c)
	require.NoError(t, err)
	require.Equal(t, sent.MessageID, up.MessageID)
	got, _ = w.fake.Card(sent.MessageID)
	require.Equal(t, 1, got.Updates)
	require.Equal(t, "false", got.Params[dingtalk.ParamHasButtons])
	require.Equal(t, "已同意 · 钱多多 · 10:42", got.Params[dingtalk.ParamStatusLine])

	// A group card goes to the group's open conversation.
	g, err := w.platform.Send(t.Context(), bot.Reader{ChatID: "cidGroup01"}, card("i1"))
	require.NoError(t, err)
	got, _ = w.fake.Card(g.MessageID)
	require.Equal(t, "cidGroup01", got.ChatID)
	require.NotEqual(t, sent.MessageID, g.MessageID)

	_, err = w.platform.Send(t.Context(), bot.Reader{UserID: "u_x"}, c)
	require.True(t, queue.IsPermanent(err), "a reader without a dingtalk id: %v", err)
	require.Equal(t, 1, w.fake.TokenFetches())
}

func TestFiftyConcurrentSendsFetchOneToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := w.platform.Send(t.Context(), reader("0202"), card("i1.t1"))
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Equal(t, 1, w.fake.TokenFetches())
	require.Len(t, w.fake.Cards(), 50)
}

func TestErrorsAreClassified(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fail     []dingtalktest.Failure
		expire   bool
		ok       bool
		perm     bool
		after    time.Duration
		fetches  int
		contains string
	}{
		{name: "token revoked: fetched again, sent", expire: true, ok: true, fetches: 2},
		{name: "token invalid once: retried with a fresh one", fail: []dingtalktest.Failure{dingtalktest.TokenInvalid}, ok: true, fetches: 2},
		{name: "token invalid twice: retryable", fail: []dingtalktest.Failure{dingtalktest.TokenInvalid, dingtalktest.TokenInvalid},
			fetches: 2, contains: "InvalidAuthentication"},
		{name: "throttled: rate limited for the Retry-After", fail: []dingtalktest.Failure{dingtalktest.Throttled},
			after: 3 * time.Second, fetches: 1, contains: "Throttling.Api"},
		{name: "app QPS code 90019 on HTTP 200", fail: []dingtalktest.Failure{{Status: 200, Body: `{"errcode":90019,"errmsg":"qps"}`}},
			after: time.Second, fetches: 1, contains: "90019"},
		{name: "IP ban: rate limited for its minutes", fail: []dingtalktest.Failure{{Status: 200, Body: `{"status":1111,"wait":5}`}},
			after: 5 * time.Minute, fetches: 1},
		{name: "server error: retryable", fail: []dingtalktest.Failure{dingtalktest.ServerError}, fetches: 1, contains: "HTTP 500"},
		{name: "unknown user: permanent", fail: []dingtalktest.Failure{dingtalktest.UnknownUser}, perm: true, fetches: 1,
			contains: "user not found"},
		{name: "bad parameter: permanent", fail: []dingtalktest.Failure{dingtalktest.BadParam}, perm: true, fetches: 1},
		{name: "success false: permanent", fail: []dingtalktest.Failure{{Status: 200, Body: `{"success":false}`}}, perm: true, fetches: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOptions{})
			if tc.expire {
				_, err := w.platform.Send(t.Context(), reader("0202"), card("i0.t0"))
				require.NoError(t, err)
				w.fake.ExpireTokens()
			}
			for _, f := range tc.fail {
				w.fake.Fail("/v1.0/card/instances/createAndDeliver", f)
			}
			_, err := w.platform.Send(t.Context(), reader("0202"), card("i1.t1"))
			require.Equal(t, tc.fetches, w.fake.TokenFetches())
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), "dingtalk: send card i1.t1")
			require.Contains(t, err.Error(), tc.contains)
			require.Equal(t, tc.perm, queue.IsPermanent(err), "permanent: %v", err)
			after, limited := queue.RetryAfter(err)
			require.Equal(t, tc.after > 0, limited, "rate limited: %v", err)
			require.Equal(t, tc.after, after)
			bottest.AssertNoLeak(t, []string{clientSecret}, err, w.log.String())
		})
	}
}

func TestFailuresLeakNoSecret(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	// A token, then a failure: the error must show neither the secret nor
	// the token.
	_, err := w.platform.Send(t.Context(), reader("0202"), card("i0.t0"))
	require.NoError(t, err)
	tok, err := w.platform.Tokens().Token(t.Context())
	require.NoError(t, err)
	w.fake.Fail("/v1.0/card/instances", dingtalktest.ServerError)
	_, err = w.platform.Update(t.Context(), reader("0202"), bot.CardMessage{MessageID: "nope"}, card("i0.t0"))
	require.Error(t, err)
	bottest.AssertNoLeak(t, []string{clientSecret, tok}, err, w.log.String())

	// The token refused: wrong secret.
	bad, err := dingtalk.New(config.DingTalkConfig{ClientID: clientID, ClientSecret: "wrong-secret-0123456789",
		RobotCode: robotCode, CardTemplateID: templateID, BaseURL: w.fake.URL, Timeout: time.Second},
		dingtalk.Deps{Inbound: bot.NewActions(bot.ActionsDeps{Engine: w.engine, Directory: w.engine, Render: w.render}), Store: w.store})
	require.NoError(t, err)
	_, err = bad.Send(t.Context(), reader("0202"), card("i0.t0"))
	require.ErrorContains(t, err, "invalidClientSecret")
	bottest.AssertNoLeak(t, []string{"wrong-secret-0123456789", clientSecret}, err, w.log.String())

	// DingTalk unreachable: retryable, and no URL with a token in it.
	w.fake.Close()
	_, err = w.platform.Send(t.Context(), reader("0202"), card("i0.t0"))
	require.Error(t, err)
	require.False(t, queue.IsPermanent(err))
	var ae *dingtalk.APIError
	require.False(t, errors.As(err, &ae))
	require.Contains(t, err.Error(), "transport")
	bottest.AssertNoLeak(t, []string{clientSecret, tok}, err, w.log.String())
}
