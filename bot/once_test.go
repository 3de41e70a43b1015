package bot_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/internal/exampletest"
)

func TestAnswerOnceAnswersARetryAlike(t *testing.T) {
	t.Parallel()
	store := exampletest.Store(t, exampletest.Org(t))
	ctx := context.Background()
	now := time.Now()
	n := 0
	answer := func(context.Context) ([]byte, error) {
		n++
		return []byte{byte('0' + n)}, nil
	}
	out, first, err := bot.AnswerOnce(ctx, store, "feishu", "ev-1", "req-a", now, answer)
	require.NoError(t, err)
	require.True(t, first)
	require.Equal(t, "1", string(out))
	out, first, err = bot.AnswerOnce(ctx, store, "feishu", "ev-1", "req-a", now, answer)
	require.NoError(t, err)
	require.False(t, first, "the retry is told it is not first, so it replies nothing")
	require.Equal(t, "1", string(out), "and it gets the first answer")
	out, first, err = bot.AnswerOnce(ctx, store, "wecom", "ev-1", "req-a", now, answer)
	require.NoError(t, err)
	require.True(t, first, "event ids are per platform")
	require.Equal(t, "3", string(out))

	_, _, err = bot.AnswerOnce(ctx, store, "feishu", "", "req-a", now, answer)
	require.ErrorIs(t, err, bot.ErrInvalid)
	_, _, err = bot.AnswerOnce(ctx, store, "feishu", "ev-2", "req-a", now, func(context.Context) ([]byte, error) {
		return nil, errors.New("store down")
	})
	require.EqualError(t, err, "store down")
	_, first, err = bot.AnswerOnce(ctx, store, "feishu", "ev-2", "req-a", now, answer)
	require.NoError(t, err)
	require.True(t, first, "a failed answer is not remembered: the platform's retry is answered afresh")
}

// TestAnswerOnceBindsTheIDToTheRequest: the same event id with another
// request is not a retry: it is answered for itself, never with the first
// request's answer, and the first request's retry still gets the first.
func TestAnswerOnceBindsTheIDToTheRequest(t *testing.T) {
	t.Parallel()
	store := exampletest.Store(t, exampletest.Org(t))
	ctx, now := context.Background(), time.Now()
	approve := bot.Click{EventID: "ev-1", PlatformUserID: "ou_qian", Action: "approve", Payload: "t:i.t1:1", Values: map[string]string{"comment": "好"}}
	reject := approve
	reject.Action = "reject"
	other := approve
	other.Values = map[string]string{"comment": "不好"}
	for _, c := range []bot.Click{reject, other} {
		require.NotEqual(t, approve.Fingerprint(), c.Fingerprint())
	}
	require.Equal(t, approve.Fingerprint(), approve.Fingerprint())
	answered, err := bot.Answered(ctx, store, "feishu", "ev-1", approve.Fingerprint())
	require.NoError(t, err)
	require.False(t, answered)

	answer := func(text string) func(context.Context) ([]byte, error) {
		return func(context.Context) ([]byte, error) { return []byte(text), nil }
	}
	out, first, err := bot.AnswerOnce(ctx, store, "feishu", "ev-1", approve.Fingerprint(), now, answer("approved"))
	require.NoError(t, err)
	require.True(t, first)
	require.Equal(t, "approved", string(out))
	answered, err = bot.Answered(ctx, store, "feishu", "ev-1", approve.Fingerprint())
	require.NoError(t, err)
	require.True(t, answered)

	out, first, err = bot.AnswerOnce(ctx, store, "feishu", "ev-1", reject.Fingerprint(), now, answer("refused: key reused"))
	require.NoError(t, err)
	require.True(t, first, "another request under the same id is answered for itself")
	require.Equal(t, "refused: key reused", string(out))
	out, first, err = bot.AnswerOnce(ctx, store, "feishu", "ev-1", approve.Fingerprint(), now, answer("approved again"))
	require.NoError(t, err)
	require.False(t, first)
	require.Equal(t, "approved", string(out), "the first request's retry gets the first answer")

	m := bot.Message{PlatformUserID: "u1", Text: "/todo"}
	n := m
	n.ChatID = "group-1"
	require.NotEqual(t, m.Fingerprint(), n.Fingerprint())
	// Parts are length-prefixed: moving text between them changes the print.
	a, b := bot.Message{PlatformUserID: "u1", Text: "x"}, bot.Message{PlatformUserID: "u", ChatID: "1", Text: "x"}
	require.NotEqual(t, a.Fingerprint(), b.Fingerprint())
}

func TestAnswerOnceConcurrentDeliveriesAgree(t *testing.T) {
	t.Parallel()
	store := exampletest.Store(t, exampletest.Org(t))
	var seq atomic.Int32
	var firsts atomic.Int32
	outs := make([]string, 8)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Go(func() {
			out, first, err := bot.AnswerOnce(context.Background(), store, "dingtalk", "msg-9", "req-a", time.Now(),
				func(context.Context) ([]byte, error) { return []byte{byte('a' + seq.Add(1))}, nil })
			require.NoError(t, err)
			if first {
				firsts.Add(1)
			}
			outs[i] = string(out)
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), firsts.Load())
	for _, o := range outs {
		require.Equal(t, outs[0], o)
	}
}
