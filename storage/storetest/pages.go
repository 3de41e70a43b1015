package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// pageTests cover the list filters the API pages with: a creation time
// range, and a cursor after which a list goes on.
func pageTests() []suiteTest {
	return []suiteTest{
		storeTest("instances in a creation time range", testInstancesTimeRange),
		storeTest("instances after a cursor", testInstancesAfterCursor),
		storeTest("instances of a set of flows", testInstancesOfFlows),
		storeTest("instances by title", testInstancesByTitle),
		storeTest("tasks by flow, time range and cursor", testTasksPages),
		storeTest("tasks by kind and delegation", testTasksByKind),
	}
}

func testInstancesTimeRange(t *testing.T, s flows.Store) {
	for i := range 5 {
		inst := NewInstance(fmt.Sprintf("i-%d", i))
		inst.CreatedAt = At(time.Duration(i) * time.Hour)
		if i%2 == 1 {
			inst.FlowID = "leave"
		}
		MustApply(t, s, flows.Change{Instance: &inst, Create: true})
	}
	checkInstanceFilters(t, s, []instanceFilterCase{
		{name: "from is inclusive", filter: flows.InstanceFilter{From: At(3 * time.Hour)}, want: []string{"i-4", "i-3"}},
		{name: "to is exclusive", filter: flows.InstanceFilter{To: At(2 * time.Hour)}, want: []string{"i-1", "i-0"}},
		{name: "both", filter: flows.InstanceFilter{From: At(time.Hour), To: At(4 * time.Hour)}, want: []string{"i-3", "i-2", "i-1"}},
		{
			name:   "a sub-microsecond bound",
			filter: flows.InstanceFilter{From: At(time.Hour - time.Nanosecond), To: At(time.Hour + time.Nanosecond)},
			want:   []string{"i-1"},
		},
		{name: "with a flow", filter: flows.InstanceFilter{FlowID: "leave", From: At(time.Hour)}, want: []string{"i-3", "i-1"}},
		{name: "empty range", filter: flows.InstanceFilter{From: At(2 * time.Hour), To: At(2 * time.Hour)}, want: []string{}},
	})
}

func testInstancesOfFlows(t *testing.T, s flows.Store) {
	flowOf := map[string]string{"i-0": "leave", "i-1": "oversell_alert", "i-2": "kpi_alert", "i-3": "oversell_alert", "i-4": "expense"}
	for i := range 5 {
		id := fmt.Sprintf("i-%d", i)
		inst := NewInstance(id)
		inst.FlowID = flowOf[id]
		inst.CreatedAt = At(time.Duration(i) * time.Minute)
		MustApply(t, s, flows.Change{Instance: &inst, Create: true})
	}
	alerts := []string{"oversell_alert", "kpi_alert"}
	checkInstanceFilters(t, s, []instanceFilterCase{
		{name: "two flows", filter: flows.InstanceFilter{FlowIDs: alerts}, want: []string{"i-3", "i-2", "i-1"}},
		{name: "one flow", filter: flows.InstanceFilter{FlowIDs: []string{"kpi_alert"}}, want: []string{"i-2"}},
		{name: "a flow with no instances", filter: flows.InstanceFilter{FlowIDs: []string{"nothing"}}, want: []string{}},
		{name: "with FlowID inside the set", filter: flows.InstanceFilter{FlowIDs: alerts, FlowID: "oversell_alert"}, want: []string{"i-3", "i-1"}},
		{name: "with FlowID outside the set", filter: flows.InstanceFilter{FlowIDs: alerts, FlowID: "leave"}, want: []string{}},
		{name: "an empty set does not filter", filter: flows.InstanceFilter{FlowIDs: []string{}}, want: []string{"i-4", "i-3", "i-2", "i-1", "i-0"}},
		{
			name:   "with a cursor and a limit",
			filter: flows.InstanceFilter{FlowIDs: alerts, After: flows.Cursor{CreatedAt: At(3 * time.Minute), ID: "i-3"}, Limit: 1},
			want:   []string{"i-2"},
		},
	})
}

func testInstancesByTitle(t *testing.T, s flows.Store) {
	titles := []string{"订单履约 · TM-1001 · ¥6,800.00", "订单履约 · tm-1002", "陈客服提交的请假", "满100减20_促销", "Été 活动"}
	for i, title := range titles {
		inst := NewInstance(fmt.Sprintf("i-%d", i))
		inst.Title = title
		inst.CreatedAt = At(time.Duration(i) * time.Minute)
		MustApply(t, s, flows.Change{Instance: &inst, Create: true})
	}
	checkInstanceFilters(t, s, []instanceFilterCase{
		{name: "ASCII letters in either case", filter: flows.InstanceFilter{TitleContains: "Tm-100"}, want: []string{"i-1", "i-0"}},
		{name: "a whole order number", filter: flows.InstanceFilter{TitleContains: "TM-1001"}, want: []string{"i-0"}},
		{name: "Chinese", filter: flows.InstanceFilter{TitleContains: "履约"}, want: []string{"i-1", "i-0"}},
		{name: "money as shown", filter: flows.InstanceFilter{TitleContains: "¥6,800.00"}, want: []string{"i-0"}},
		{name: "no wildcards", filter: flows.InstanceFilter{TitleContains: "_"}, want: []string{"i-3"}},
		{name: "no wildcards either", filter: flows.InstanceFilter{TitleContains: "%"}, want: []string{}},
		{name: "other letters as they are", filter: flows.InstanceFilter{TitleContains: "été"}, want: []string{}},
		{name: "other letters exactly", filter: flows.InstanceFilter{TitleContains: "ÉT"}, want: []string{"i-4"}},
		{name: "with a cursor and a limit", filter: flows.InstanceFilter{TitleContains: "订单", Limit: 1,
			After: flows.Cursor{CreatedAt: At(time.Minute), ID: "i-1"}}, want: []string{"i-0"}},
		{name: "with another filter", filter: flows.InstanceFilter{TitleContains: "订单", FlowID: "nothing"}, want: []string{}},
	})
}

func testInstancesAfterCursor(t *testing.T, s flows.Store) {
	// Three share a CreatedAt, so the id orders them.
	created := map[string]time.Duration{"i-a": 0, "i-b": time.Minute, "i-c": time.Minute, "i-d": time.Minute, "i-e": 2 * time.Minute}
	for id, d := range created {
		inst := NewInstance(id)
		inst.CreatedAt = At(d)
		MustApply(t, s, flows.Change{Instance: &inst, Create: true})
	}
	cursor := func(id string) flows.Cursor { return flows.Cursor{CreatedAt: At(created[id]), ID: id} }
	checkInstanceFilters(t, s, []instanceFilterCase{
		{name: "first page", filter: flows.InstanceFilter{Limit: 2}, want: []string{"i-e", "i-d"}},
		{name: "after a tie's first", filter: flows.InstanceFilter{After: cursor("i-d"), Limit: 2}, want: []string{"i-c", "i-b"}},
		{name: "after a tie's last", filter: flows.InstanceFilter{After: cursor("i-b")}, want: []string{"i-a"}},
		{name: "after the oldest", filter: flows.InstanceFilter{After: cursor("i-a")}, want: []string{}},
		{
			name:   "a cursor of a row that is gone",
			filter: flows.InstanceFilter{After: flows.Cursor{CreatedAt: At(time.Minute), ID: "i-bz"}},
			want:   []string{"i-b", "i-a"},
		},
		{
			name:   "with a range",
			filter: flows.InstanceFilter{After: cursor("i-e"), From: At(time.Minute)},
			want:   []string{"i-d", "i-c", "i-b"},
		},
	})
}

func testTasksByKind(t *testing.T, s flows.Store) {
	MustApply(t, s, StartChange(NewInstance("i-1")))
	var tasks []flows.Task
	for i, k := range []struct{ kind, owner string }{{"approval", ""}, {"alert", ""}, {"alert", "u-own"}, {"approval", "u-own"}} {
		x := NewTask("i-1", fmt.Sprintf("t-%d", i), "u-bob")
		x.Kind, x.OwnerID = k.kind, k.owner
		x.CreatedAt = At(time.Duration(i) * time.Minute)
		tasks = append(tasks, x)
	}
	MustApply(t, s, flows.Change{NewTasks: tasks})
	checkTaskFilters(t, s, []taskFilterCase{
		{name: "alerts", filter: flows.TaskFilter{Kind: "alert"}, want: []string{"t-1", "t-2"}},
		{name: "delegated", filter: flows.TaskFilter{Delegated: true}, want: []string{"t-2", "t-3"}},
		{name: "delegated alerts", filter: flows.TaskFilter{Kind: "alert", Delegated: true}, want: []string{"t-2"}},
		{name: "a kind with none", filter: flows.TaskFilter{Kind: "task"}, want: []string{}},
		{name: "with a limit", filter: flows.TaskFilter{Kind: "approval", Limit: 1}, want: []string{"t-0"}},
	})
}

func testTasksPages(t *testing.T, s flows.Store) {
	leave := NewInstance("i-leave")
	leave.FlowID = "leave"
	MustApply(t, s, StartChange(leave))
	MustApply(t, s, StartChange(NewInstance("i-buy")))
	created := map[string]time.Duration{"t-a": 0, "t-b": time.Minute, "t-c": time.Minute, "t-d": time.Minute, "t-e": time.Hour}
	var tasks []flows.Task
	for id, d := range created {
		inst := "i-buy"
		if id == "t-b" || id == "t-e" {
			inst = "i-leave"
		}
		x := NewTask(inst, id, "u-bob")
		x.CreatedAt = At(d)
		tasks = append(tasks, x)
	}
	MustApply(t, s, flows.Change{NewTasks: tasks})
	cursor := func(id string) flows.Cursor { return flows.Cursor{CreatedAt: At(created[id]), ID: id} }
	checkTaskFilters(t, s, []taskFilterCase{
		{name: "all", filter: flows.TaskFilter{Assignee: "u-bob"}, want: []string{"t-a", "t-b", "t-c", "t-d", "t-e"}},
		{name: "flow", filter: flows.TaskFilter{FlowID: "leave"}, want: []string{"t-b", "t-e"}},
		{name: "unknown flow", filter: flows.TaskFilter{FlowID: "none"}, want: []string{}},
		{name: "from", filter: flows.TaskFilter{From: At(time.Minute)}, want: []string{"t-b", "t-c", "t-d", "t-e"}},
		{name: "to", filter: flows.TaskFilter{To: At(time.Minute)}, want: []string{"t-a"}},
		{name: "sub-microsecond to", filter: flows.TaskFilter{To: At(time.Minute + time.Nanosecond)}, want: []string{"t-a", "t-b", "t-c", "t-d"}},
		{name: "after a tie's first", filter: flows.TaskFilter{After: cursor("t-b"), Limit: 2}, want: []string{"t-c", "t-d"}},
		{name: "after a tie's last", filter: flows.TaskFilter{After: cursor("t-d")}, want: []string{"t-e"}},
		{name: "after the newest", filter: flows.TaskFilter{After: cursor("t-e")}, want: []string{}},
		{name: "flow after a cursor", filter: flows.TaskFilter{FlowID: "leave", After: cursor("t-b")}, want: []string{"t-e"}},
	})
}

// filterCase is a list's filter and the rows it lists, by id, in order.
type filterCase[F any] struct {
	name   string
	filter F
	want   []string
}

type (
	instanceFilterCase = filterCase[flows.InstanceFilter]
	taskFilterCase     = filterCase[flows.TaskFilter]
)

// checkInstanceFilters lists the instances of each case's filter.
func checkInstanceFilters(t *testing.T, s flows.Store, tests []instanceFilterCase) {
	t.Helper()
	checkFilters(t, s.Instances, instanceID, tests)
}

// checkTaskFilters lists the tasks of each case's filter.
func checkTaskFilters(t *testing.T, s flows.Store, tests []taskFilterCase) {
	t.Helper()
	checkFilters(t, s.Tasks, func(x flows.Task) string { return x.ID }, tests)
}

// checkFilters runs each case as a parallel subtest of t: list with its
// filter must answer its rows, in order.
func checkFilters[F, R any](t *testing.T, list func(context.Context, F) ([]R, error), id func(R) string, tests []filterCase[F]) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := list(t.Context(), tc.filter)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(got, id))
		})
	}
}
