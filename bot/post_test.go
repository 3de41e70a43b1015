package bot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/queue"
)

func digestCard(_ context.Context, r bot.Reader) (bot.Card, error) {
	return bot.Card{Status: bot.StatusInfo, Title: "日报 · " + r.UserID}, nil
}

func TestPostSendsEachCopyOnce(t *testing.T) {
	t.Parallel()
	x := newFixture(t)
	ctx := t.Context()
	to := bot.Audience{UserID: "u_qian"}
	require.NoError(t, x.pipeline.Post(ctx, to, "digest/daily/2026-11-29", digestCard))
	require.NoError(t, x.pipeline.Post(ctx, to, "digest/daily/2026-11-29", digestCard), "a repeated run")
	sends, _ := x.platform.counts()
	require.Equal(t, 1, sends)
	require.Equal(t, "日报 · u_qian", x.platform.cardsOf("u_qian")["digest/daily/2026-11-29"].Title)

	require.NoError(t, x.pipeline.Post(ctx, to, "digest/daily/2026-11-30", digestCard), "the next period")
	sends, _ = x.platform.counts()
	require.Equal(t, 2, sends)

	require.NoError(t, x.pipeline.Post(ctx, bot.Audience{UserID: "u_nobody"}, "digest/daily/2026-11-30", digestCard),
		"a user gone from the directory is skipped, not retried")
}

func TestPostRetriesAFailedSendAtOnce(t *testing.T) {
	t.Parallel()
	x := newFixture(t)
	ctx := t.Context()
	x.platform.fail = []error{errors.New("connection reset")}
	to := bot.Audience{UserID: "u_sun"}
	err := x.pipeline.Post(ctx, to, "digest/daily/2026-11-29", digestCard)
	require.ErrorContains(t, err, "connection reset")
	require.False(t, queue.IsPermanent(err))
	require.NoError(t, x.pipeline.Post(ctx, to, "digest/daily/2026-11-29", digestCard), "the retry is not held back by the failed claim")
	require.NoError(t, x.pipeline.Post(ctx, to, "digest/daily/2026-11-29", digestCard))
	sends, _ := x.platform.counts()
	require.Equal(t, 1, sends)
}

func TestPostLeavesAClaimToItsSenderThenTakesItOver(t *testing.T) {
	t.Parallel()
	x := newFixture(t)
	ctx := t.Context()
	var now atomic.Pointer[time.Time]
	start := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	now.Store(&start)
	clock := func() time.Time { return *now.Load() }
	p, err := bot.NewPipeline(bot.PipelineDeps{Platforms: map[string]bot.Platform{"sim": x.platform}, Store: x.store,
		Directory: x.store, Render: stateRenderer{x.engine}, Now: clock})
	require.NoError(t, err)

	// Another server claimed the copy and died before recording its send.
	key := bot.CardKey{Platform: "sim", Recipient: "u_zhao", Subject: "digest/daily/2026-11-29"}
	ok, err := x.store.PutCard(ctx, bot.CardMessage{CardKey: key, InstanceID: key.Subject, MessageID: "pending:other",
		StateVersion: 1, SentAt: start, UpdatedAt: start})
	require.NoError(t, err)
	require.True(t, ok)

	err = p.Post(ctx, bot.Audience{UserID: "u_zhao"}, key.Subject, digestCard)
	require.ErrorContains(t, err, "being sent by another delivery")
	sends, _ := x.platform.counts()
	require.Zero(t, sends)

	later := start.Add(bot.PostClaimTTL)
	now.Store(&later)
	require.NoError(t, p.Post(ctx, bot.Audience{UserID: "u_zhao"}, key.Subject, digestCard))
	sends, _ = x.platform.counts()
	require.Equal(t, 1, sends)
	rec, err := x.store.Card(ctx, key)
	require.NoError(t, err)
	require.Equal(t, int64(3), rec.StateVersion)
	require.NotContains(t, rec.MessageID, "pending:")
}
