package flows_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"cardflow/flows"
	"cardflow/storage/sqlite"
)

// TestAnalyticsCountsAgreeWithAModel stores random instances and tasks
// (every status, decided or open, with and without an SLA, inside and
// outside the period) and checks Engine.Analytics' counts and medians
// against a brute-force reading of the same rows.
func TestAnalyticsCountsAgreeWithAModel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	from, to, now := t0, t0.Add(24*time.Hour), t0.Add(30*time.Hour)
	statuses := []flows.TaskStatus{flows.TaskOpen, flows.TaskApproved, flows.TaskRejected, flows.TaskReturned,
		flows.TaskDone, flows.TaskCancelled, flows.TaskWaiting}
	instStatuses := []flows.InstanceStatus{flows.InstanceRunning, flows.InstanceApproved, flows.InstanceRejected,
		flows.InstanceCompleted, flows.InstanceWithdrawn, flows.InstanceCancelled}
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		s, err := sqlite.Open(t.Context(), filepath.Join(dir, fmt.Sprintf("p%d.db", n)))
		require.NoError(rt, err)
		defer s.Close()
		hour := func(label string) time.Time {
			return t0.Add(time.Duration(rapid.IntRange(-6, 32).Draw(rt, label)) * time.Hour)
		}
		type key struct{ flow, step string }
		var all []flows.AnalyticsTask
		started := map[string]int64{}
		for i := range rapid.IntRange(1, 6).Draw(rt, "instances") {
			id := fmt.Sprintf("i%d", i)
			inst := flows.Instance{ID: id, FlowID: rapid.SampledFrom([]string{"f1", "f2"}).Draw(rt, "flow"),
				Status: rapid.SampledFrom(instStatuses).Draw(rt, "status"), Applicant: "u_wu", CreatedAt: hour("created")}
			inst.UpdatedAt = inst.CreatedAt
			if !inst.CreatedAt.Before(from) && inst.CreatedAt.Before(to) {
				started[inst.FlowID]++
			}
			c := flows.Change{Instance: &inst, Create: true}
			for j := range rapid.IntRange(0, 6).Draw(rt, "tasks") {
				task := flows.Task{ID: fmt.Sprintf("%s.t%d", id, j), InstanceID: id, Kind: "approval",
					StepID:    rapid.SampledFrom([]string{"a", "b"}).Draw(rt, "step"),
					Assignee:  rapid.SampledFrom([]string{"u1", "u2"}).Draw(rt, "assignee"),
					Status:    rapid.SampledFrom(statuses).Draw(rt, "task status"),
					CreatedAt: hour("task created")}
				if rapid.Bool().Draw(rt, "sla") {
					task.DueAt = task.CreatedAt.Add(2 * time.Hour)
				}
				if task.Status != flows.TaskOpen && task.Status != flows.TaskWaiting {
					task.DecidedAt, task.DecidedBy = task.CreatedAt.Add(time.Duration(rapid.IntRange(0, 5).Draw(rt, "took"))*time.Hour), task.Assignee
				}
				c.NewTasks = append(c.NewTasks, task)
				all = append(all, flows.AnalyticsTask{FlowID: inst.FlowID, StepID: task.StepID, Assignee: task.Assignee,
					Status: task.Status, CreatedAt: task.CreatedAt, DueAt: task.DueAt, DecidedAt: task.DecidedAt})
			}
			_, err := s.Apply(t.Context(), c)
			require.NoError(rt, err)
		}
		// The model: which tasks count, and their figures per step.
		want := map[key]*flows.DecisionFigures{}
		times := map[key][]time.Duration{}
		for _, a := range all {
			open := a.Status == flows.TaskOpen && a.CreatedAt.Before(to)
			decided := slices.Contains([]flows.TaskStatus{flows.TaskApproved, flows.TaskRejected, flows.TaskReturned, flows.TaskDone}, a.Status) &&
				!a.DecidedAt.Before(from) && a.DecidedAt.Before(to)
			if !open && !decided {
				continue
			}
			k := key{a.FlowID, a.StepID}
			f := want[k]
			if f == nil {
				f = &flows.DecisionFigures{}
				want[k] = f
			}
			if !a.DueAt.IsZero() {
				f.Due++
			}
			if open {
				f.Open++
				if !a.DueAt.IsZero() && now.After(a.DueAt) {
					f.Overdue++
					f.OpenOverdue++
				}
				continue
			}
			f.Decided++
			switch a.Status {
			case flows.TaskRejected:
				f.Rejected++
			case flows.TaskReturned:
				f.Returned++
			default:
				f.Approved++
			}
			if !a.DueAt.IsZero() && a.DecidedAt.After(a.DueAt) {
				f.Overdue++
			}
			times[k] = append(times[k], a.DecidedAt.Sub(a.CreatedAt))
		}
		got, err := flows.NewEngine(s, flows.WithClock(func() time.Time { return now })).
			Analytics(t.Context(), flows.AnalyticsQuery{From: from, To: to})
		require.NoError(rt, err)
		seen := 0
		for _, fa := range got.Flows {
			require.Equal(rt, started[fa.FlowID], fa.Instances.Started, "flow %s", fa.FlowID)
			for _, sa := range fa.Steps {
				k := key{fa.FlowID, sa.StepID}
				w := want[k]
				require.NotNil(rt, w, "step %v has no counted task", k)
				g := sa.Decisions
				require.Equal(rt, []int64{w.Decided, w.Approved, w.Rejected, w.Returned, w.Due, w.Overdue, w.Open, w.OpenOverdue},
					[]int64{g.Decided, g.Approved, g.Rejected, g.Returned, g.Due, g.Overdue, g.Open, g.OpenOverdue}, "step %v", k)
				ts := times[k]
				slices.Sort(ts)
				if len(ts) > 0 {
					// With an odd count the median is the middle one; with an
					// even count, the mean of the two middle ones.
					mid := (ts[(len(ts)-1)/2] + ts[len(ts)/2]) / 2
					require.Equal(rt, mid, g.Median, "step %v: %v", k, ts)
					require.LessOrEqual(rt, g.Median, g.P90)
					require.LessOrEqual(rt, g.P90, ts[len(ts)-1])
				}
				seen++
			}
		}
		require.Len(rt, want, seen, "every step with a counted task is reported")
		for flow, n := range started {
			require.True(rt, slices.ContainsFunc(got.Flows, func(f flows.FlowAnalytics) bool { return f.FlowID == flow && f.Instances.Started == n }))
		}
	})
}
