package app_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi/digest"
	"cardflow/app"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/testclock"
	"cardflow/outbox"
	"cardflow/queue"
	"cardflow/queue/queuetest"
	"cardflow/storage/sqlite"
)

// TestPruneLoopPrunesDeadLetters: the loop NewPruneLoop builds deletes the
// dead letters of the app's topics that died longer ago than
// queue.dead_letter_retention, in both topics, and keeps the
// younger ones; with the retention 0 it leaves them all to the cap.
func TestPruneLoopPrunesDeadLetters(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		retention time.Duration
		wantTable bool // the pass has a dead_letters table
		pruned    int
		kept      map[string][]string // dead letter IDs left per topic, newest first
	}{
		{name: "older than the retention are pruned", retention: 30 * day, wantTable: true, pruned: 3,
			kept: map[string][]string{flows.NotifyTopic: {"n-new"}, digest.Topic: {"d-new"}}},
		{name: "a longer retention keeps them", retention: 60 * day, wantTable: true, pruned: 0,
			kept: map[string][]string{flows.NotifyTopic: {"n-new", "n-old2", "n-old1"}, digest.Topic: {"d-new", "d-old"}}},
		{name: "retention 0 keeps them until the cap", retention: 0, wantTable: false,
			kept: map[string][]string{flows.NotifyTopic: {"n-new", "n-old2", "n-old1"}, digest.Topic: {"d-new", "d-old"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := testclock.New(now)
			q := queue.NewMemory(queue.MemoryOptions{Now: clock.Now})
			t.Cleanup(func() { require.NoError(t, q.Close()) })
			queuetest.Bury(t, q, clock, flows.NotifyTopic, now.Add(-40*day), "n-old1", "n-old2")
			queuetest.Bury(t, q, clock, digest.Topic, now.Add(-31*day), "d-old")
			queuetest.Bury(t, q, clock, flows.NotifyTopic, now.Add(-29*day), "n-new")
			queuetest.Bury(t, q, clock, digest.Topic, now.Add(-time.Hour), "d-new")

			cfg := config.Default()
			cfg.Queue.DeadLetterRetention = tc.retention
			loop, err := app.NewPruneLoop(cfg, openSQLite(t), "sqlite", q, outbox.PruneOptions{
				Holder: "test", Now: func() time.Time { return now }})
			require.NoError(t, err)
			res, err := loop.Prune(t.Context())
			require.NoError(t, err)
			got, ok := res.Tables["dead_letters"]
			require.Equal(t, tc.wantTable, ok)
			require.Equal(t, tc.pruned, got)
			for topic, want := range tc.kept {
				dls, err := q.DeadLetters(t.Context(), topic, 0)
				require.NoError(t, err)
				var ids []string
				for _, dl := range dls {
					ids = append(ids, dl.Message.ID)
				}
				require.Equal(t, want, ids, topic)
			}
		})
	}
}

// TestPruneLoopReportsAQueueFailure: a queue that cannot prune fails the
// pass with the table's name, for the loop to log and retry.
func TestPruneLoopReportsAQueueFailure(t *testing.T) {
	t.Parallel()
	q := queue.NewMemory(queue.MemoryOptions{})
	require.NoError(t, q.Close())
	loop, err := app.NewPruneLoop(config.Default(), openSQLite(t), "sqlite", q, outbox.PruneOptions{Holder: "test"})
	require.NoError(t, err)
	_, err = loop.Prune(t.Context())
	require.ErrorIs(t, err, queue.ErrClosed)
	require.ErrorContains(t, err, "prune dead_letters")
}

func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cardflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	return store
}
