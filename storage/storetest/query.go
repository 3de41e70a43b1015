package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func queryTests() []suiteTest {
	return []suiteTest{
		storeTest("instances filtered newest first", testInstancesFilter),
		storeTest("instances default limit", testInstancesDefaultLimit),
		storeTest("tasks filtered oldest first", testTasksFilter),
		storeTest("tasks default limit", testTasksDefaultLimit),
		storeTest("not found", testNotFound),
		storeTest("one-read view agrees with the single reads", testInstanceView),
	}
}

// testInstanceView checks a store's flows.ViewReader, when it has one (the
// PostgreSQL store does), against its Instance, Tasks and Audit.
func testInstanceView(t *testing.T, s flows.Store) {
	vr, ok := s.(flows.ViewReader)
	if !ok {
		return // an optional capability: the engine reads one by one
	}
	ctx := t.Context()
	_, _, _, err := vr.InstanceView(ctx, "i-none", 10)
	require.ErrorIs(t, err, flows.ErrNotFound)
	MustApply(t, s, StartChange(NewInstance("i-1")))
	MustApply(t, s, StartChange(NewInstance("i-2")))
	a, b, other := NewTask("i-1", "t-a", "u-bob"), NewTask("i-1", "t-b", "u-carol"), NewTask("i-2", "t-c", "u-bob")
	b.CreatedAt = a.CreatedAt.Add(time.Minute)
	MustApply(t, s, flows.Change{NewTasks: []flows.Task{b, other, a},
		Audit: []flows.AuditEntry{NewAudit("i-1", "approve", "u-bob"), NewAudit("i-2", "approve", "u-bob")}})
	inst, tasks, audit, err := vr.InstanceView(ctx, "i-1", 10)
	require.NoError(t, err)
	one, err := s.Instance(ctx, "i-1")
	require.NoError(t, err)
	RequireInstance(t, one, inst)
	wantTasks, err := s.Tasks(ctx, flows.TaskFilter{InstanceID: "i-1", Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []string{"t-a", "t-b"}, ids(tasks, func(x flows.Task) string { return x.ID }))
	require.Equal(t, len(wantTasks), len(tasks))
	wantAudit, err := s.Audit(ctx, "i-1")
	require.NoError(t, err)
	RequireAudit(t, wantAudit, audit)
	_, tasks, _, err = vr.InstanceView(ctx, "i-1", 1)
	require.NoError(t, err)
	require.Len(t, tasks, 1, "at most taskLimit tasks")
}

func testInstancesFilter(t *testing.T, s flows.Store) {
	ctx := t.Context()
	rows := []struct {
		id, flow, applicant string
		status              flows.InstanceStatus
	}{
		// Stored out of CreatedAt order so the result order is the store's doing.
		{"i-3", "leave", "u-alice", flows.InstanceRunning},
		{"i-1", "purchase", "u-alice", flows.InstanceRunning},
		{"i-5", "purchase", "u-alice", flows.InstanceRunning},
		{"i-2", "purchase", "u-bob", flows.InstanceApproved},
		{"i-4", "leave", "u-bob", flows.InstanceRejected},
	}
	stored := map[string]flows.Instance{}
	for _, r := range rows {
		inst := NewInstance(r.id)
		inst.FlowID, inst.Applicant, inst.Status = r.flow, r.applicant, r.status
		var n int
		_, err := fmt.Sscanf(r.id, "i-%d", &n)
		require.NoError(t, err)
		inst.CreatedAt = At(time.Duration(n) * time.Minute)
		MustApply(t, s, flows.Change{Instance: &inst, Create: true})
		inst.Version = 1
		stored[r.id] = inst
	}

	tests := []struct {
		name   string
		filter flows.InstanceFilter
		want   []string
	}{
		{name: "all", want: []string{"i-5", "i-4", "i-3", "i-2", "i-1"}},
		{name: "flow", filter: flows.InstanceFilter{FlowID: "purchase"}, want: []string{"i-5", "i-2", "i-1"}},
		{name: "applicant", filter: flows.InstanceFilter{Applicant: "u-alice"}, want: []string{"i-5", "i-3", "i-1"}},
		{name: "status", filter: flows.InstanceFilter{Status: flows.InstanceRejected}, want: []string{"i-4"}},
		{
			name:   "all filters",
			filter: flows.InstanceFilter{FlowID: "purchase", Applicant: "u-alice", Status: flows.InstanceRunning},
			want:   []string{"i-5", "i-1"},
		},
		{name: "limit", filter: flows.InstanceFilter{Limit: 2}, want: []string{"i-5", "i-4"}},
		{name: "filter and limit", filter: flows.InstanceFilter{FlowID: "leave", Limit: 1}, want: []string{"i-4"}},
		{name: "no match", filter: flows.InstanceFilter{FlowID: "unknown"}, want: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.Instances(ctx, tc.filter)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(got, instanceID))
			for _, inst := range got {
				RequireInstance(t, stored[inst.ID], inst)
			}
		})
	}
}

func testInstancesDefaultLimit(t *testing.T, s flows.Store) {
	ctx := t.Context()
	for i := range 101 {
		inst := NewInstance(fmt.Sprintf("i-%03d", i))
		inst.CreatedAt = At(time.Duration(i) * time.Second)
		MustApply(t, s, flows.Change{Instance: &inst, Create: true})
	}
	got, err := s.Instances(ctx, flows.InstanceFilter{})
	require.NoError(t, err)
	require.Len(t, got, 100, "Limit 0 means 100")
	require.Equal(t, "i-100", got[0].ID)
	require.Equal(t, "i-001", got[99].ID, "the oldest one is left out")
}

func testTasksFilter(t *testing.T, s flows.Store) {
	ctx := t.Context()
	MustApply(t, s, StartChange(NewInstance("i-1")))
	MustApply(t, s, StartChange(NewInstance("i-2")))
	task := func(inst, id, assignee string, status flows.TaskStatus, created time.Duration) flows.Task {
		x := NewTask(inst, id, assignee)
		x.Status, x.CreatedAt = status, At(created)
		return x
	}
	c := task("i-2", "t-c", "u-bob", flows.TaskApproved, 0)
	zero := task("i-1", "t-0", "u-bob", flows.TaskWaiting, time.Minute)
	a := task("i-1", "t-a", "u-bob", flows.TaskOpen, time.Minute)
	b := task("i-1", "t-b", "u-carol", flows.TaskOpen, time.Minute)
	d := task("i-2", "t-d", "u-bob", flows.TaskOpen, 2*time.Minute)
	// Stored out of order; three share a CreatedAt so the id breaks the tie.
	MustApply(t, s, flows.Change{NewTasks: []flows.Task{d, b, a, zero, c}})

	tests := []struct {
		name   string
		filter flows.TaskFilter
		want   []flows.Task
	}{
		{name: "all", want: []flows.Task{c, zero, a, b, d}},
		{name: "assignee", filter: flows.TaskFilter{Assignee: "u-bob"}, want: []flows.Task{c, zero, a, d}},
		{name: "to-do list", filter: flows.TaskFilter{Assignee: "u-bob", Status: flows.TaskOpen}, want: []flows.Task{a, d}},
		{name: "instance", filter: flows.TaskFilter{InstanceID: "i-1"}, want: []flows.Task{zero, a, b}},
		{name: "status", filter: flows.TaskFilter{Status: flows.TaskOpen}, want: []flows.Task{a, b, d}},
		{
			name:   "instance and status",
			filter: flows.TaskFilter{InstanceID: "i-2", Status: flows.TaskApproved},
			want:   []flows.Task{c},
		},
		{name: "limit", filter: flows.TaskFilter{Limit: 2}, want: []flows.Task{c, zero}},
		{name: "no match", filter: flows.TaskFilter{Assignee: "u-nobody"}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.Tasks(ctx, tc.filter)
			require.NoError(t, err)
			RequireTasks(t, tc.want, got)
		})
	}
}

func testTasksDefaultLimit(t *testing.T, s flows.Store) {
	ctx := t.Context()
	MustApply(t, s, StartChange(NewInstance("i-1")))
	var tasks []flows.Task
	for i := range 101 {
		x := NewTask("i-1", fmt.Sprintf("t-%03d", i), "u-bob")
		x.CreatedAt = At(time.Duration(i) * time.Second)
		tasks = append(tasks, x)
	}
	MustApply(t, s, flows.Change{NewTasks: tasks})
	got, err := s.Tasks(ctx, flows.TaskFilter{Assignee: "u-bob"})
	require.NoError(t, err)
	require.Len(t, got, 100, "Limit 0 means 100")
	require.Equal(t, "t-000", got[0].ID)
	require.Equal(t, "t-099", got[99].ID, "the newest one is left out")
}

func testNotFound(t *testing.T, s flows.Store) {
	ctx := t.Context()
	Seed(t, s, "i-1")
	tests := []struct {
		name string
		call func() error
	}{
		{name: "instance", call: func() error { _, err := s.Instance(ctx, "missing"); return err }},
		{name: "task", call: func() error { _, err := s.Task(ctx, "missing"); return err }},
		{name: "idempotency key", call: func() error { _, err := s.Idempotent(ctx, "missing"); return err }},
		{name: "definition", call: func() error { _, err := s.Definition(ctx, "missing", 1); return err }},
		{name: "latest definition", call: func() error { _, err := s.LatestDefinition(ctx, "missing"); return err }},
		{name: "user", call: func() error { _, err := s.User(ctx, "missing"); return err }},
		{name: "platform user", call: func() error { _, err := s.UserByPlatformID(ctx, "feishu", "missing"); return err }},
		{name: "department", call: func() error { _, err := s.Department(ctx, "missing"); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, tc.call(), flows.ErrNotFound)
		})
	}
}
