package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/internal/testenv"
	"cardflow/outbox"
	"cardflow/queue"
	"cardflow/storage/postgres"
	"cardflow/storage/postgres/pgtest"
)

// TestRestoreResumesTimersAndOutbox proves docs/operations.md: a database
// backed up with pg_dump -Fc and restored with pg_restore into a new
// database resumes where the old one stopped. Before the backup an order
// waits for finance with its SLA timer set, and its notifications are
// committed but not relayed: the relay holds its lease but the queue
// refuses them. After the restore the old relay's lease keeps a new relay
// out until it expires; then a fresh in-process queue receives those
// notifications, and the timer fires once the injected clock is past its
// due time.
func TestRestoreResumesTimersAndOutbox(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	base := testenv.PostgresURL(t)
	dump, restore := pgProgram(t, "pg_dump"), pgProgram(t, "pg_restore")
	srcDSN, dstDSN := newDatabase(t, base), newDatabase(t, base)
	t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

	// Before: an order waits for finance; nothing is relayed.
	src, err := postgres.Open(ctx, srcDSN, postgres.Options{Migrate: true, MaxConns: 2})
	require.NoError(t, err)
	engine := flows.NewEngine(src, flows.WithClock(func() time.Time { return t0 }))
	seedExamples(t, src, engine)
	started, err := engine.Start(ctx, flows.StartRequest{Actor: "u_chen", FlowID: "order_fulfilment",
		Form: map[string]any{"order_no": "TM-RESTORE-1", "platform": "tmall", "amount": "88.00",
			"items": []any{map[string]any{"sku": "SKU-1", "qty": 1, "price": "88.00"}}}})
	require.NoError(t, err)
	down := outbox.NewRelay(src, refusingQueue{}, outbox.Options{Holder: "old-host", Now: func() time.Time { return t0 }})
	_, err = down.Pass(ctx)
	require.ErrorIs(t, err, errQueueDown)
	unsent, _, err := src.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Positive(t, unsent, "the start's notifications wait in the outbox")
	require.NoError(t, src.Close())

	file := filepath.Join(t.TempDir(), "cardflow.dump")
	runProgram(t, dump, "--format=custom", "--file="+file, "--dbname="+srcDSN)
	runProgram(t, restore, "--no-owner", "--exit-on-error", "--dbname="+dstDSN, file)

	// After: migrate finds the restored schema current, then the relay and
	// the timer worker pick up where the old database stopped.
	res, err := postgres.Migrate(ctx, dstDSN)
	require.NoError(t, err)
	require.Empty(t, res.Steps, "the restored schema is current")
	dst, err := postgres.Open(ctx, dstDSN, postgres.Options{MaxConns: 2})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, dst.Close()) })
	later := t0.Add(2*time.Hour + time.Minute) // past finance's 2h SLA
	engine = flows.NewEngine(dst, flows.WithClock(func() time.Time { return later }))
	q := queue.NewMemory(queue.MemoryOptions{})
	t.Cleanup(func() { require.NoError(t, q.Close()) })
	got := make(chan flows.NotificationIntent, 64)
	consumeCtx, stopConsuming := context.WithCancel(ctx)
	consumed := make(chan error, 1)
	go func() {
		consumed <- q.Consume(consumeCtx, flows.NotifyTopic, func(_ context.Context, m queue.Message) error {
			var n flows.NotificationIntent
			if err := json.Unmarshal(m.Payload, &n); err != nil {
				return queue.Permanent(err)
			}
			got <- n
			return nil
		}, queue.ConsumeOptions{Concurrency: 1})
	}()
	early := outbox.NewRelay(dst, q, outbox.Options{Holder: "restored", Now: func() time.Time { return t0.Add(time.Second) }})
	n, err := early.Pass(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "the old relay's lease, restored with the data, holds until it expires")
	relay := outbox.NewRelay(dst, q, outbox.Options{Holder: "restored", Now: func() time.Time { return later }})

	n, err = relay.Pass(ctx)
	require.NoError(t, err)
	require.EqualValues(t, unsent, n, "every message unsent at the backup is relayed after the restore")
	assigned := receive(t, got, n)
	require.True(t, slices.ContainsFunc(assigned, func(n flows.NotificationIntent) bool {
		return n.Kind == flows.NotifyTaskAssigned && n.InstanceID == started.InstanceID && n.StepID == "finance_confirm"
	}), "finance is told of the task: %+v", assigned)

	fired, err := engine.FireDueTimers(ctx, "restored", 100)
	require.NoError(t, err)
	require.Equal(t, 1, fired, "the SLA reminder set before the backup fires")
	n, err = relay.Pass(ctx)
	require.NoError(t, err)
	reminders := receive(t, got, n)
	require.NotEmpty(t, reminders)
	for _, r := range reminders {
		require.Equal(t, flows.NotifyReminder, r.Kind)
		require.Equal(t, started.InstanceID, r.InstanceID)
	}
	left, _, err := dst.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Zero(t, left)
	stopConsuming()
	require.NoError(t, <-consumed)
}

// errQueueDown is what refusingQueue answers.
var errQueueDown = errors.New("queue down")

// refusingQueue is a queue that is down: it publishes nothing.
type refusingQueue struct{}

func (refusingQueue) Publish(context.Context, string, ...queue.Message) error { return errQueueDown }

// seedExamples loads the example org and flows into store.
func seedExamples(t *testing.T, store flows.Store, engine *flows.Engine) {
	t.Helper()
	src, err := os.ReadFile("../configs/org.example.yaml")
	require.NoError(t, err)
	org, err := flows.ParseOrg("org.example.yaml", src)
	require.NoError(t, err)
	require.NoError(t, store.ReplaceOrg(t.Context(), org))
	defs, err := flows.LoadDir("../configs/flows")
	require.NoError(t, err)
	_, err = engine.Register(t.Context(), defs...)
	require.NoError(t, err)
}

// receive returns the next n intents the consumer passes on.
func receive(t *testing.T, got <-chan flows.NotificationIntent, n int) []flows.NotificationIntent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	var out []flows.NotificationIntent
	for len(out) < n {
		select {
		case i := <-got:
			out = append(out, i)
		case <-timeout:
			t.Fatalf("received %d of %d notifications", len(out), n)
		}
	}
	return out
}

// newDatabase creates an empty database on base's server, dropped when the
// test ends, and returns its DSN.
func newDatabase(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	require.Contains(t, []string{"postgres", "postgresql"}, u.Scheme, "the test database must be given as a URL")
	name := "cf_restore_" + strings.ToLower(strconv.FormatInt(time.Now().UnixNano(), 36))
	pgtest.Exec(t, base, "CREATE DATABASE "+name)
	t.Cleanup(func() { pgtest.Exec(t, base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u.Path = "/" + name
	return u.String()
}

// pgProgram finds a PostgreSQL client program: the newest server
// installation's (pg_dump must be at least the server's version), else
// the one on PATH.
func pgProgram(t *testing.T, name string) string {
	t.Helper()
	found, _ := filepath.Glob(filepath.Join("/usr/lib/postgresql", "*", "bin", name))
	if len(found) == 0 {
		return testenv.Program(t, name)
	}
	version := func(p string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return v
	}
	slices.SortFunc(found, func(a, b string) int { return version(a) - version(b) })
	return found[len(found)-1]
}

func runProgram(t *testing.T, path string, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), path, args...).CombinedOutput()
	require.NoError(t, err, "%s: %s", filepath.Base(path), out)
}
