package feishu_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/feishu/feishutest"
	"cardflow/queue"
)

func testCard(subject string, version int64) bot.Card {
	return bot.Card{Subject: subject, Version: version, Status: bot.StatusPending, Title: "订单履约 · TM-1001",
		Fields:  []bot.Field{{Label: "订单号", Value: "TM-1001", Short: true}},
		Buttons: []bot.Button{{Label: "同意", Style: bot.StylePrimary, Action: "approve", Payload: "t:" + subject + ":1"}}}
}

var qian = bot.Reader{UserID: "u_qian", PlatformUserID: "ou_qian0003", Locale: bot.LocaleZH}

func TestSendAndUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	sent, err := b.p.Send(ctx, qian, testCard("i1.t1", 1))
	require.NoError(t, err)
	m, ok := b.fake.Message(sent.MessageID)
	require.True(t, ok)
	require.Equal(t, "open_id", m.ReceiveIDType)
	require.Equal(t, "ou_qian0003", m.ReceiveID)
	require.Equal(t, "订单履约 · TM-1001", feishutest.Header(m.Card))

	done := testCard("i1.t1", 2)
	done.Title, done.Buttons, done.Status = "已同意", nil, bot.StatusApproved
	up, err := b.p.Update(ctx, qian, bot.CardMessage{MessageID: sent.MessageID}, done)
	require.NoError(t, err)
	require.Equal(t, sent.MessageID, up.MessageID)
	m, _ = b.fake.Message(sent.MessageID)
	require.Equal(t, 1, m.Updates())
	require.Equal(t, "已同意", feishutest.Header(m.Card))

	// A group chat gets the card by chat_id.
	g, err := b.p.Send(ctx, bot.Reader{ChatID: "oc_ops"}, testCard("i1", 1))
	require.NoError(t, err)
	gm, _ := b.fake.Message(g.MessageID)
	require.Equal(t, "chat_id", gm.ReceiveIDType)
	require.Equal(t, "oc_ops", gm.ReceiveID)
}

// TestRetriedSendIsNotDoubled: a send retried after a lost answer carries
// the same uuid, and Feishu gives back the first message.
func TestRetriedSendIsNotDoubled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := testCard("i1.t1", 1)
	first, err := b.p.Send(t.Context(), qian, c)
	require.NoError(t, err)
	again, err := b.p.Send(t.Context(), qian, c)
	require.NoError(t, err)
	require.Equal(t, first.MessageID, again.MessageID)
	require.Len(t, b.fake.Messages(), 1)
	// A newer state is a new message when sent anew.
	next, err := b.p.Send(t.Context(), qian, testCard("i1.t1", 2))
	require.NoError(t, err)
	require.NotEqual(t, first.MessageID, next.MessageID)
}

func TestFiftyConcurrentSendsFetchOneToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Go(func() {
			_, err := b.p.Send(t.Context(), qian, testCard(fmt.Sprintf("i%d.t1", i), 1))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, b.fake.TokenFetches())
	require.Equal(t, 1, b.p.TokenFetches())
	require.Len(t, b.fake.Messages(), 50)
}

func TestRevokedTokenIsDroppedAndTheCallRetriedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.p.Send(t.Context(), qian, testCard("i1.t1", 1))
	require.NoError(t, err)
	b.fake.ExpireTokens()
	_, err = b.p.Send(t.Context(), qian, testCard("i2.t1", 1))
	require.NoError(t, err)
	require.Equal(t, 2, b.fake.TokenFetches())
	require.Equal(t, 3, b.fake.Calls(feishutest.OpSend), "the refused call, then one retry with a fresh token")
	require.Len(t, b.fake.Messages(), 2)
}

func TestSendErrorsSayWhetherToRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		op        feishutest.Op
		fail      []feishutest.Failure
		limited   time.Duration
		permanent bool
	}{
		{name: "rate limited with reset", op: feishutest.OpSend, fail: []feishutest.Failure{feishutest.RateLimited}, limited: 7 * time.Second},
		{name: "reader too fast", op: feishutest.OpSend, fail: []feishutest.Failure{feishutest.ReaderTooFast}, limited: time.Second},
		{name: "server error", op: feishutest.OpSend, fail: []feishutest.Failure{feishutest.ServerError}},
		{name: "user not found", op: feishutest.OpSend, fail: []feishutest.Failure{feishutest.UserNotFound}, permanent: true},
		{name: "token refused", op: feishutest.OpToken, fail: []feishutest.Failure{feishutest.TokenRefused}, permanent: true},
		{name: "token endpoint down", op: feishutest.OpToken, fail: []feishutest.Failure{feishutest.ServerError}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Fail(tt.op, tt.fail...)
			_, err := b.p.Send(t.Context(), qian, testCard("i1.t1", 1))
			require.Error(t, err)
			after, limited := queue.RetryAfter(err)
			require.Equal(t, tt.limited > 0, limited, "rate limited: %v", err)
			if limited {
				require.Equal(t, tt.limited, after)
			}
			require.Equal(t, tt.permanent, queue.IsPermanent(err), "permanent: %v", err)
			require.Contains(t, err.Error(), "feishu: ")
			bottest.AssertNoLeak(t, []string{b.fake.Keys.AppSecret, "t-fake-0001", b.fake.Keys.EncryptKey}, err, b.log.String())
		})
	}
}

func TestUpdateOfAWithdrawnMessageIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.p.Update(t.Context(), qian, bot.CardMessage{MessageID: "om_gone"}, testCard("i1.t1", 2))
	require.True(t, queue.IsPermanent(err), "%v", err)
}

func TestTransportFailureIsRetryable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := b.p.Send(ctx, qian, testCard("i1.t1", 1))
	require.Error(t, err)
	require.False(t, queue.IsPermanent(err))
	_, limited := queue.RetryAfter(err)
	require.False(t, limited)
	require.False(t, errors.Is(err, context.DeadlineExceeded))
}
