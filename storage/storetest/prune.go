package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/outbox"
	"cardflow/queue"
)

// CountRowsFunc counts the rows of one table ("outbox", "order_events") of a
// store from newStore. The prune and order tests use it to see rows the
// contract has no method to read: sent outbox messages, how many keys are
// kept, and that a refused order event wrote nothing.
type CountRowsFunc func(t *testing.T, s flows.Store, table string) int64

func pruneTests(count CountRowsFunc) []suiteTest {
	return []suiteTest{
		storeTest("sent outbox: only sent, only older, in batches", func(t *testing.T, s flows.Store) {
			testPruneSentOutbox(t, s, count)
		}),
		storeTest("idempotency keys: only older, in batches", func(t *testing.T, s flows.Store) {
			testPruneIdempotency(t, s, count)
		}),
		storeTest("tables stay bounded while changes keep coming", func(t *testing.T, s flows.Store) {
			testPruneBounded(t, s, count)
		}),
	}
}

func pruner(t *testing.T, s flows.Store) outbox.Pruner {
	t.Helper()
	p, ok := s.(outbox.Pruner)
	require.True(t, ok, "%T must implement outbox.Pruner", s)
	return p
}

// The stores stamp sent messages and keys with the time of the write, the
// database's clock or the process's; an hour either side of now is far
// enough from both for "older" and "newer" to be unambiguous.
func hourAgo() time.Time     { return time.Now().Add(-time.Hour) }
func hourFromNow() time.Time { return time.Now().Add(time.Hour) }

func testPruneSentOutbox(t *testing.T, s flows.Store, count CountRowsFunc) {
	ctx := t.Context()
	p := pruner(t, s)
	msgs := storeMessages(t, s, "", 5)
	require.NoError(t, s.MarkOutboxSent(ctx, []int64{msgs[0].Seq, msgs[1].Seq, msgs[2].Seq}))

	steps := []struct {
		name   string
		before time.Time
		limit  int
		want   int
	}{
		{name: "sent within the retention are kept", before: hourAgo(), limit: 10, want: 0},
		{name: "no limit, nothing", before: hourFromNow(), limit: 0, want: 0},
		{name: "a batch of two", before: hourFromNow(), limit: 2, want: 2},
		{name: "the last sent one", before: hourFromNow(), limit: 2, want: 1},
		{name: "unsent ones are never pruned", before: hourFromNow(), limit: 10, want: 0},
	}
	for _, step := range steps {
		n, err := p.PruneSentOutbox(ctx, step.before, step.limit)
		require.NoError(t, err, step.name)
		require.Equal(t, step.want, n, step.name)
	}
	require.Equal(t, int64(2), count(t, s, "outbox"))
	pending, err := s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	RequireOutbox(t, msgs[3:], pending)

	require.NoError(t, s.MarkOutboxSent(ctx, []int64{msgs[3].Seq, msgs[4].Seq}))
	n, err := p.PruneSentOutbox(ctx, hourFromNow(), 10)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Zero(t, count(t, s, "outbox"))
	backlog, _, err := s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Zero(t, backlog)
}

func testPruneIdempotency(t *testing.T, s flows.Store, count CountRowsFunc) {
	ctx := t.Context()
	p := pruner(t, s)
	Seed(t, s, "i-1")
	urge := func(key string) flows.Change {
		return flows.Change{IdempotencyKey: key, Result: json.RawMessage(`{"key": "` + key + `"}`),
			Audit: []flows.AuditEntry{NewAudit("i-1", "urge", "u-alice")}}
	}
	keys := []string{"k-1", "k-2", "k-3"}
	for _, k := range keys {
		MustApply(t, s, urge(k))
	}

	n, err := p.PruneIdempotency(ctx, hourAgo(), 10)
	require.NoError(t, err)
	require.Zero(t, n, "keys within the retention are kept")
	for _, k := range keys {
		_, err := s.Apply(ctx, urge(k))
		requireDuplicate(t, err, k, urge(k).Result)
	}

	for _, want := range []int{2, 1, 0} {
		n, err := p.PruneIdempotency(ctx, hourFromNow(), 2)
		require.NoError(t, err)
		require.Equal(t, want, n)
	}
	require.Zero(t, count(t, s, "idempotency"))
	for _, k := range keys {
		_, err := s.Idempotent(ctx, k)
		require.ErrorIs(t, err, flows.ErrNotFound, k)
	}
	// A retry after the retention is a new request: it is applied again.
	MustApply(t, s, urge("k-1"))
	require.Equal(t, int64(1), count(t, s, "idempotency"))
}

// testPruneBounded runs what a server runs: writers committing changes with
// an idempotency key and an outbox message each, the relay publishing and
// marking them sent, and the prune loop. With retentions of a millisecond,
// the two tables must stay small however many changes commit.
func testPruneBounded(t *testing.T, s flows.Store, count CountRowsFunc) {
	const (
		writerCount = 4
		minWrites   = 3000 // rows each table would hold without pruning
		bound       = 1000
	)
	ctx := t.Context()
	q := queue.NewMemory(queue.MemoryOptions{})
	t.Cleanup(func() { _ = q.Close() })
	relay := outbox.NewRelay(s, q, outbox.Options{Holder: "relay", PollInterval: 5 * time.Millisecond})
	passes := make(chan error, 1)
	loop := outbox.NewPruneLoop(pruner(t, s), outbox.PruneOptions{
		Holder: "pruner", Interval: 5 * time.Millisecond, BatchSize: 50,
		OutboxRetention: time.Millisecond, IdempotencyRetention: time.Millisecond,
		OnPass: func(_ outbox.PruneResult, err error) {
			select {
			case passes <- err:
			default: // the test reads passes only when it samples
			}
		},
	})

	// Writers commit until stop is closed; the relay and the prune loop run
	// until the test ends.
	runCtx, cancel := context.WithCancel(ctx)
	var writers, background sync.WaitGroup
	defer func() { cancel(); background.Wait() }()
	stop := make(chan struct{})
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		writers.Wait()
	}()
	var written atomic.Int64
	for w := range writerCount {
		writers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d/%d", w, i)
				_, err := s.Apply(ctx, flows.Change{IdempotencyKey: key, Result: json.RawMessage(`{"ok": true}`),
					Outbox: []flows.OutboxMessage{NewOutbox("i-load", key)}})
				if err != nil {
					t.Errorf("writer %d: apply %s: %v", w, key, err)
					return
				}
				written.Add(1)
				relay.Wake()
			}
		})
	}
	for name, run := range map[string]func(context.Context) error{"relay": relay.Run, "prune loop": loop.Run} {
		background.Go(func() {
			if err := run(runCtx); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}

	nextPass := func() {
		t.Helper()
		select {
		case err := <-passes:
			require.NoError(t, err, "prune pass")
		case <-time.After(time.Minute):
			t.Fatal("no prune pass for a minute")
		}
	}
	maxRows := map[string]int64{}
	for samples := 0; (written.Load() < minWrites || samples < 20) && !t.Failed(); samples++ {
		nextPass()
		for _, table := range []string{"outbox", "idempotency"} {
			n := count(t, s, table)
			maxRows[table] = max(maxRows[table], n)
			require.LessOrEqual(t, n, int64(bound), "%s rows after %d writes", table, written.Load())
		}
	}
	close(stop)
	writers.Wait()
	t.Logf("%d changes committed; most rows seen after a pass: %v", written.Load(), maxRows)

	// Once writing stops and the relay has sent everything, a pass leaves
	// both tables empty.
	for range 1000 {
		nextPass()
		if count(t, s, "outbox") == 0 && count(t, s, "idempotency") == 0 {
			return
		}
	}
	t.Fatalf("tables not emptied: %d outbox, %d idempotency rows", count(t, s, "outbox"), count(t, s, "idempotency"))
}
