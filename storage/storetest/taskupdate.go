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

func taskUpdateTests() []suiteTest {
	return []suiteTest{
		storeTest("guarded by from status", testTaskUpdates),
		storeTest("timers cancelled before added", testTimerChanges),
		storeTest("a change writing a row twice sees its own writes", testRowWrittenTwice),
		storeTest("several tasks updated in one change", testSeveralTaskUpdates),
	}
}

func testTaskUpdates(t *testing.T, s flows.Store) {
	ctx := t.Context()
	decide := flows.TaskUpdate{From: flows.TaskOpen, Status: flows.TaskApproved, Outcome: "approve",
		Comment: "ok", Result: json.RawMessage(`{"qty": 3}`), DecidedBy: "u-boss", DecidedAt: At(time.Hour)}
	decided := func(task flows.Task) flows.Task {
		task.Status, task.Outcome, task.Comment = flows.TaskApproved, "approve", "ok"
		task.Result, task.DecidedBy, task.DecidedAt = decide.Result, "u-boss", At(time.Hour)
		return task
	}
	tests := []struct {
		name    string
		before  []flows.TaskUpdate // applied first; must succeed
		update  flows.TaskUpdate   // ID "" means the seeded task
		wantErr error
		want    func(seeded flows.Task) flows.Task
	}{
		{name: "decide keeps the assignee", update: decide, want: decided},
		{
			name:   "transfer sets the assignee",
			update: flows.TaskUpdate{From: flows.TaskOpen, Status: flows.TaskOpen, Assignee: "u-carol", Comment: "转交"},
			want: func(task flows.Task) flows.Task {
				task.Assignee, task.Comment = "u-carol", "转交"
				return task
			},
		},
		{
			name:   "every decision field is overwritten",
			before: []flows.TaskUpdate{decide},
			update: flows.TaskUpdate{From: flows.TaskApproved, Status: flows.TaskOpen},
			want:   func(task flows.Task) flows.Task { return task },
		},
		{
			name:    "wrong from status",
			update:  flows.TaskUpdate{From: flows.TaskWaiting, Status: flows.TaskApproved, DecidedBy: "u-x"},
			wantErr: flows.ErrTaskConflict,
			want:    func(task flows.Task) flows.Task { return task },
		},
		{
			name:    "already decided",
			before:  []flows.TaskUpdate{decide},
			update:  flows.TaskUpdate{From: flows.TaskOpen, Status: flows.TaskRejected, DecidedBy: "u-x"},
			wantErr: flows.ErrTaskConflict,
			want:    decided,
		},
		{
			name:    "unknown task",
			update:  flows.TaskUpdate{ID: "missing", From: flows.TaskOpen, Status: flows.TaskApproved},
			wantErr: flows.ErrNotFound,
			want:    func(task flows.Task) flows.Task { return task },
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inst := Seed(t, s, fmt.Sprintf("i-%d", i))
			seeded := NewTask(inst.ID, inst.ID+"-t1", "u-bob")
			for _, u := range tc.before {
				u.ID = seeded.ID
				MustApply(t, s, flows.Change{TaskUpdates: []flows.TaskUpdate{u}})
			}
			u := tc.update
			if u.ID == "" {
				u.ID = seeded.ID
			}
			_, err := s.Apply(ctx, flows.Change{TaskUpdates: []flows.TaskUpdate{u}})
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			got, err := s.Task(ctx, seeded.ID)
			require.NoError(t, err)
			RequireTask(t, tc.want(seeded), got)
		})
	}
}

func testTimerChanges(t *testing.T, s flows.Store) {
	ctx := t.Context()
	// claimFor24h leases the case's timer past the observation at At(3h), so
	// only the change under test can free it in time.
	claimFor24h := func(t *testing.T, id string) {
		claimed, err := s.ClaimTimers(ctx, At(10*time.Minute), "holder-"+id, 24*time.Hour, 10)
		require.NoError(t, err)
		require.Equal(t, []string{id}, ids(claimed, timerID))
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, id string) // optional, after the timer due At(10m) is stored
		change  func(inst, id string) flows.Change
		want    func(inst, id string) []flows.Timer
	}{
		{
			name:   "cancel then add the same id reschedules",
			change: func(inst, id string) flows.Change { return rescheduleChange(inst, id, At(time.Hour)) },
			want:   func(inst, id string) []flows.Timer { return []flows.Timer{NewTimer(inst, id, At(time.Hour))} },
		},
		{
			name: "a new timer replaces a stored one",
			change: func(inst, id string) flows.Change {
				tm := NewTimer(inst, id, At(2*time.Hour))
				tm.Kind, tm.Payload = "escalate", json.RawMessage(`{"level": 2}`)
				return flows.Change{NewTimers: []flows.Timer{tm}}
			},
			want: func(inst, id string) []flows.Timer {
				tm := NewTimer(inst, id, At(2*time.Hour))
				tm.Kind, tm.Payload = "escalate", json.RawMessage(`{"level": 2}`)
				return []flows.Timer{tm}
			},
		},
		{
			name:   "cancel removes",
			change: func(_, id string) flows.Change { return flows.Change{CancelTimers: []string{id}} },
			want:   func(_, _ string) []flows.Timer { return nil },
		},
		{
			name:   "cancelling an unknown id is ignored",
			change: func(_, _ string) flows.Change { return flows.Change{CancelTimers: []string{"no-such-timer"}} },
			want:   func(inst, id string) []flows.Timer { return []flows.Timer{NewTimer(inst, id, At(10*time.Minute))} },
		},
		{
			name:    "rescheduling frees a leased timer",
			prepare: claimFor24h,
			change:  func(inst, id string) flows.Change { return rescheduleChange(inst, id, At(20*time.Minute)) },
			want:    func(inst, id string) []flows.Timer { return []flows.Timer{NewTimer(inst, id, At(20*time.Minute))} },
		},
		{
			name:    "replacing without cancel frees a leased timer",
			prepare: claimFor24h,
			change: func(inst, id string) flows.Change {
				return flows.Change{NewTimers: []flows.Timer{NewTimer(inst, id, At(30*time.Minute))}}
			},
			want: func(inst, id string) []flows.Timer { return []flows.Timer{NewTimer(inst, id, At(30*time.Minute))} },
		},
	}
	// The cases share one store, so they run one after another and each
	// observes its own timer at a later instant than the case before.
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inst, id := fmt.Sprintf("i-%d", i), fmt.Sprintf("tm-%d", i)
			MustApply(t, s, flows.Change{NewTimers: []flows.Timer{NewTimer(inst, id, At(10*time.Minute))}})
			if tc.prepare != nil {
				tc.prepare(t, id)
			}
			MustApply(t, s, tc.change(inst, id))
			// Every case's timers are due by At(3h); the lease outlives the
			// whole test, so a case never sees an earlier case's timer.
			got, err := s.ClaimTimers(ctx, At(3*time.Hour), fmt.Sprintf("observer-%d", i), 24*time.Hour, 100)
			require.NoError(t, err)
			RequireTimers(t, tc.want(inst, id), got)
		})
	}
}

// rescheduleChange moves timer id of inst to due, the way the engine
// reschedules a repeating reminder.
func rescheduleChange(inst, id string, due time.Time) flows.Change {
	return flows.Change{CancelTimers: []string{id}, NewTimers: []flows.Timer{NewTimer(inst, id, due)}}
}

// testRowWrittenTwice applies changes that write one row twice. The contract
// orders a change's parts (new tasks, then task updates, each update guarded
// by the status the one before it left), so each write sees the previous
// one. The engine folds such writes into one, but the store must not rely on
// it.
func testRowWrittenTwice(t *testing.T, s flows.Store) {
	ctx := t.Context()
	tests := []struct {
		name    string
		change  func(inst flows.Instance) flows.Change
		wantErr error
		check   func(t *testing.T, inst flows.Instance)
	}{
		{
			name: "a task created and decided",
			change: func(inst flows.Instance) flows.Change {
				return flows.Change{NewTasks: []flows.Task{NewTask(inst.ID, inst.ID+"-t2", "u-carol")},
					TaskUpdates: []flows.TaskUpdate{{ID: inst.ID + "-t2", From: flows.TaskOpen, Status: flows.TaskApproved,
						Outcome: "approve", DecidedBy: "u-carol", DecidedAt: At(time.Hour)}}}
			},
			check: func(t *testing.T, inst flows.Instance) {
				got, err := s.Task(ctx, inst.ID+"-t2")
				require.NoError(t, err)
				want := NewTask(inst.ID, inst.ID+"-t2", "u-carol")
				want.Status, want.Outcome, want.DecidedBy, want.DecidedAt = flows.TaskApproved, "approve", "u-carol", At(time.Hour)
				RequireTask(t, want, got)
			},
		},
		{
			name: "a task updated twice",
			change: func(inst flows.Instance) flows.Change {
				return flows.Change{TaskUpdates: []flows.TaskUpdate{
					{ID: inst.ID + "-t1", From: flows.TaskOpen, Status: flows.TaskWaiting},
					{ID: inst.ID + "-t1", From: flows.TaskWaiting, Status: flows.TaskOpen, Assignee: "u-carol"},
				}}
			},
			check: func(t *testing.T, inst flows.Instance) {
				got, err := s.Task(ctx, inst.ID+"-t1")
				require.NoError(t, err)
				RequireTask(t, NewTask(inst.ID, inst.ID+"-t1", "u-carol"), got)
			},
		},
		{
			name: "the second update's guard fails",
			change: func(inst flows.Instance) flows.Change {
				return flows.Change{TaskUpdates: []flows.TaskUpdate{
					{ID: inst.ID + "-t1", From: flows.TaskOpen, Status: flows.TaskWaiting},
					{ID: inst.ID + "-t1", From: flows.TaskOpen, Status: flows.TaskApproved},
				}, Audit: []flows.AuditEntry{NewAudit(inst.ID, "approve", "u-bob")}}
			},
			wantErr: flows.ErrTaskConflict,
			check: func(t *testing.T, inst flows.Instance) {
				got, err := s.Task(ctx, inst.ID+"-t1")
				require.NoError(t, err)
				RequireTask(t, NewTask(inst.ID, inst.ID+"-t1", "u-bob"), got)
				audit, err := s.Audit(ctx, inst.ID)
				require.NoError(t, err)
				require.Len(t, audit, 1, "only the start row: the failed change wrote nothing")
			},
		},
		{
			name: "a timer added twice",
			change: func(inst flows.Instance) flows.Change {
				return flows.Change{NewTimers: []flows.Timer{NewTimer(inst.ID, inst.ID+"-tm", At(time.Hour)),
					NewTimer(inst.ID, inst.ID+"-tm", At(2*time.Hour))}}
			},
			check: func(t *testing.T, inst flows.Instance) {
				got, err := s.ClaimTimers(ctx, At(3*time.Hour), "observer-"+inst.ID, time.Hour, 100)
				require.NoError(t, err)
				var mine []flows.Timer
				for _, tm := range got {
					if tm.InstanceID == inst.ID {
						mine = append(mine, tm)
					}
				}
				RequireTimers(t, []flows.Timer{NewTimer(inst.ID, inst.ID+"-tm", At(2*time.Hour))}, mine)
			},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inst := Seed(t, s, fmt.Sprintf("i-twice-%d", i))
			_, err := s.Apply(ctx, tc.change(inst))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			tc.check(t, inst)
		})
	}
}

// testSeveralTaskUpdates applies changes that update several distinct
// tasks (a 或签 decided: the decider's task approved, the other signers'
// cancelled), more of them than a store may update in one statement, each
// guarded by its own status: all are written, or, when one guard fails,
// none, and the error is the first failing update's in the change's order.
func testSeveralTaskUpdates(t *testing.T, s flows.Store) {
	ctx := t.Context()
	const n = 11
	seed := func(t *testing.T, id string) (flows.Instance, []flows.Task) {
		inst := Seed(t, s, id)
		var c flows.Change
		for i := range n {
			task := NewTask(inst.ID, fmt.Sprintf("%s-s%02d", inst.ID, i), fmt.Sprintf("u-%02d", i))
			task.Seq = i + 2
			c.NewTasks = append(c.NewTasks, task)
		}
		MustApply(t, s, c)
		return inst, c.NewTasks
	}
	closeAll := func(tasks []flows.Task) []flows.TaskUpdate {
		updates := make([]flows.TaskUpdate, len(tasks))
		for i, task := range tasks {
			updates[i] = flows.TaskUpdate{ID: task.ID, From: flows.TaskOpen, Status: flows.TaskCancelled,
				Comment: fmt.Sprintf("closed %d", i), DecidedAt: At(time.Hour)}
		}
		updates[3] = flows.TaskUpdate{ID: tasks[3].ID, From: flows.TaskOpen, Status: flows.TaskApproved,
			Outcome: "approve", Result: json.RawMessage(`{"qty": 3}`), DecidedBy: "u-03", DecidedAt: At(time.Hour)}
		updates[5].Assignee = "u-carol"
		return updates
	}
	stored := func(t *testing.T, want []flows.Task) {
		t.Helper()
		for _, task := range want {
			got, err := s.Task(ctx, task.ID)
			require.NoError(t, err)
			RequireTask(t, task, got)
		}
	}

	t.Run("all written", func(t *testing.T) {
		_, tasks := seed(t, "i-several-ok")
		updates := closeAll(tasks)
		MustApply(t, s, flows.Change{TaskUpdates: updates})
		want := slices.Clone(tasks)
		for i, u := range updates {
			w := &want[i]
			w.Status, w.Outcome, w.Comment, w.Result = u.Status, u.Outcome, u.Comment, u.Result
			w.DecidedBy, w.DecidedAt = u.DecidedBy, u.DecidedAt
			if u.Assignee != "" {
				w.Assignee = u.Assignee
			}
		}
		stored(t, want)
	})
	t.Run("a later guard fails", func(t *testing.T) {
		_, tasks := seed(t, "i-several-guard")
		updates := closeAll(tasks)
		updates[6].From, updates[2].From = flows.TaskWaiting, flows.TaskApproved
		_, err := s.Apply(ctx, flows.Change{TaskUpdates: updates})
		require.ErrorIs(t, err, flows.ErrTaskConflict)
		require.ErrorContains(t, err, tasks[2].ID, "the first failing update in the change's order is named")
		stored(t, tasks)
	})
	t.Run("an unknown task among them", func(t *testing.T) {
		inst, tasks := seed(t, "i-several-missing")
		updates := closeAll(tasks)
		updates[10].ID = inst.ID + "-nobody"
		_, err := s.Apply(ctx, flows.Change{TaskUpdates: updates})
		require.ErrorIs(t, err, flows.ErrNotFound)
		require.ErrorContains(t, err, inst.ID+"-nobody")
		stored(t, tasks)
	})
}
