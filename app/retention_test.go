package app_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/app"
	"cardflow/config"
	"cardflow/outbox"
	"cardflow/queue"
	"cardflow/storage/sqlite"
)

func TestRetentions(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name      string
		configure func(c *config.Config)
		want      map[string]time.Duration // For by table; 0 kept for ever
	}{
		{name: "defaults", configure: func(*config.Config) {},
			want: map[string]time.Duration{"outbox": 7 * day, "idempotency": 7 * day, "bot_events": 7 * day,
				"bot_cards": 30 * day, "instances": 365 * day, "dead_letters": 30 * day}},
		{name: "instances and cards kept for ever", configure: func(c *config.Config) {
			c.Outbox.Retention = 3 * day
			c.Store.IdempotencyRetention = 2 * day
			c.Store.InstanceRetention, c.Store.CardRetention = 0, 0
			c.Queue.DeadLetterRetention = 0
		}, want: map[string]time.Duration{"outbox": 3 * day, "idempotency": 2 * day, "bot_events": 2 * day,
			"bot_cards": 0, "instances": 0, "dead_letters": 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Default()
			tc.configure(cfg)
			got := map[string]time.Duration{}
			forever := 0
			for _, r := range app.Retentions(cfg) {
				require.NotEmpty(t, r.What)
				require.NotEmpty(t, r.WhatEn)
				if r.Table == "" {
					require.Empty(t, r.Key, "what is never pruned has no key")
					require.Zero(t, r.For)
					forever++
					continue
				}
				require.NotEmpty(t, r.Key, r.Table)
				got[r.Table] = r.For
			}
			require.Equal(t, tc.want, got)
			require.Equal(t, 2, forever)
		})
	}
}

// TestRetentionsNameThePrunedTables: every table a real prune pass reports
// is described, and every described table whose retention is set is pruned.
func TestRetentionsNameThePrunedTables(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cardflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	q := queue.NewMemory(queue.MemoryOptions{})
	t.Cleanup(func() { require.NoError(t, q.Close()) })
	loop, err := app.NewPruneLoop(cfg, store, "sqlite", q, outbox.PruneOptions{Holder: "test"})
	require.NoError(t, err)
	res, err := loop.Prune(t.Context())
	require.NoError(t, err)
	pruned := []string{"outbox", "idempotency"}
	for name := range res.Tables {
		pruned = append(pruned, name)
	}
	var described []string
	for _, r := range app.Retentions(cfg) {
		if r.Table != "" && r.For > 0 {
			described = append(described, r.Table)
		}
	}
	slices.Sort(pruned)
	slices.Sort(described)
	require.Equal(t, described, pruned)
}

// TestRetentionsDescribeTheDeadLetterCap: the dead letters' row states the
// configured cap, and the config's default cap is the queue's.
func TestRetentionsDescribeTheDeadLetterCap(t *testing.T) {
	t.Parallel()
	require.Equal(t, queue.DefaultMaxDeadLetters, config.Default().Queue.MaxDeadLetters)
	cfg := config.Default()
	cfg.Queue.MaxDeadLetters = 2500
	var row app.Retention
	for _, r := range app.Retentions(cfg) {
		if r.Table == "dead_letters" {
			row = r
		}
	}
	require.Equal(t, "queue.dead_letter_retention", row.Key)
	require.Equal(t, "发送失败、不再重试的消息（死信），每个主题最多保留 2,500 条（失败后起算）", row.What)
	require.Equal(t, "messages that failed for good (dead letters), at most 2,500 per topic, from when they failed", row.WhatEn)
}
