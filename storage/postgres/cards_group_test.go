package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
)

// TestCardGroupFailingUpsert: a group of card records in which one upsert
// fails in the database (a time PostgreSQL cannot hold) writes nothing as
// a group; each upsert goes again alone, so the one fails with its own
// error and the others are recorded.
func TestCardGroupFailingUpsert(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, Options{Migrate: true})
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	card := func(i int) bot.CardMessage {
		return bot.CardMessage{CardKey: bot.CardKey{Platform: "feishu", Recipient: "u_qian", Subject: fmt.Sprintf("i-1.t%04d", i)},
			InstanceID: "i-1", MessageID: fmt.Sprintf("om_%d", i), StateVersion: 1, Digest: "sha256:x", SentAt: at, UpdatedAt: at}
	}
	group := make([]*cardReq, 5)
	for i := range group {
		group[i] = &cardReq{ctx: t.Context(), c: card(i), done: make(chan cardResult, 1)}
	}
	group[2].c.SentAt = time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC) // past timestamptz's range
	s.putCardGroup(context.WithoutCancel(t.Context()), group)
	for i, r := range group {
		res := <-r.done
		if i == 2 {
			require.Error(t, res.err)
			require.False(t, res.applied)
			_, err := s.Card(t.Context(), r.c.CardKey)
			require.ErrorIs(t, err, bot.ErrNotFound)
			continue
		}
		require.NoError(t, res.err, "card %d", i)
		require.True(t, res.applied, "card %d", i)
		got, err := s.Card(t.Context(), r.c.CardKey)
		require.NoError(t, err)
		require.Equal(t, r.c.MessageID, got.MessageID)
	}
}

// TestCardReadGroup: one query answers a group of reads — recorded cards,
// a key asked twice, and keys with no card (ErrNotFound) — each with its
// own card.
func TestCardReadGroup(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, Options{Migrate: true})
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var keys []bot.CardKey
	for i := range 4 {
		c := bot.CardMessage{CardKey: bot.CardKey{Platform: "wecom", Recipient: fmt.Sprintf("u_%d", i), Subject: "i-2.t0001"},
			InstanceID: "i-2", MessageID: fmt.Sprintf("msg-%d", i), StateVersion: int64(i + 1), Digest: "sha256:y",
			SentAt: at, UpdatedAt: at}
		if i%2 == 0 {
			ok, err := s.PutCard(t.Context(), c)
			require.NoError(t, err)
			require.True(t, ok)
		}
		keys = append(keys, c.CardKey)
	}
	keys = append(keys, keys[0]) // asked twice
	group := make([]*readReq[bot.CardKey, bot.CardMessage], len(keys))
	for i, k := range keys {
		group[i] = &readReq[bot.CardKey, bot.CardMessage]{ctx: t.Context(), key: k, done: make(chan readResult[bot.CardMessage], 1)}
	}
	s.cardReads.answer(context.WithoutCancel(t.Context()), group)
	for i, r := range group {
		res := <-r.done
		n := i % 4
		if n%2 == 1 {
			require.ErrorIs(t, res.err, bot.ErrNotFound, "key %d", i)
			continue
		}
		require.NoError(t, res.err, "key %d", i)
		require.Equal(t, keys[i], res.v.CardKey)
		require.Equal(t, fmt.Sprintf("msg-%d", n), res.v.MessageID)
		require.Equal(t, int64(n+1), res.v.StateVersion)
	}
}
