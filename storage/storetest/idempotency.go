package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func idempotencyTests() []suiteTest {
	return []suiteTest{
		storeTest("replay writes nothing and returns the first result", testReplay),
		storeTest("replay is answered even after the instance moved on", testReplayAfterChange),
		storeTest("key on a change without instance", testKeyWithoutInstance),
		storeTest("unknown key", testUnknownKey),
	}
}

// requireDuplicate fails unless err is a replay of key answered with want.
func requireDuplicate(t *testing.T, err error, key string, want json.RawMessage) {
	t.Helper()
	require.ErrorIs(t, err, flows.ErrDuplicate)
	var dup *flows.DuplicateError
	require.True(t, errors.As(err, &dup), "error %v must wrap a *flows.DuplicateError", err)
	require.Equal(t, key, dup.Key)
	require.JSONEq(t, string(want), string(dup.Result), "DuplicateError.Result must be the first answer")
}

func testReplay(t *testing.T, s flows.Store) {
	ctx := t.Context()
	inst := Seed(t, s, "i-1")
	c := DecideChange(inst, "i-1-t1", "u-bob")
	c.IdempotencyKey = "feishu:evt-1"
	c.Result = json.RawMessage(`{"answer": "approved", "version": 2}`)
	a := MustApply(t, s, c)
	require.Equal(t, int64(2), a.InstanceVersion)
	before := takeSnapshot(t, s, "i-1")

	replayed, err := s.Apply(ctx, c)
	requireDuplicate(t, err, c.IdempotencyKey, c.Result)
	require.Empty(t, replayed.OutboxSeqs, "a replay commits no outbox message")
	require.Equal(t, before, takeSnapshot(t, s, "i-1"), "a replay must write nothing")

	got, err := s.Idempotent(ctx, c.IdempotencyKey)
	require.NoError(t, err)
	require.JSONEq(t, string(c.Result), string(got))
}

func testReplayAfterChange(t *testing.T, s flows.Store) {
	ctx := t.Context()
	inst := Seed(t, s, "i-1")
	first := DecideChange(inst, "i-1-t1", "u-bob")
	first.IdempotencyKey, first.Result = "click-1", json.RawMessage(`{"n": 1}`)
	MustApply(t, s, first)
	inst.Version = 2
	MustApply(t, s, flows.Change{Instance: &inst, ExpectVersion: 2})
	before := takeSnapshot(t, s, "i-1")

	// The replay's ExpectVersion (1) is stale by now: the key must still be
	// recognised first, so a double-clicked card gets the first answer.
	_, err := s.Apply(ctx, first)
	requireDuplicate(t, err, "click-1", first.Result)

	// A different change under a used key is still a replay.
	other := DecideChange(inst, "i-1-t1", "u-carol")
	other.ExpectVersion = 3
	other.IdempotencyKey, other.Result = "click-1", json.RawMessage(`{"n": 2}`)
	_, err = s.Apply(ctx, other)
	requireDuplicate(t, err, "click-1", first.Result)
	require.Equal(t, before, takeSnapshot(t, s, "i-1"))
}

func testKeyWithoutInstance(t *testing.T, s flows.Store) {
	ctx := t.Context()
	Seed(t, s, "i-1")
	c := flows.Change{
		IdempotencyKey: "urge-1",
		Result:         json.RawMessage(`"urged"`),
		Audit:          []flows.AuditEntry{NewAudit("i-1", "urge", "u-alice")},
	}
	MustApply(t, s, c)
	_, err := s.Apply(ctx, c)
	requireDuplicate(t, err, "urge-1", c.Result)
	audit, err := s.Audit(ctx, "i-1")
	require.NoError(t, err)
	require.Len(t, audit, 2, "start and one urge")
}

func testUnknownKey(t *testing.T, s flows.Store) {
	_, err := s.Idempotent(t.Context(), "never-applied")
	require.ErrorIs(t, err, flows.ErrNotFound)
}

// snapshot is everything a reader can observe about one instance without
// changing it; two snapshots of an untouched store are equal.
type snapshot struct {
	Instance      flows.Instance
	InstanceErr   string
	Tasks         []flows.Task
	Audit         []flows.AuditEntry
	Pending       []flows.OutboxMessage
	BacklogCount  int64
	BacklogOldest int64
}

func takeSnapshot(t *testing.T, s flows.Store, instanceID string) snapshot {
	t.Helper()
	ctx := t.Context()
	var snap snapshot
	var err error
	snap.Instance, err = s.Instance(ctx, instanceID)
	if err != nil {
		snap.InstanceErr = err.Error()
	}
	snap.Tasks, err = s.Tasks(ctx, flows.TaskFilter{InstanceID: instanceID, Limit: 1000})
	require.NoError(t, err)
	snap.Audit, err = s.Audit(ctx, instanceID)
	require.NoError(t, err)
	snap.Pending, err = s.PendingOutbox(ctx, 1000)
	require.NoError(t, err)
	var oldest time.Time
	snap.BacklogCount, oldest, err = s.OutboxBacklog(ctx)
	require.NoError(t, err)
	snap.BacklogOldest = oldest.UnixNano()
	return snap
}
