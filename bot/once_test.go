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
	out, first, err := bot.AnswerOnce(ctx, store, "feishu", "ev-1", now, answer)
	require.NoError(t, err)
	require.True(t, first)
	require.Equal(t, "1", string(out))
	out, first, err = bot.AnswerOnce(ctx, store, "feishu", "ev-1", now, answer)
	require.NoError(t, err)
	require.False(t, first, "the retry is told it is not first, so it replies nothing")
	require.Equal(t, "1", string(out), "and it gets the first answer")
	out, first, err = bot.AnswerOnce(ctx, store, "wecom", "ev-1", now, answer)
	require.NoError(t, err)
	require.True(t, first, "event ids are per platform")
	require.Equal(t, "3", string(out))

	_, _, err = bot.AnswerOnce(ctx, store, "feishu", "", now, answer)
	require.ErrorIs(t, err, bot.ErrInvalid)
	_, _, err = bot.AnswerOnce(ctx, store, "feishu", "ev-2", now, func(context.Context) ([]byte, error) {
		return nil, errors.New("store down")
	})
	require.EqualError(t, err, "store down")
	_, first, err = bot.AnswerOnce(ctx, store, "feishu", "ev-2", now, answer)
	require.NoError(t, err)
	require.True(t, first, "a failed answer is not remembered: the platform's retry is answered afresh")
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
			out, first, err := bot.AnswerOnce(context.Background(), store, "dingtalk", "msg-9", time.Now(),
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
