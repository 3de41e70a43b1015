package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func applyTests() []suiteTest {
	return []suiteTest{
		storeTest("create instance gets version 1", testCreateInstance),
		storeTest("update with expected version", testUpdateInstance),
		storeTest("stale version", testStaleVersion),
		storeTest("update unknown instance", testUpdateUnknownInstance),
		storeTest("create existing instance", testCreateExistingInstance),
		storeTest("change without instance", testChangeWithoutInstance),
		storeTest("fields round trip", testRoundTrip),
		storeTest("audit seq grows per instance", testAuditSeq),
		storeTest("outbox seqs grow in commit order", testOutboxSeqs),
		storeTest("a large change keeps its rows in order", testLargeChange),
	}
}

func testCreateInstance(t *testing.T, s flows.Store) {
	ctx := t.Context()
	inst := NewInstance("i-1")
	inst.Version = 7 // ignored: Create always stores version 1
	task := NewTask("i-1", "i-1-t1", "u-bob")
	c := StartChange(inst, task)

	a, err := s.Apply(ctx, c)
	require.NoError(t, err)
	require.Equal(t, int64(1), a.InstanceVersion)
	require.Len(t, a.OutboxSeqs, 1)

	got, err := s.Instance(ctx, "i-1")
	require.NoError(t, err)
	inst.Version = 1
	RequireInstance(t, inst, got)
	gotTask, err := s.Task(ctx, task.ID)
	require.NoError(t, err)
	RequireTask(t, task, gotTask)
}

func testUpdateInstance(t *testing.T, s flows.Store) {
	ctx := t.Context()
	inst := Seed(t, s, "i-1")
	// Each step overwrites different fields: every one must be written.
	steps := []struct {
		name   string
		modify func(in *flows.Instance)
	}{
		{name: "state only", modify: func(in *flows.Instance) { in.State = json.RawMessage(`{"round": 2}`) }},
		{name: "status and title", modify: func(in *flows.Instance) { in.Status, in.Title = flows.InstanceApproved, "改过的标题" }},
		{name: "empty form", modify: func(in *flows.Instance) { in.Form = nil }},
		{name: "flow", modify: func(in *flows.Instance) { in.FlowID, in.FlowVersion = "purchase_v2", 3 }},
		{name: "applicant", modify: func(in *flows.Instance) { in.Applicant = "u-carol" }},
		{name: "created at", modify: func(in *flows.Instance) { in.CreatedAt = At(-time.Hour) }},
		{name: "zero created at", modify: func(in *flows.Instance) { in.CreatedAt = time.Time{} }},
	}
	for i, step := range steps {
		want := int64(i + 2)
		next := inst
		step.modify(&next)
		next.Version = 99 // ignored: the store sets ExpectVersion+1
		next.UpdatedAt = At(time.Duration(want) * time.Hour)

		a, err := s.Apply(ctx, flows.Change{Instance: &next, ExpectVersion: want - 1})
		require.NoError(t, err, step.name)
		require.Equal(t, want, a.InstanceVersion, step.name)
		got, err := s.Instance(ctx, "i-1")
		require.NoError(t, err, step.name)
		next.Version = want
		RequireInstance(t, next, got)
		inst = next
	}
}

func testStaleVersion(t *testing.T, s flows.Store) {
	ctx := t.Context()
	inst := Seed(t, s, "i-1")
	next := inst
	next.Title = "v2"
	MustApply(t, s, flows.Change{Instance: &next, ExpectVersion: 1})
	next.Version = 2

	tests := []struct {
		name   string
		expect int64
	}{
		{name: "previous version", expect: 1},
		{name: "future version", expect: 3},
		{name: "zero", expect: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stale := next
			stale.Title = "must not be written"
			_, err := s.Apply(ctx, flows.Change{Instance: &stale, ExpectVersion: tc.expect})
			require.ErrorIs(t, err, flows.ErrStaleVersion)
			got, err := s.Instance(ctx, "i-1")
			require.NoError(t, err)
			RequireInstance(t, next, got)
		})
	}
}

func testUpdateUnknownInstance(t *testing.T, s flows.Store) {
	ctx := t.Context()
	inst := NewInstance("missing")
	_, err := s.Apply(ctx, flows.Change{Instance: &inst, ExpectVersion: 1})
	require.ErrorIs(t, err, flows.ErrNotFound)
	_, err = s.Instance(ctx, "missing")
	require.ErrorIs(t, err, flows.ErrNotFound)
}

func testCreateExistingInstance(t *testing.T, s flows.Store) {
	ctx := t.Context()
	inst := Seed(t, s, "i-1")
	again := NewInstance("i-1")
	again.Title = "second start"
	_, err := s.Apply(ctx, flows.Change{Instance: &again, Create: true})
	require.ErrorIs(t, err, flows.ErrStaleVersion, "creating an existing instance must fail as stale (expected version 0)")
	got, err := s.Instance(ctx, "i-1")
	require.NoError(t, err)
	RequireInstance(t, inst, got)
}

func testChangeWithoutInstance(t *testing.T, s flows.Store) {
	ctx := t.Context()
	inst := Seed(t, s, "i-1")
	second := NewTask("i-1", "i-1-t2", "u-carol")
	a, err := s.Apply(ctx, flows.Change{
		NewTasks:    []flows.Task{second},
		TaskUpdates: []flows.TaskUpdate{{ID: "i-1-t1", From: flows.TaskOpen, Status: flows.TaskWaiting}},
		Audit:       []flows.AuditEntry{NewAudit("i-1", "add_signer", "u-bob")},
		Outbox:      []flows.OutboxMessage{NewOutbox("i-1", "i-1/add")},
	})
	require.NoError(t, err)
	require.Zero(t, a.InstanceVersion, "a change without instance reports version 0")
	require.Len(t, a.OutboxSeqs, 1)

	got, err := s.Instance(ctx, "i-1")
	require.NoError(t, err)
	RequireInstance(t, inst, got)
	first := NewTask("i-1", "i-1-t1", "u-bob")
	first.Status = flows.TaskWaiting
	tasks, err := s.Tasks(ctx, flows.TaskFilter{InstanceID: "i-1"})
	require.NoError(t, err)
	RequireTasks(t, []flows.Task{first, second}, tasks)
}

// testRoundTrip writes every field with awkward values (nanoseconds, a
// non-UTC zone, unicode, nested JSON) and the minimal values (zero times,
// empty JSON) and reads them back through every reader.
func testRoundTrip(t *testing.T, s flows.Store) {
	ctx := t.Context()
	pst := time.FixedZone("PST", -8*60*60)
	precise := time.Date(2025, 1, 2, 3, 4, 5, 123_456_789, pst)

	full := NewInstance("i-full")
	full.Title = `它's "quoted" \ 标题`
	full.Form = json.RawMessage(`{"text":"审批通过 ✅","n":12345678901,"nested":{"a":[1,2,{"b":null}]},"esc":"\u003c/script\u003e"}`)
	full.CreatedAt, full.UpdatedAt = precise, precise.Add(time.Second)
	minimal := flows.Instance{ID: "i-min", FlowID: "f", FlowVersion: 1, Status: flows.InstanceRunning, CreatedAt: precise}

	decided := NewTask("i-full", "task-full", "u-bob")
	decided.OwnerID, decided.Status, decided.Outcome = "u-carol", flows.TaskApproved, "approve"
	decided.Comment, decided.DecidedBy, decided.Seq = "多行\n评论", "u-boss", 3
	decided.Result = json.RawMessage(`{"tracking_no": "SF123", "qty": [1, 2]}`)
	decided.DueAt, decided.CreatedAt, decided.DecidedAt = precise.Add(2*time.Hour), precise, precise.Add(time.Minute)
	bare := flows.Task{ID: "task-bare", InstanceID: "i-min", Status: flows.TaskOpen, CreatedAt: precise}

	audit := flows.AuditEntry{InstanceID: "i-full", TaskID: "task-full", Actor: "u-boss", OnBehalfOf: "u-carol",
		Action: "approve", Detail: json.RawMessage(`{"reason": "代理审批"}`), At: precise}
	bareAudit := flows.AuditEntry{InstanceID: "i-min", Actor: "system", Action: "start", At: precise}
	msg := flows.OutboxMessage{Key: "k-full", InstanceID: "i-full", Topic: "notify", Payload: full.Form, CreatedAt: precise}
	timer := flows.Timer{ID: "tm-full", InstanceID: "i-full", TaskID: "task-full", Kind: "escalate", DueAt: precise,
		Payload: json.RawMessage(`{"to": {"role": "finance_lead"}}`)}
	bareTimer := flows.Timer{ID: "tm-bare", InstanceID: "i-min", Kind: "remind", DueAt: precise.Add(time.Millisecond)}

	a := MustApply(t, s, flows.Change{Instance: &full, Create: true, NewTasks: []flows.Task{decided},
		Audit: []flows.AuditEntry{audit}, Outbox: []flows.OutboxMessage{msg}, NewTimers: []flows.Timer{timer}})
	MustApply(t, s, flows.Change{Instance: &minimal, Create: true, NewTasks: []flows.Task{bare},
		Audit: []flows.AuditEntry{bareAudit}, NewTimers: []flows.Timer{bareTimer}})

	full.Version, minimal.Version = 1, 1
	for _, want := range []flows.Instance{full, minimal} {
		got, err := s.Instance(ctx, want.ID)
		require.NoError(t, err)
		RequireInstance(t, want, got)
	}
	for _, want := range []flows.Task{decided, bare} {
		got, err := s.Task(ctx, want.ID)
		require.NoError(t, err)
		RequireTask(t, want, got)
	}
	for _, want := range []flows.AuditEntry{audit, bareAudit} {
		got, err := s.Audit(ctx, want.InstanceID)
		require.NoError(t, err)
		RequireAudit(t, []flows.AuditEntry{want}, got)
	}
	pending, err := s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	msg.Seq = a.OutboxSeqs[0]
	RequireOutbox(t, []flows.OutboxMessage{msg}, pending)
	claimed, err := s.ClaimTimers(ctx, precise.Add(time.Hour), "h", time.Minute, 10)
	require.NoError(t, err)
	RequireTimers(t, []flows.Timer{timer, bareTimer}, claimed)
}

func testAuditSeq(t *testing.T, s flows.Store) {
	ctx := t.Context()
	Seed(t, s, "i-1")
	Seed(t, s, "i-2")
	entry := func(inst, action string) flows.AuditEntry { return NewAudit(inst, action, "u-bob") }
	a1 := MustApply(t, s, flows.Change{Audit: []flows.AuditEntry{entry("i-1", "comment"), entry("i-1", "urge")}})
	a2 := MustApply(t, s, flows.Change{Audit: []flows.AuditEntry{entry("i-2", "comment")}})
	a3 := MustApply(t, s, flows.Change{Audit: []flows.AuditEntry{entry("i-1", "transfer")}})

	got, err := s.Audit(ctx, "i-1")
	require.NoError(t, err)
	RequireAudit(t, []flows.AuditEntry{NewAudit("i-1", "start", "u-alice"),
		entry("i-1", "comment"), entry("i-1", "urge"), entry("i-1", "transfer")}, got)
	// Apply reports the Seqs it gave, as the trail reads them.
	require.Equal(t, []int64{got[1].Seq, got[2].Seq}, a1.AuditSeqs)
	require.Equal(t, []int64{got[3].Seq}, a3.AuditSeqs)
	got, err = s.Audit(ctx, "i-2")
	require.NoError(t, err)
	RequireAudit(t, []flows.AuditEntry{NewAudit("i-2", "start", "u-alice"), entry("i-2", "comment")}, got)
	require.Equal(t, []int64{got[1].Seq}, a2.AuditSeqs)
}

func testOutboxSeqs(t *testing.T, s flows.Store) {
	ctx := t.Context()
	Seed(t, s, "i-1")
	seeded, err := s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	require.Len(t, seeded, 1)

	msgs := []flows.OutboxMessage{NewOutbox("i-1", "a"), NewOutbox("i-1", "b"), NewOutbox("i-1", "c")}
	a := MustApply(t, s, flows.Change{Outbox: msgs})
	require.Len(t, a.OutboxSeqs, 3)
	prev := seeded[0].Seq
	for i, seq := range a.OutboxSeqs {
		require.Greater(t, seq, prev, "OutboxSeqs[%d] must be above every earlier seq", i)
		prev = seq
		msgs[i].Seq = seq
	}
	pending, err := s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	RequireOutbox(t, append(seeded, msgs...), pending)
}

// testLargeChange applies a change with more new tasks, audit rows and
// outbox messages than a store may write in one statement (a 会签 of twenty
// signers), and reads every row back where the change put it; then one
// that cancels and sets more timers than that.
func testLargeChange(t *testing.T, s flows.Store) {
	ctx := t.Context()
	inst := NewInstance("i-big")
	var c flows.Change
	for i := range 20 {
		task := NewTask(inst.ID, fmt.Sprintf("i-big-t%02d", i), fmt.Sprintf("u-%02d", i))
		task.Seq = i + 1
		c.NewTasks = append(c.NewTasks, task)
	}
	for i := range 19 {
		c.Audit = append(c.Audit, NewAudit(inst.ID, fmt.Sprintf("assign-%02d", i), "u-alice"))
	}
	for i := range 17 {
		c.Outbox = append(c.Outbox, NewOutbox(inst.ID, fmt.Sprintf("i-big/v1/%02d", i)))
	}
	c.Instance, c.Create = &inst, true
	a := MustApply(t, s, c)

	tasks, err := s.Tasks(ctx, flows.TaskFilter{InstanceID: inst.ID})
	require.NoError(t, err)
	RequireTasks(t, c.NewTasks, tasks)
	audit, err := s.Audit(ctx, inst.ID)
	require.NoError(t, err)
	RequireAudit(t, c.Audit, audit)
	require.Len(t, a.AuditSeqs, len(audit))
	for i := range audit {
		require.Equal(t, audit[i].Seq, a.AuditSeqs[i], "AuditSeqs[%d] is the seq of the change's audit row %d", i, i)
	}
	pending, err := s.PendingOutbox(ctx, 100)
	require.NoError(t, err)
	require.Len(t, a.OutboxSeqs, len(c.Outbox))
	for i := range c.Outbox {
		c.Outbox[i].Seq = a.OutboxSeqs[i]
	}
	RequireOutbox(t, c.Outbox, pending)

	// Then more timers cancelled and set than one statement may hold; one
	// set anew replaces the timer of its id.
	var set []flows.Timer
	for i := range 20 {
		set = append(set, NewTimer(inst.ID, fmt.Sprintf("tm-%02d", i), At(time.Duration(i)*time.Minute)))
	}
	MustApply(t, s, flows.Change{NewTimers: set})
	next := flows.Change{}
	for i := range 10 {
		next.CancelTimers = append(next.CancelTimers, set[i].ID)
	}
	moved := set[10]
	moved.DueAt, moved.Payload = At(30*time.Minute), json.RawMessage(`{"every": "1h"}`)
	next.NewTimers = append(next.NewTimers, moved)
	for i := range 8 {
		next.NewTimers = append(next.NewTimers, NewTimer(inst.ID, fmt.Sprintf("tm-%02d", 20+i), At(time.Duration(40+i)*time.Minute)))
	}
	MustApply(t, s, next)
	want := slices.Concat(set[11:], next.NewTimers)
	claimed, err := s.ClaimTimers(ctx, At(2*time.Hour), "h", time.Minute, 100)
	require.NoError(t, err)
	RequireTimers(t, want, claimed)
}
