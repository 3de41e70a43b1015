package main

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/app"
	"cardflow/config"
	"cardflow/outbox"
	"cardflow/storage/sqlite"
	"cardflow/storage/storetest"
)

// TestPrune runs cardflow prune on an embedded store holding a month-old
// sent message, an unsent one and a month-old idempotency key: the first
// run deletes the old sent message and the key, the second finds nothing,
// and while a server holds the prune lease it says so and deletes nothing.
func TestPrune(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	t.Setenv("CARDFLOW_STORE_SQLITE_PATH", path)
	t.Setenv("CARDFLOW_STORE_INSTANCE_RETENTION", "0")
	ctx := t.Context()
	s, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	inst := storetest.NewInstance("i-1")
	c := storetest.StartChange(inst, storetest.NewTask("i-1", "i-1-t1", "u-bob"), storetest.NewTask("i-1", "i-1-t2", "u-ann"))
	c.IdempotencyKey, c.Result = "start-1", json.RawMessage(`{"ok": true}`)
	a := storetest.MustApply(t, s, c)
	require.Len(t, a.OutboxSeqs, 2)
	require.NoError(t, s.MarkOutboxSent(ctx, a.OutboxSeqs[:1]))
	require.NoError(t, s.Close())
	backdate(t, path, time.Now().Add(-30*24*time.Hour))

	code, out, errOut := runCmd("prune")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(out, "\n")
	require.Equal(t, "sqlite "+path+": one prune pass with the configured retentions", lines[0])
	require.Equal(t, []string{
		"  outbox                1 deleted   kept 7d     outbox.retention",
		"  idempotency           1 deleted   kept 7d     store.idempotency_retention",
		"  bot_events            0 deleted   kept 7d     store.idempotency_retention",
		"  bot_cards             0 deleted   kept 30d    store.card_retention",
		"  instances             -           kept for ever (store.instance_retention is 0)",
	}, lines[1:6])
	require.Regexp(t, `^2 rows deleted in \d`, lines[6])

	code, out, errOut = runCmd("prune")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "  outbox                0 deleted")
	require.Contains(t, out, "\n0 rows deleted in ")
	s, err = sqlite.Open(ctx, path)
	require.NoError(t, err)
	unsent, _, err := s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, unsent, "an unsent message is never pruned")

	held, err := s.AcquireLease(ctx, outbox.PruneLeaseName, "server-1", time.Now(), time.Hour)
	require.NoError(t, err)
	require.True(t, held)
	require.NoError(t, s.Close())
	code, out, errOut = runCmd("prune")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "sqlite "+path+": skipped: another cardflow instance holds the prune lease; it prunes every 10m0s (store.prune_interval)\n", out)
}

// TestPruneRefusesBadRetentions: the retentions prune goes by are checked
// with where each was set, the queue's dead-letter retention among them (a
// negative one was reported as "kept for ever").
func TestPruneRefusesBadRetentions(t *testing.T) {
	t.Setenv("CARDFLOW_STORE_SQLITE_PATH", filepath.Join(t.TempDir(), "cardflow.db"))
	t.Setenv("CARDFLOW_OUTBOX_RETENTION", "0s")
	t.Setenv("CARDFLOW_QUEUE_DEAD_LETTER_RETENTION", "-1h")
	code, out, errOut := runCmd("prune")
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Equal(t, "cardflow prune: invalid configuration:\n"+
		"outbox.retention: must be positive, got 0s (env CARDFLOW_OUTBOX_RETENTION)\n"+
		"queue.dead_letter_retention: must be 0 (keep them until queue.max_dead_letters) or positive, got -1h0m0s (env CARDFLOW_QUEUE_DEAD_LETTER_RETENTION)\n",
		errOut)
}

// backdate moves the send times of sent messages and the recording times
// of idempotency keys to at.
func backdate(t *testing.T, path string, at time.Time) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(t.Context(), "UPDATE outbox SET sent_at = ? WHERE sent_at IS NOT NULL", at.UnixMicro())
	require.NoError(t, err)
	_, err = db.ExecContext(t.Context(), "UPDATE idempotency SET created_at = ?", at.UnixMicro())
	require.NoError(t, err)
}

func TestPruneReport(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	tests := []struct {
		name string
		res  outbox.PruneResult
		want string
	}{
		{name: "nothing", want: "" +
			"postgres db: one prune pass with the configured retentions\n" +
			"  outbox                0 deleted   kept 7d     outbox.retention\n" +
			"  idempotency           0 deleted   kept 7d     store.idempotency_retention\n" +
			"  bot_events            0 deleted   kept 7d     store.idempotency_retention\n" +
			"  bot_cards             0 deleted   kept 30d    store.card_retention\n" +
			"  instances             0 deleted   kept 365d   store.instance_retention\n" +
			"  dead_letters          0 deleted   kept 30d    queue.dead_letter_retention\n" +
			"0 rows deleted in 1.5s\n"},
		{name: "a year of rows", res: outbox.PruneResult{Outbox: 1234567, Idempotency: 4000,
			Tables: map[string]int{"bot_events": 12, "bot_cards": 300, "instances": 2, "dead_letters": 40}}, want: "" +
			"postgres db: one prune pass with the configured retentions\n" +
			"  outbox        1,234,567 deleted   kept 7d     outbox.retention\n" +
			"  idempotency       4,000 deleted   kept 7d     store.idempotency_retention\n" +
			"  bot_events           12 deleted   kept 7d     store.idempotency_retention\n" +
			"  bot_cards           300 deleted   kept 30d    store.card_retention\n" +
			"  instances             2 deleted   kept 365d   store.instance_retention\n" +
			"  dead_letters         40 deleted   kept 30d    queue.dead_letter_retention\n" +
			"1,238,921 rows deleted in 1.5s (an instance counts as one, with its tasks, audit rows and cards)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			writePruneReport(&b, "postgres db", app.Retentions(cfg), tc.res, 1500*time.Millisecond)
			require.Equal(t, tc.want, b.String())
		})
	}
}
