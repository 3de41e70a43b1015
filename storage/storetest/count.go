package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/server/console"
)

// The Count group checks console.Store's counts, which every flows.Store
// under test must implement as well: the dashboard's instances by state
// and its overdue tasks.
func countTests() []suiteTest {
	return []suiteTest{
		storeTest("instances by status", testCountInstances),
		storeTest("overdue tasks", testOverdueTasks),
	}
}

func testOverdueTasks(t *testing.T, s flows.Store) {
	reader, ok := s.(console.Store)
	require.True(t, ok, "%T must implement console.Store as well", s)
	ctx := t.Context()
	n, list, err := reader.OverdueTasks(ctx, At(4*time.Hour), 5)
	require.NoError(t, err)
	require.Zero(t, n, "an empty store has no overdue task")
	require.Empty(t, list)

	task := func(id string, due time.Duration, status flows.TaskStatus) flows.Task {
		tk := NewTask(id, id+"-t1", "u-bob")
		tk.DueAt, tk.Status = time.Time{}, status
		if due > 0 {
			tk.DueAt = At(due)
		}
		if status != flows.TaskOpen {
			tk.DecidedAt, tk.DecidedBy, tk.Outcome = At(time.Hour), "u-bob", "approve"
		}
		return tk
	}
	for _, tk := range []flows.Task{
		task("i-1", time.Hour, flows.TaskOpen),          // overdue 3h
		task("i-2", 3*time.Hour, flows.TaskOpen),        // overdue 1h
		task("i-3", 30*time.Minute, flows.TaskApproved), // decided: not open
		task("i-4", 0, flows.TaskOpen),                  // no due time
		task("i-5", 5*time.Hour, flows.TaskOpen),        // not due yet
		task("i-6", 4*time.Hour, flows.TaskOpen),        // due right now: not past it
	} {
		MustApply(t, s, StartChange(NewInstance(tk.InstanceID), tk))
	}
	tests := []struct {
		name  string
		limit int
		want  []string
	}{
		{name: "all", limit: 5, want: []string{"i-1-t1", "i-2-t1"}},
		{name: "the longest overdue", limit: 1, want: []string{"i-1-t1"}},
		{name: "count only", limit: 0, want: nil},
	}
	for _, tt := range tests {
		n, list, err := reader.OverdueTasks(ctx, At(4*time.Hour), tt.limit)
		require.NoError(t, err, tt.name)
		require.Equal(t, int64(2), n, tt.name)
		var ids []string
		for _, tk := range list {
			ids = append(ids, tk.ID)
		}
		require.Equal(t, tt.want, ids, tt.name)
	}
}

func testCountInstances(t *testing.T, s flows.Store) {
	counter, ok := s.(console.Store)
	require.True(t, ok, "%T must implement console.Store as well", s)
	ctx := t.Context()
	got, err := counter.CountInstances(ctx)
	require.NoError(t, err)
	require.Empty(t, got, "an empty store counts nothing")

	Seed(t, s, "i-1")
	Seed(t, s, "i-2")
	done := Seed(t, s, "i-3")
	next := done
	next.Status = flows.InstanceApproved
	next.UpdatedAt = At(1)
	MustApply(t, s, flows.Change{Instance: &next, ExpectVersion: done.Version})

	got, err = counter.CountInstances(ctx)
	require.NoError(t, err)
	require.Equal(t, map[flows.InstanceStatus]int64{flows.InstanceRunning: 2, flows.InstanceApproved: 1}, got)
}
