package postgres

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/storage/storetest"
)

// TestOutboxMigrationKeepsEarlierMessages upgrades a schema holding
// messages written before 00016, a row each: the unsent one is relayed after
// the upgrade like the packed rows beside it, and every kept key stays
// taken.
func TestOutboxMigrationKeepsEarlierMessages(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn, db := migratedUpTo(t, 15)
	_, err := db.ExecContext(ctx, `INSERT INTO outbox (key, instance_id, topic, payload, created_at, sent_at) VALUES
		('old/sent', 'i-a', 'notify', '{"n": 1}', now(), now()),
		('old/unsent', 'i-a', 'notify', '{"n": 2}', now(), NULL),
		(NULL, 'i-a', 'notify', NULL, now(), NULL)`)
	require.NoError(t, err)

	s, err := Open(ctx, dsn, Options{Migrate: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	newer := []flows.OutboxMessage{storetest.NewOutbox("i-a", "new/1"), storetest.NewOutbox("i-a", "new/2")}
	a, err := s.Apply(ctx, flows.Change{Outbox: newer})
	require.NoError(t, err)

	got, err := s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	require.Len(t, got, 4)
	require.Equal(t, []string{"old/unsent", "", "new/1", "new/2"},
		[]string{got[0].Key, got[1].Key, got[2].Key, got[3].Key})
	require.JSONEq(t, `{"n": 2}`, string(got[0].Payload))
	require.Nil(t, got[1].Payload)
	require.Equal(t, a.OutboxSeqs, []int64{got[2].Seq, got[3].Seq})
	require.Less(t, got[1].Seq, got[2].Seq)
	count, _, err := s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(4), count)

	for _, key := range []string{"old/sent", "old/unsent", "new/2"} {
		_, err := s.Apply(ctx, flows.Change{Outbox: []flows.OutboxMessage{storetest.NewOutbox("i-b", key)}})
		require.Error(t, err, "key %s committed again", key)
	}
	require.NoError(t, s.MarkOutboxSent(ctx, []int64{got[0].Seq, got[1].Seq, got[2].Seq, got[3].Seq}))
	got, err = s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, got)

	// Pruning counts messages, takes a row's messages together (the last
	// row of a batch may take it beyond the limit) and frees their keys.
	for _, step := range []struct{ limit, want int }{{1, 1}, {2, 2}, {1, 2}, {1, 0}} {
		n, err := s.PruneSentOutbox(ctx, time.Now().Add(time.Hour), step.limit)
		require.NoError(t, err)
		require.Equal(t, step.want, n, "prune %d", step.limit)
	}
	var keys int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_keys`).Scan(&keys))
	require.Zero(t, keys)
}
