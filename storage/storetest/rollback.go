package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func rollbackTests() []suiteTest {
	return []suiteTest{{name: "failed change writes nothing", run: testRollback}}
}

// seedForRollback stores instance i-1 (version 1) with open tasks i-1-t1
// (u-bob) and i-1-t2 (u-carol), the start audit row, their outbox messages
// and timer tm-1 due At(10m).
func seedForRollback(t *testing.T, s flows.Store) flows.Instance {
	t.Helper()
	inst := NewInstance("i-1")
	c := StartChange(inst, NewTask("i-1", "i-1-t1", "u-bob"), NewTask("i-1", "i-1-t2", "u-carol"))
	c.NewTimers = []flows.Timer{NewTimer("i-1", "tm-1", At(10*time.Minute))}
	MustApply(t, s, c)
	inst.Version = 1
	return inst
}

// fullChange touches every part a Change has; applied to the seed it
// succeeds. The rollback cases break one later part of it.
func fullChange(inst flows.Instance) flows.Change {
	next := inst
	next.Title, next.Status = "must not be written", flows.InstanceApproved
	decide := func(id string, to flows.TaskStatus) flows.TaskUpdate {
		return flows.TaskUpdate{ID: id, From: flows.TaskOpen, Status: to, DecidedBy: "u-boss", DecidedAt: At(time.Minute)}
	}
	return flows.Change{
		IdempotencyKey: "rollback-key",
		Result:         json.RawMessage(`{"ok": true}`),
		Instance:       &next,
		ExpectVersion:  inst.Version,
		NewTasks:       []flows.Task{NewTask(inst.ID, "i-1-t3", "u-alice")},
		TaskUpdates:    []flows.TaskUpdate{decide("i-1-t1", flows.TaskApproved), decide("i-1-t2", flows.TaskRejected)},
		CancelTimers:   []string{"tm-1"},
		NewTimers:      []flows.Timer{NewTimer(inst.ID, "tm-2", At(20*time.Minute))},
		Audit:          []flows.AuditEntry{NewAudit(inst.ID, "approve", "u-boss"), NewAudit(inst.ID, "reject", "u-boss")},
		Outbox:         []flows.OutboxMessage{NewOutbox(inst.ID, "i-1/rb/1"), NewOutbox(inst.ID, "i-1/rb/2")},
	}
}

func testRollback(t *testing.T, newStore NewStoreFunc) {
	tests := []struct {
		name    string
		breakIt func(c *flows.Change)
		wantErr error // nil: any error
	}{
		{
			name:    "second task update conflicts",
			breakIt: func(c *flows.Change) { c.TaskUpdates[1].From = flows.TaskWaiting },
			wantErr: flows.ErrTaskConflict,
		},
		{
			name:    "second task update unknown",
			breakIt: func(c *flows.Change) { c.TaskUpdates[1].ID = "missing" },
			wantErr: flows.ErrNotFound,
		},
		{
			name: "new task id exists",
			breakIt: func(c *flows.Change) {
				c.NewTasks = append(c.NewTasks, NewTask("i-1", "i-1-t1", "u-alice"))
			},
		},
		{
			name:    "outbox key exists",
			breakIt: func(c *flows.Change) { c.Outbox[1].Key = "i-1/start/i-1-t1" },
		},
		{
			name:    "outbox key twice in the change",
			breakIt: func(c *flows.Change) { c.Outbox[1].Key = c.Outbox[0].Key },
		},
		{
			name:    "stale version",
			breakIt: func(c *flows.Change) { c.ExpectVersion = 2 },
			wantErr: flows.ErrStaleVersion,
		},
		{
			name: "unknown instance",
			breakIt: func(c *flows.Change) {
				missing := *c.Instance
				missing.ID = "missing"
				c.Instance = &missing
			},
			wantErr: flows.ErrNotFound,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			ctx := t.Context()
			inst := seedForRollback(t, s)
			before := takeSnapshot(t, s, "i-1")

			broken := fullChange(inst)
			tc.breakIt(&broken)
			a, err := s.Apply(ctx, broken)
			require.Error(t, err)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			}
			require.Zero(t, a.InstanceVersion)
			require.Empty(t, a.OutboxSeqs)
			require.Equal(t, before, takeSnapshot(t, s, "i-1"), "a failed change must write nothing")
			for _, id := range []string{"i-1-t3", "missing"} {
				_, err = s.Task(ctx, id)
				require.ErrorIs(t, err, flows.ErrNotFound, "task %s", id)
			}
			_, err = s.Idempotent(ctx, broken.IdempotencyKey)
			require.ErrorIs(t, err, flows.ErrNotFound, "a failed change must not record its key")
			timers, err := s.ClaimTimers(ctx, At(time.Hour), "observer", time.Minute, 10)
			require.NoError(t, err)
			require.Equal(t, []string{"tm-1"}, ids(timers, timerID), "the cancel and the new timer must be rolled back")

			// The corrected retry with the same key goes through.
			a = MustApply(t, s, fullChange(inst))
			require.Equal(t, int64(2), a.InstanceVersion)
			require.Len(t, a.OutboxSeqs, 2)
			got, err := s.Idempotent(ctx, broken.IdempotencyKey)
			require.NoError(t, err)
			require.JSONEq(t, `{"ok": true}`, string(got))
		})
	}
}
