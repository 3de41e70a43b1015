package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func concurrencyTests() []suiteTest {
	return []suiteTest{
		{name: "deciders race for one task", run: testDecideRace},
		storeTest("applies on different instances", testParallelInstances),
		storeTest("same idempotency key", testIdempotencyRace),
		storeTest("claim timers from several holders", testClaimRace),
		storeTest("acquire lease", testLeaseRace),
		storeTest("put the same definition", testDefinitionRace),
	}
}

// race runs fn(0..n-1) on n goroutines released together, so they hit the
// store at the same moment, and returns their errors by index.
func race(n int, fn func(i int) error) []error {
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// winner returns the index of the only nil error, failing unless exactly
// one call succeeded and every other failed with one of allowed.
func winner(t *testing.T, errs []error, allowed ...error) int {
	t.Helper()
	won := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, won, "calls %d and %d both succeeded", won, i)
			won = i
			continue
		}
		ok := false
		for _, target := range allowed {
			ok = ok || errors.Is(err, target)
		}
		require.True(t, ok, "call %d failed with %v, want one of %v", i, err, allowed)
	}
	require.NotEqual(t, -1, won, "no call succeeded")
	return won
}

func testDecideRace(t *testing.T, newStore NewStoreFunc) {
	tests := []struct {
		name         string
		deciders     int
		withInstance bool // false: only the task's From status guards the race
	}{
		{name: "2 deciders, version guard", deciders: 2, withInstance: true},
		{name: "16 deciders, version guard", deciders: 16, withInstance: true},
		{name: "2 deciders, task guard only", deciders: 2},
		{name: "16 deciders, task guard only", deciders: 16},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			ctx := t.Context()
			inst := Seed(t, s, "i-1")
			user := func(i int) string { return fmt.Sprintf("u-%02d", i) }
			change := func(i int) flows.Change {
				c := DecideChange(inst, "i-1-t1", user(i))
				if !tc.withInstance {
					c.Instance = nil
				}
				return c
			}
			errs := race(tc.deciders, func(i int) error {
				_, err := s.Apply(ctx, change(i))
				return err
			})
			won := winner(t, errs, flows.ErrStaleVersion, flows.ErrTaskConflict)

			task, err := s.Task(ctx, "i-1-t1")
			require.NoError(t, err)
			require.Equal(t, flows.TaskApproved, task.Status)
			require.Equal(t, user(won), task.DecidedBy)
			audit, err := s.Audit(ctx, "i-1")
			require.NoError(t, err)
			require.Len(t, audit, 2, "start and exactly one decision")
			require.Equal(t, user(won), audit[1].Actor)
			pending, err := s.PendingOutbox(ctx, 100)
			require.NoError(t, err)
			require.Equal(t, []string{"i-1/start/i-1-t1", change(won).Outbox[0].Key}, ids(pending, outboxKey))
			got, err := s.Instance(ctx, "i-1")
			require.NoError(t, err)
			wantVersion := int64(1)
			if tc.withInstance {
				wantVersion = 2
			}
			require.Equal(t, wantVersion, got.Version)
		})
	}
}

func testParallelInstances(t *testing.T, s flows.Store) {
	ctx := t.Context()
	const writers, steps = 16, 5
	errs := race(writers, func(i int) error {
		id := fmt.Sprintf("i-%02d", i)
		inst := NewInstance(id)
		if _, err := s.Apply(ctx, StartChange(inst, NewTask(id, id+"-t1", "u-bob"))); err != nil {
			return err
		}
		for v := int64(1); v <= steps; v++ {
			inst.Version = v
			c := flows.Change{Instance: &inst, ExpectVersion: v,
				Audit:  []flows.AuditEntry{NewAudit(id, "comment", "u-bob")},
				Outbox: []flows.OutboxMessage{NewOutbox(id, fmt.Sprintf("%s/%d", id, v))}}
			if _, err := s.Apply(ctx, c); err != nil {
				return fmt.Errorf("%s step %d: %w", id, v, err)
			}
		}
		return nil
	})
	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
	}
	for i := range writers {
		got, err := s.Instance(ctx, fmt.Sprintf("i-%02d", i))
		require.NoError(t, err)
		require.Equal(t, int64(steps+1), got.Version)
	}
	count, _, err := s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(writers*(steps+1)), count)
}

func testIdempotencyRace(t *testing.T, s flows.Store) {
	ctx := t.Context()
	inst := Seed(t, s, "i-1")
	const clicks = 8
	change := func(i int) flows.Change {
		c := DecideChange(inst, "i-1-t1", fmt.Sprintf("u-%02d", i))
		c.IdempotencyKey = "card-click-1"
		c.Result = json.RawMessage(fmt.Sprintf(`{"by": %d}`, i))
		return c
	}
	errs := race(clicks, func(i int) error {
		_, err := s.Apply(ctx, change(i))
		return err
	})
	won := winner(t, errs, flows.ErrDuplicate, flows.ErrStaleVersion, flows.ErrTaskConflict)
	for _, err := range errs {
		if errors.Is(err, flows.ErrDuplicate) {
			requireDuplicate(t, err, "card-click-1", change(won).Result)
		}
	}
	got, err := s.Idempotent(ctx, "card-click-1")
	require.NoError(t, err)
	require.JSONEq(t, string(change(won).Result), string(got))
}

func testClaimRace(t *testing.T, s flows.Store) {
	ctx := t.Context()
	const timers, holders, batch = 40, 4, 3
	var all []flows.Timer
	for i := range timers {
		all = append(all, NewTimer("i-1", fmt.Sprintf("tm-%02d", i), At(time.Duration(i)*time.Second)))
	}
	MustApply(t, s, flows.Change{NewTimers: all})

	now := At(time.Hour)
	claimed := make([][]string, holders)
	errs := race(holders, func(h int) error {
		// Bounded: a store that ignores leases would hand out timers forever.
		for range timers {
			got, err := s.ClaimTimers(ctx, now, fmt.Sprintf("holder-%d", h), time.Minute, batch)
			if err != nil || len(got) == 0 {
				return err
			}
			claimed[h] = append(claimed[h], ids(got, timerID)...)
		}
		return nil
	})
	owner := map[string]int{}
	for h, err := range errs {
		require.NoError(t, err, "holder %d", h)
		for _, id := range claimed[h] {
			prev, dup := owner[id]
			require.False(t, dup, "timer %s handed to holder %d and holder %d within the lease", id, prev, h)
			owner[id] = h
		}
	}
	require.Len(t, owner, timers, "every due timer is claimed once")
}

func testLeaseRace(t *testing.T, s flows.Store) {
	ctx := t.Context()
	const contenders = 16
	got := make([]bool, contenders)
	errs := race(contenders, func(i int) error {
		var err error
		got[i], err = s.AcquireLease(ctx, "timer-loop", fmt.Sprintf("node-%d", i), BaseTime, time.Minute)
		return err
	})
	holders := 0
	for i, err := range errs {
		require.NoError(t, err, "contender %d", i)
		if got[i] {
			holders++
		}
	}
	require.Equal(t, 1, holders, "exactly one contender holds the lease")
}

func testDefinitionRace(t *testing.T, s flows.Store) {
	ctx := t.Context()
	const loaders = 8
	def := NewDefinition("purchase", "id: purchase\nsteps: []\n")
	created := make([]bool, loaders)
	versions := make([]int, loaders)
	errs := race(loaders, func(i int) error {
		d, c, err := s.PutDefinition(ctx, def)
		created[i], versions[i] = c, d.Version
		return err
	})
	creators := 0
	for i, err := range errs {
		require.NoError(t, err, "loader %d", i)
		require.Equal(t, 1, versions[i], "loader %d", i)
		if created[i] {
			creators++
		}
	}
	require.Equal(t, 1, creators, "exactly one loader creates the version")
}
