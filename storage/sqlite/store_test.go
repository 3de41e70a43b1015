package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
	"cardflow/storage/sqlite"
	"cardflow/storage/storetest"
)

func newStore(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cardflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) flows.Store { return newStore(t) }, func(t *testing.T, s flows.Store, table string) int64 {
		t.Helper()
		n, err := s.(*sqlite.Store).CountRows(t.Context(), table)
		require.NoError(t, err)
		return n
	})
}

func TestOpenRejectsNonDatabase(t *testing.T) {
	t.Parallel()
	garbage := make([]byte, 8192)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	tests := []struct {
		name    string
		content []byte
	}{
		{name: "binary garbage", content: garbage},
		{name: "a text file", content: []byte("this is my config, not a database\n")},
		{
			name:    "damaged header",
			content: append([]byte("SQLite format 3\x00\xff\xff\x7f\x7f"), garbage[:4096]...),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "data", "cardflow.db")
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o750))
			require.NoError(t, os.WriteFile(path, tc.content, 0o600))

			for op, err := range map[string]error{
				"Open":    openErr(t, path),
				"Migrate": migrateErr(t, path),
			} {
				require.ErrorIs(t, err, sqlite.ErrNotDatabase, op)
				require.ErrorContains(t, err, path, "%s must name the file", op)
				require.ErrorContains(t, err, "not a valid SQLite database", op)
			}
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, tc.content, after, "a file that is no database must be left as it was")
		})
	}
}

func openErr(t *testing.T, path string) error {
	s, err := sqlite.Open(t.Context(), path)
	if err == nil {
		require.NoError(t, s.Close())
	}
	return err
}

func migrateErr(t *testing.T, path string) error {
	t.Helper()
	_, err := sqlite.Migrate(t.Context(), path)
	return err
}

func TestOpenRejectsNonFilePath(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		_, err := sqlite.Open(t.Context(), path)
		require.ErrorContains(t, err, "want a plain file path", "path %q", path)
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "nested", "dir", "cardflow.db") // Open creates the directories
	s, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	inst := storetest.Seed(t, s, "i-1")
	c := storetest.DecideChange(inst, "i-1-t1", "u-bob")
	c.IdempotencyKey, c.Result = "click-1", json.RawMessage(`{"ok": true}`)
	c.NewTimers = []flows.Timer{storetest.NewTimer("i-1", "tm-1", storetest.At(time.Hour))}
	storetest.MustApply(t, s, c)
	_, _, err = s.PutDefinition(ctx, storetest.NewDefinition("purchase", "id: purchase\n"))
	require.NoError(t, err)
	require.NoError(t, s.ReplaceOrg(ctx, storetest.SampleOrg()))
	require.NoError(t, s.Close())

	// Migrating an up-to-date file is a no-op, and reopening keeps everything.
	res, err := sqlite.Migrate(ctx, path)
	require.NoError(t, err)
	require.Empty(t, res.Steps)
	require.Positive(t, res.Version)
	s, err = sqlite.Open(ctx, path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()

	got, err := s.Instance(ctx, "i-1")
	require.NoError(t, err)
	require.Equal(t, int64(2), got.Version)
	task, err := s.Task(ctx, "i-1-t1")
	require.NoError(t, err)
	require.Equal(t, flows.TaskApproved, task.Status)
	audit, err := s.Audit(ctx, "i-1")
	require.NoError(t, err)
	require.Len(t, audit, 2)
	pending, err := s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	require.Len(t, pending, 2)
	result, err := s.Idempotent(ctx, "click-1")
	require.NoError(t, err)
	require.JSONEq(t, `{"ok": true}`, string(result))
	timers, err := s.ClaimTimers(ctx, storetest.At(2*time.Hour), "h", time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, timers, 1)
	def, err := s.LatestDefinition(ctx, "purchase")
	require.NoError(t, err)
	require.Equal(t, 1, def.Version)
	user, err := s.UserByPlatformID(ctx, "feishu", "ou_carol")
	require.NoError(t, err)
	require.Equal(t, "u-carol", user.ID)
}

// TestReadersDoNotWaitForWriter holds the file's write lock from another
// connection (as a second process would) and reads through the store: WAL
// readers see the last commit instead of waiting.
func TestReadersDoNotWaitForWriter(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cardflow.db")
	s, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	storetest.Seed(t, s, "i-1")

	other, err := sql.Open("sqlite", path+"?_txlock=immediate")
	require.NoError(t, err)
	defer func() { require.NoError(t, other.Close()) }()
	tx, err := other.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, `UPDATE instances SET version = 5, title = 'uncommitted' WHERE id = 'i-1'`)
	require.NoError(t, err)

	readCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := s.Instance(readCtx, "i-1")
	require.NoError(t, err, "a read must not wait for another connection's write transaction")
	require.Equal(t, int64(1), got.Version, "a reader sees the last commit")
	_, err = s.Tasks(readCtx, flows.TaskFilter{Assignee: "u-bob"})
	require.NoError(t, err)

	require.NoError(t, tx.Commit())
	got, err = s.Instance(ctx, "i-1")
	require.NoError(t, err)
	require.Equal(t, int64(5), got.Version, "and the new commit once it is made")
}

func TestMigrateFreshFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "new", "cardflow.db")
	res, err := sqlite.Migrate(ctx, path)
	require.NoError(t, err)
	require.NotEmpty(t, res.Steps, "a fresh file gets every migration")
	require.Equal(t, res.Steps[len(res.Steps)-1].Version, res.Version)
	require.FileExists(t, path)
	s, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.Ping(ctx))
	storetest.Seed(t, s, "i-1")
}

// BenchmarkApplyClaimTask runs the shared claim-task transaction on 16
// goroutines against a store file in a temporary directory.
func BenchmarkApplyClaimTask(b *testing.B) {
	storetest.BenchApplyClaimTask(b, newStore(b))
}

// TestKeysFromBeforeTheUpgradeCountFromIt opens a database whose keys were
// recorded before the prune migration, which kept no time with them: they
// must count from the upgrade, not from 1970, so none is pruned sooner than
// its retention after the upgrade.
func TestKeysFromBeforeTheUpgradeCountFromIt(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cardflow.db")
	require.NoError(t, sqlite.MigrateTo(ctx, path, 1,
		`INSERT INTO idempotency (key, result) VALUES ('feishu:evt-old', '{"n": 1}')`))
	s, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })

	n, err := s.PruneIdempotency(ctx, time.Now().Add(-time.Hour), 10)
	require.NoError(t, err)
	require.Zero(t, n)
	got, err := s.Idempotent(ctx, "feishu:evt-old")
	require.NoError(t, err)
	require.JSONEq(t, `{"n": 1}`, string(got))

	n, err = s.PruneIdempotency(ctx, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the key is pruned once its retention from the upgrade has passed")
}

// BenchmarkAnalytics computes flow analytics over 100,000 tasks.
func BenchmarkAnalytics(b *testing.B) {
	storetest.BenchAnalytics(b, newStore(b))
}

// TestCheckpointsKeepTheLogBounded writes far more pages than the restart
// limit, one commit at a time, and checks that the checkpoints beside the
// writer copied them into the database file and that the writer started
// the log over: without them the -wal file would hold every page written.
func TestCheckpointsKeepTheLogBounded(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cardflow.db")
	s, err := sqlite.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	const restartPages = 64
	checkpointed := s.SetCheckpoints(time.Millisecond, restartPages)
	dbBefore := fileSize(t, path)

	// Every commit appends at least one whole page to the log: the cards'
	// table's leaf. Every 25 commits the test waits for a passive
	// checkpoint, so that the log is looked at every 50 commits at most,
	// however loaded the machine (the goroutine waits for the test after
	// each one: the checkpoint received ran before the last 25 commits).
	digest := strings.Repeat("d", 128)
	var written int64
	for i := range 4000 {
		c := bot.CardMessage{CardKey: bot.CardKey{Platform: "sim", Recipient: fmt.Sprintf("u%d", i%50),
			Subject: fmt.Sprintf("s%d", i)}, InstanceID: "i-1", MessageID: fmt.Sprintf("m%d", i),
			StateVersion: 1, Digest: digest, SentAt: time.Now(), UpdatedAt: time.Now()}
		ok, err := s.PutCard(t.Context(), c)
		require.NoError(t, err)
		require.True(t, ok)
		written += 4096
		if i%25 == 24 {
			select {
			case <-checkpointed:
			case <-time.After(time.Minute):
				t.Fatal("no passive checkpoint after commits")
			}
		}
	}
	wal := fileSize(t, path+"-wal")
	t.Logf("at least %d KiB of pages logged; -wal file %d KiB; database file %d → %d KiB",
		written>>10, wal>>10, dbBefore>>10, fileSize(t, path)>>10)
	// The cards take about a megabyte; without a checkpoint the database
	// file would stay as it was until Close.
	require.Greater(t, fileSize(t, path)-dbBefore, int64(256<<10), "pages were checkpointed into the database file")
	require.Less(t, wal, written/4, "the writer restarted the log instead of letting it grow")
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}
