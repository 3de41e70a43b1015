package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/storage/postgres/pgtest"
)

// TestApplyGroup commits hand-made groups (applyGroup, as a worker does)
// and checks that a change in a group is answered as it would be alone:
// one that fails, fails alone and the others commit, wherever it stands in
// the group; a change sees those before it as committed.
func TestApplyGroup(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	stale := func(i int64) flows.Change {
		c := claimChange(i, now)
		c.ExpectVersion = 7
		return c
	}
	rekeyed := func(i int64, key string) flows.Change {
		c := claimChange(i, now)
		c.IdempotencyKey = key
		return c
	}
	tests := []struct {
		name    string
		changes []flows.Change
		want    []error // per change: nil for committed, else the sentinel
		// wantVersions are the instances' versions afterwards, by seeded
		// index (1: untouched, 2: one change committed).
		wantVersions []int64
	}{{
		name:         "all commit",
		changes:      []flows.Change{claimChange(0, now), claimChange(1, now), claimChange(2, now)},
		want:         []error{nil, nil, nil},
		wantVersions: []int64{2, 2, 2},
	}, {
		name:         "the first fails",
		changes:      []flows.Change{stale(0), claimChange(1, now), claimChange(2, now)},
		want:         []error{flows.ErrStaleVersion, nil, nil},
		wantVersions: []int64{1, 2, 2},
	}, {
		name:         "one in the middle fails",
		changes:      []flows.Change{claimChange(0, now), stale(1), claimChange(2, now), claimChange(3, now)},
		want:         []error{nil, flows.ErrStaleVersion, nil, nil},
		wantVersions: []int64{2, 1, 2, 2},
	}, {
		name:         "the last fails",
		changes:      []flows.Change{claimChange(0, now), claimChange(1, now), stale(2)},
		want:         []error{nil, nil, flows.ErrStaleVersion},
		wantVersions: []int64{2, 2, 1},
	}, {
		name:         "every other fails",
		changes:      []flows.Change{stale(0), claimChange(1, now), stale(2), claimChange(3, now), stale(4)},
		want:         []error{flows.ErrStaleVersion, nil, flows.ErrStaleVersion, nil, flows.ErrStaleVersion},
		wantVersions: []int64{1, 2, 1, 2, 1},
	}, {
		// The second change of one instance sees the first committed: its
		// expected version is gone, as if it came second alone.
		name:         "two changes of one instance",
		changes:      []flows.Change{claimChange(0, now), rekeyed(0, "other-key"), claimChange(1, now)},
		want:         []error{nil, flows.ErrStaleVersion, nil},
		wantVersions: []int64{2, 2},
	}, {
		// One idempotency key twice: the second is a replay of the first,
		// answered with the first's stored result.
		name:         "one key twice",
		changes:      []flows.Change{claimChange(0, now), rekeyed(1, "claim:bench-0"), claimChange(2, now)},
		want:         []error{nil, &flows.DuplicateError{Key: "claim:bench-0", Result: benchResult}, nil},
		wantVersions: []int64{2, 1, 2},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openTestStore(t, Options{MaxConns: 4})
			seedOpenTasks(t, s, len(tc.wantVersions))
			got := applyAsGroup(t, s, tc.changes)
			for i, want := range tc.want {
				var dup *flows.DuplicateError
				switch {
				case want == nil:
					require.NoError(t, got[i], "change %d", i)
				case errors.As(want, &dup):
					var gotDup *flows.DuplicateError
					require.ErrorAs(t, got[i], &gotDup, "change %d", i)
					require.Equal(t, dup.Key, gotDup.Key)
					require.JSONEq(t, string(dup.Result), string(gotDup.Result))
				default:
					require.ErrorIs(t, got[i], want, "change %d", i)
				}
			}
			for i, want := range tc.wantVersions {
				var version int64
				require.NoError(t, s.pool.QueryRow(t.Context(), `SELECT version FROM instances WHERE id = $1`,
					benchInstanceID(int64(i))).Scan(&version))
				require.Equal(t, want, version, "instance %d", i)
			}
		})
	}
}

// applyAsGroup commits changes as one group and returns each one's answer
// as Apply would give it.
func applyAsGroup(t *testing.T, s *Store, changes []flows.Change) []error {
	t.Helper()
	reqs := make([]*applyReq, len(changes))
	for i, c := range changes {
		reqs[i] = &applyReq{ctx: t.Context(), c: c, done: make(chan applyResult, 1)}
	}
	s.applyGroup(t.Context(), reqs)
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		res := <-r.done
		_, errs[i] = s.applyOutcome(t.Context(), r.c, res.applied, res.err)
	}
	return errs
}

// TestApplyGroupCallerGone: a change whose caller stopped waiting before
// its group began is answered with the caller's error and not written;
// the rest of the group commits.
func TestApplyGroupCallerGone(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, Options{MaxConns: 2})
	seedOpenTasks(t, s, 2)
	now := time.Now()
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	reqs := []*applyReq{
		{ctx: gone, c: claimChange(0, now), done: make(chan applyResult, 1)},
		{ctx: t.Context(), c: claimChange(1, now), done: make(chan applyResult, 1)},
	}
	s.applyGroup(t.Context(), reqs)
	require.ErrorIs(t, (<-reqs[0].done).err, context.Canceled)
	res := <-reqs[1].done
	require.NoError(t, res.err)
	require.Equal(t, int64(2), res.applied.InstanceVersion)
	var written int
	require.NoError(t, s.pool.QueryRow(t.Context(),
		`SELECT count(*) FROM idempotency WHERE key = $1`, "claim:"+benchInstanceID(0)).Scan(&written))
	require.Zero(t, written)
}

// TestApplyConcurrentCallers sends many changes at once through Apply, as
// concurrent requests do, grouped or alone: each gets its own answer, its
// own outbox seq, and the replays of one key one stored answer.
func TestApplyConcurrentCallers(t *testing.T) {
	t.Parallel()
	for _, alone := range []bool{false, true} {
		name := "grouped"
		if alone {
			name = "alone"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const n = 64
			s := openTestStore(t, Options{MaxConns: 4, ApplyAlone: alone})
			seedOpenTasks(t, s, n)
			now := time.Now()
			var wg sync.WaitGroup
			// Each change is sent twice: exactly one of the two commits.
			applied := make([]flows.Applied, 2*n)
			errs := make([]error, 2*n)
			for i := range 2 * n {
				wg.Go(func() { applied[i], errs[i] = s.Apply(t.Context(), claimChange(int64(i%n), now)) })
			}
			wg.Wait()
			seqs := map[int64]bool{}
			for i := range n {
				won, lost := i, n+i
				if errs[i] != nil { // the other one committed; this one is its replay
					won, lost = lost, won
				}
				require.NoError(t, errs[won], "change %d", i)
				require.Equal(t, int64(2), applied[won].InstanceVersion)
				require.Len(t, applied[won].OutboxSeqs, 1)
				require.False(t, seqs[applied[won].OutboxSeqs[0]], "seq given twice")
				seqs[applied[won].OutboxSeqs[0]] = true
				var dup *flows.DuplicateError
				require.ErrorAs(t, errs[lost], &dup, "change %d", i)
				require.JSONEq(t, string(benchResult), string(dup.Result))
			}
			var audits int
			require.NoError(t, s.pool.QueryRow(t.Context(), `SELECT count(*) FROM audit`).Scan(&audits))
			require.Equal(t, n, audits)
		})
	}
}

// TestApplyAfterClose: the workers stop with the store, and a change sent
// after Close fails (the pool is closed) instead of waiting for them.
func TestApplyAfterClose(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), pgtest.SchemaDSN(t), Options{Migrate: true, MaxConns: 2})
	require.NoError(t, err)
	seedOpenTasks(t, s, 1)
	_, err = s.Apply(t.Context(), claimChange(0, time.Now())) // starts the workers
	require.NoError(t, err)
	require.NoError(t, s.Close())
	c := claimChange(0, time.Now())
	c.IdempotencyKey, c.ExpectVersion = "after-close", 2
	_, err = s.Apply(t.Context(), c)
	require.Error(t, err)
	require.NotErrorIs(t, err, flows.ErrStaleVersion)
}
