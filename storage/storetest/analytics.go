package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func analyticsTests() []suiteTest {
	return []suiteTest{
		storeTest("instance counts: the period's instances by flow and status, with their returns", testInstanceCounts),
		storeTest("analytics tasks: decided in the period, or open before its end", testAnalyticsTasks),
		storeTest("analytics tasks: an error from each stops the read", testAnalyticsTasksStop),
	}
}

func analyticsReader(t *testing.T, s flows.Store) flows.AnalyticsReader {
	t.Helper()
	ar, ok := s.(flows.AnalyticsReader)
	require.True(t, ok, "%T must implement flows.AnalyticsReader", s)
	return ar
}

// seedAnalyticsInstance stores an instance of flow in status, created at
// created, with tasks.
func seedAnalyticsInstance(t *testing.T, s flows.Store, id, flow string, status flows.InstanceStatus,
	created time.Time, tasks ...flows.Task) {
	t.Helper()
	inst := NewInstance(id)
	inst.FlowID, inst.Status, inst.CreatedAt, inst.UpdatedAt = flow, status, created, created
	MustApply(t, s, StartChange(inst, tasks...))
}

// analyticsTask returns a task of instance at step, created at created,
// decided (by its assignee) at decided in status, or open when decided is
// zero; due is its due time, zero for none.
func analyticsTask(instance, step string, status flows.TaskStatus, created, due, decided time.Time) flows.Task {
	t := NewTask(instance, instance+"-"+step, "u-bob")
	t.StepID, t.Status, t.CreatedAt, t.DueAt, t.DecidedAt = step, status, created, due, decided
	if !decided.IsZero() {
		t.DecidedBy, t.Outcome = "u-bob", string(status)
	}
	return t
}

func testInstanceCounts(t *testing.T, s flows.Store) {
	ar := analyticsReader(t, s)
	from, to := At(0), At(24*time.Hour)
	returned := func(id, step string) flows.Task {
		return analyticsTask(id, step, flows.TaskReturned, from, time.Time{}, At(time.Hour))
	}
	seedAnalyticsInstance(t, s, "p-1", "purchase", flows.InstanceApproved, from)
	seedAnalyticsInstance(t, s, "p-2", "purchase", flows.InstanceApproved, At(23*time.Hour), returned("p-2", "a"))
	seedAnalyticsInstance(t, s, "p-3", "purchase", flows.InstanceRunning, At(time.Hour),
		returned("p-3", "a"), returned("p-3", "b"), analyticsTask("p-3", "c", flows.TaskOpen, from, time.Time{}, time.Time{}))
	seedAnalyticsInstance(t, s, "p-4", "purchase", flows.InstanceRejected, At(2*time.Hour))
	seedAnalyticsInstance(t, s, "p-early", "purchase", flows.InstanceApproved, At(-time.Millisecond), returned("p-early", "a"))
	seedAnalyticsInstance(t, s, "p-late", "purchase", flows.InstanceApproved, to)
	seedAnalyticsInstance(t, s, "l-1", "leave", flows.InstanceWithdrawn, At(time.Hour))

	tests := []struct {
		name string
		flow string
		want []flows.InstanceCount
	}{
		{name: "every flow", want: []flows.InstanceCount{
			{FlowID: "leave", Status: flows.InstanceWithdrawn, Count: 1},
			{FlowID: "purchase", Status: flows.InstanceApproved, Count: 2, Returns: 1},
			{FlowID: "purchase", Status: flows.InstanceRejected, Count: 1},
			{FlowID: "purchase", Status: flows.InstanceRunning, Count: 1, Returns: 2},
		}},
		{name: "one flow", flow: "leave", want: []flows.InstanceCount{
			{FlowID: "leave", Status: flows.InstanceWithdrawn, Count: 1},
		}},
		{name: "a flow without instances", flow: "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ar.InstanceCounts(t.Context(), flows.AnalyticsParams{From: from, To: to, FlowID: tc.flow})
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func testAnalyticsTasks(t *testing.T, s flows.Store) {
	ar := analyticsReader(t, s)
	from, to := At(0), At(24*time.Hour)
	h := func(n int) time.Time { return At(time.Duration(n) * time.Hour) }
	none := time.Time{}
	// Each task's step names it; the ones the read must return start with "in-".
	auto := analyticsTask("p-1", "out-auto-skip", flows.TaskApproved, h(2), none, h(2))
	auto.DecidedBy = flows.SystemActor
	late := analyticsTask("p-1", "in-system-later", flows.TaskApproved, h(2), h(3), h(5))
	late.DecidedBy = flows.SystemActor // an auto-action at the SLA's end is a decision
	resubmit := analyticsTask("p-1", "out-resubmit", flows.TaskDone, h(1), none, h(2))
	resubmit.Kind = flows.TaskKindResubmit
	seedAnalyticsInstance(t, s, "p-1", "purchase", flows.InstanceRunning, h(-48),
		analyticsTask("p-1", "in-approved", flows.TaskApproved, h(-30), h(-28), h(1)),
		analyticsTask("p-1", "in-rejected", flows.TaskRejected, h(1), none, h(2)),
		analyticsTask("p-1", "in-returned", flows.TaskReturned, h(1), none, h(3)),
		analyticsTask("p-1", "in-done", flows.TaskDone, h(1), none, from),
		analyticsTask("p-1", "in-open-old", flows.TaskOpen, h(-40), h(-38), none),
		analyticsTask("p-1", "in-open", flows.TaskOpen, h(23), none, none),
		analyticsTask("p-1", "out-open-after", flows.TaskOpen, to, none, none),
		analyticsTask("p-1", "out-decided-before", flows.TaskApproved, h(-3), none, h(-1)),
		analyticsTask("p-1", "out-decided-at-end", flows.TaskApproved, h(20), none, to),
		analyticsTask("p-1", "out-cancelled", flows.TaskCancelled, h(1), none, h(2)),
		analyticsTask("p-1", "out-waiting", flows.TaskWaiting, h(1), none, none),
		auto, late, resubmit)
	seedAnalyticsInstance(t, s, "l-1", "leave", flows.InstanceRunning, h(1),
		analyticsTask("l-1", "in-leave", flows.TaskApproved, h(1), none, h(4)))

	read := func(flow string) []flows.AnalyticsTask {
		var got []flows.AnalyticsTask
		err := ar.AnalyticsTasks(t.Context(), flows.AnalyticsParams{From: from, To: to, FlowID: flow}, func(a flows.AnalyticsTask) error {
			a.CreatedAt, a.DueAt, a.DecidedAt = utcOrZero(a.CreatedAt), utcOrZero(a.DueAt), utcOrZero(a.DecidedAt)
			got = append(got, a)
			return nil
		})
		require.NoError(t, err)
		slices.SortFunc(got, func(a, b flows.AnalyticsTask) int { return strings.Compare(a.StepID, b.StepID) })
		return got
	}
	steps := func(list []flows.AnalyticsTask) []string {
		var out []string
		for _, a := range list {
			out = append(out, a.StepID)
		}
		return out
	}
	all := read("")
	require.Equal(t, []string{"in-approved", "in-done", "in-leave", "in-open", "in-open-old", "in-rejected",
		"in-returned", "in-system-later"}, steps(all))
	require.Equal(t, flows.AnalyticsTask{FlowID: "purchase", StepID: "in-approved", Assignee: "u-bob",
		Status: flows.TaskApproved, CreatedAt: h(-30).UTC(), DueAt: h(-28).UTC(), DecidedAt: h(1).UTC()}, all[0])
	require.Equal(t, flows.AnalyticsTask{FlowID: "purchase", StepID: "in-open-old", Assignee: "u-bob",
		Status: flows.TaskOpen, CreatedAt: h(-40).UTC(), DueAt: h(-38).UTC()}, all[4])
	require.Equal(t, []string{"in-leave"}, steps(read("leave")))
}

func testAnalyticsTasksStop(t *testing.T, s flows.Store) {
	ar := analyticsReader(t, s)
	seedAnalyticsInstance(t, s, "p-1", "purchase", flows.InstanceRunning, At(0),
		analyticsTask("p-1", "a", flows.TaskOpen, At(0), time.Time{}, time.Time{}),
		analyticsTask("p-1", "b", flows.TaskOpen, At(0), time.Time{}, time.Time{}))
	stop := errors.New("stop")
	calls := 0
	err := ar.AnalyticsTasks(t.Context(), flows.AnalyticsParams{From: At(0), To: At(time.Hour)}, func(flows.AnalyticsTask) error {
		calls++
		return stop
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, calls)
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
