package outbox

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// fakePruner holds rows as their timestamps and records every prune call;
// the real stores are exercised by the conformance suite.
type fakePruner struct {
	*memSource // the lease
	mu         sync.Mutex
	outbox     []time.Time // sent_at of sent messages
	keys       []time.Time // created_at of idempotency keys
	calls      []pruneCall
	fail       error // returned by the next prune call, then cleared
}

type pruneCall struct {
	table  string
	before time.Time
	limit  int
}

func newFakePruner() *fakePruner { return &fakePruner{memSource: newMemSource()} }

func (f *fakePruner) PruneSentOutbox(_ context.Context, before time.Time, limit int) (int, error) {
	return f.prune("outbox", &f.outbox, before, limit)
}

func (f *fakePruner) PruneIdempotency(_ context.Context, before time.Time, limit int) (int, error) {
	return f.prune("idempotency", &f.keys, before, limit)
}

func (f *fakePruner) prune(table string, rows *[]time.Time, before time.Time, limit int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, pruneCall{table, before, limit})
	if err := f.fail; err != nil {
		f.fail = nil
		return 0, err
	}
	n := 0
	kept := (*rows)[:0]
	for _, at := range *rows {
		if at.Before(before) && n < limit {
			n++
			continue
		}
		kept = append(kept, at)
	}
	*rows = kept
	return n, nil
}

// add stores n rows of each table stamped at.
func (f *fakePruner) add(n int, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.outbox = append(f.outbox, at)
		f.keys = append(f.keys, at)
	}
}

func (f *fakePruner) rows() (outbox, keys int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.outbox), len(f.keys)
}

func TestPruneDeletesInBatchesPastTheRetention(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := newFakePruner()
	f.add(25, now.Add(-10*24*time.Hour)) // past both retentions
	f.mu.Lock()
	for range 3 { // past the outbox retention only
		f.outbox = append(f.outbox, now.Add(-3*24*time.Hour))
		f.keys = append(f.keys, now.Add(-3*24*time.Hour))
	}
	f.mu.Unlock()
	f.add(5, now.Add(-time.Hour)) // within both
	reg := prometheus.NewRegistry()
	type batch struct {
		table   string
		deleted int
	}
	var batches []batch
	l := NewPruneLoop(f, PruneOptions{Holder: "a", BatchSize: 10, OutboxRetention: 2 * 24 * time.Hour,
		IdempotencyRetention: 7 * 24 * time.Hour, Registerer: reg, Now: func() time.Time { return now },
		OnBatch: func(table string, deleted int) { batches = append(batches, batch{table, deleted}) }})

	res, err := l.Prune(t.Context())
	require.NoError(t, err)
	require.Equal(t, PruneResult{Outbox: 28, Idempotency: 25}, res)
	out, keys := f.rows()
	require.Equal(t, 5, out)
	require.Equal(t, 8, keys)

	outboxBefore, keysBefore := now.Add(-2*24*time.Hour), now.Add(-7*24*time.Hour)
	require.Equal(t, []pruneCall{
		{"outbox", outboxBefore, 10}, {"outbox", outboxBefore, 10}, {"outbox", outboxBefore, 10},
		{"idempotency", keysBefore, 10}, {"idempotency", keysBefore, 10}, {"idempotency", keysBefore, 10},
	}, f.calls, "batches until one comes back short")
	require.Equal(t, []batch{{"outbox", 10}, {"outbox", 20}, {"outbox", 28},
		{"idempotency", 10}, {"idempotency", 20}, {"idempotency", 25}}, batches, "progress: the running total per table")
	require.InDelta(t, 28, testutil.ToFloat64(l.pruned.WithLabelValues("outbox")), 0)
	require.InDelta(t, 25, testutil.ToFloat64(l.pruned.WithLabelValues("idempotency")), 0)
}

// twoHolders returns a fake store and two prune loops on it, holders a
// and b, on a clock standing still, and a time past every retention.
func twoHolders() (f *fakePruner, a, b *PruneLoop, old time.Time) {
	now := time.Unix(1_000_000, 0)
	f = newFakePruner()
	clock := func() time.Time { return now }
	a = NewPruneLoop(f, PruneOptions{Holder: "a", Interval: time.Minute, Now: clock})
	b = NewPruneLoop(f, PruneOptions{Holder: "b", Interval: time.Minute, Now: clock})
	return f, a, b, now.Add(-30 * 24 * time.Hour)
}

func TestOnlyTheLeaseHolderPrunes(t *testing.T) {
	t.Parallel()
	f, a, b, old := twoHolders()
	f.add(3, old)

	res, err := a.Prune(t.Context())
	require.NoError(t, err)
	require.Equal(t, PruneResult{Outbox: 3, Idempotency: 3}, res)
	f.add(2, old)
	res, err = b.Prune(t.Context())
	require.NoError(t, err)
	require.Equal(t, PruneResult{Skipped: true}, res, "b must not prune while a holds the lease")
	out, _ := f.rows()
	require.Equal(t, 2, out)

	a.release()
	res, err = b.Prune(t.Context())
	require.NoError(t, err)
	require.Equal(t, PruneResult{Outbox: 2, Idempotency: 2}, res, "a released the lease: b takes over")
}

// TestPruneOnce prunes once and gives the lease back at once: another
// holder's pass right after is not skipped.
func TestPruneOnce(t *testing.T) {
	t.Parallel()
	f, a, b, old := twoHolders()
	f.add(3, old)

	res, err := a.Once(t.Context())
	require.NoError(t, err)
	require.Equal(t, PruneResult{Outbox: 3, Idempotency: 3}, res)
	f.add(2, old)
	res, err = b.Prune(t.Context())
	require.NoError(t, err)
	require.Equal(t, PruneResult{Outbox: 2, Idempotency: 2}, res, "a gave the lease back")

	res, err = a.Once(t.Context())
	require.NoError(t, err)
	require.Equal(t, PruneResult{Skipped: true}, res, "b holds the lease now")
}

// TestPruneLoopRunsEveryIntervalAndRetriesAfterFailure runs the loop under
// synctest: passes at start and each interval, a failed pass counted and
// retried at the next one, the lease released on stop.
func TestPruneLoopRunsEveryIntervalAndRetriesAfterFailure(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakePruner()
		type pass struct {
			res PruneResult
			err error
		}
		var mu sync.Mutex
		var passes []pass
		l := NewPruneLoop(f, PruneOptions{Holder: "a", Interval: time.Minute, OutboxRetention: time.Hour,
			IdempotencyRetention: time.Hour, OnPass: func(res PruneResult, err error) {
				mu.Lock()
				defer mu.Unlock()
				passes = append(passes, pass{res, err})
			}})
		f.add(4, time.Now().Add(-2*time.Hour))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx) }()

		synctest.Wait()
		f.add(2, time.Now().Add(-2*time.Hour))
		f.mu.Lock()
		f.fail = errors.New("connection refused")
		f.mu.Unlock()
		time.Sleep(time.Minute) // the failing pass
		synctest.Wait()
		time.Sleep(time.Minute) // the retry
		synctest.Wait()

		mu.Lock()
		require.Len(t, passes, 3)
		require.Equal(t, PruneResult{Outbox: 4, Idempotency: 4}, passes[0].res)
		require.ErrorContains(t, passes[1].err, "connection refused")
		require.Equal(t, PruneResult{Outbox: 2, Idempotency: 2}, passes[2].res)
		mu.Unlock()
		require.InDelta(t, 1, testutil.ToFloat64(l.failures), 0)

		cancel()
		require.NoError(t, <-done)
		f.memSource.mu.Lock()
		defer f.memSource.mu.Unlock()
		require.Empty(t, f.memSource.holder, "a stopped loop gives its lease up")
	})
}

func TestPruneTablesOfOtherPackages(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := newFakePruner()
	var events []time.Time
	for i := range 12 {
		events = append(events, now.Add(-time.Duration(i)*24*time.Hour)) // 0 to 11 days old
	}
	l := NewPruneLoop(f, PruneOptions{Holder: "a", BatchSize: 2, Now: func() time.Time { return now },
		Tables: []PruneTable{{Name: "bot_events", Retention: 7 * 24 * time.Hour,
			Prune: func(ctx context.Context, before time.Time, limit int) (int, error) {
				return f.prune("bot_events", &events, before, limit)
			}}}})
	res, err := l.Prune(t.Context())
	require.NoError(t, err)
	require.Equal(t, map[string]int{"bot_events": 4}, res.Tables, "the 8 to 11 days old")
	require.Len(t, events, 8)
	require.InDelta(t, 4, testutil.ToFloat64(l.pruned.WithLabelValues("bot_events")), 0)
	require.Equal(t, pruneCall{"bot_events", now.Add(-7 * 24 * time.Hour), 2}, f.calls[len(f.calls)-1])
}
