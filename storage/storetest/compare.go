package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// The Require* helpers compare what a store returned with what was written,
// tolerating exactly what stores may legitimately change and nothing more:
// JSON may be re-encoded (PostgreSQL's jsonb reorders keys and drops
// whitespace), times may lose precision below the millisecond and must come
// back in UTC, and a nil list or map equals an empty one. Everything else must
// be identical.

// RequireInstance fails the test unless got is want as stored.
func RequireInstance(t testing.TB, want, got flows.Instance) {
	t.Helper()
	c := cmp{t: t, what: "instance " + want.ID}
	c.json("Form", want.Form, &got.Form)
	c.json("State", want.State, &got.State)
	c.time("CreatedAt", want.CreatedAt, &got.CreatedAt)
	c.time("UpdatedAt", want.UpdatedAt, &got.UpdatedAt)
	require.Equal(t, want, got, c.what)
}

// RequireTask fails the test unless got is want as stored.
func RequireTask(t testing.TB, want, got flows.Task) {
	t.Helper()
	c := cmp{t: t, what: "task " + want.ID}
	c.json("Result", want.Result, &got.Result)
	c.time("DueAt", want.DueAt, &got.DueAt)
	c.time("CreatedAt", want.CreatedAt, &got.CreatedAt)
	c.time("DecidedAt", want.DecidedAt, &got.DecidedAt)
	require.Equal(t, want, got, c.what)
}

// RequireTasks fails the test unless got holds want's tasks in order.
func RequireTasks(t testing.TB, want, got []flows.Task) {
	t.Helper()
	require.Equal(t, ids(want, taskID), ids(got, taskID), "task ids in order")
	for i := range want {
		RequireTask(t, want[i], got[i])
	}
}

// RequireAudit fails the test unless got holds want's entries in order.
// Seqs are checked to be positive and strictly ascending, not compared.
func RequireAudit(t testing.TB, want, got []flows.AuditEntry) {
	t.Helper()
	require.Len(t, got, len(want), "audit entries")
	for i := range want {
		w, g := want[i], got[i]
		if i > 0 {
			require.Greater(t, g.Seq, got[i-1].Seq, "audit[%d].Seq must grow in commit order", i)
		}
		require.Positive(t, g.Seq, "audit[%d].Seq", i)
		w.Seq = g.Seq
		c := cmp{t: t, what: fmt.Sprintf("audit[%d]", i)}
		c.json("Detail", w.Detail, &g.Detail)
		c.time("At", w.At, &g.At)
		require.Equal(t, w, g, c.what)
	}
}

// RequireOutbox fails the test unless got holds want's messages in order,
// Seqs included.
func RequireOutbox(t testing.TB, want, got []flows.OutboxMessage) {
	t.Helper()
	require.Equal(t, ids(want, outboxKey), ids(got, outboxKey), "outbox keys in order")
	for i := range want {
		w, g := want[i], got[i]
		c := cmp{t: t, what: "outbox message " + w.Key}
		c.json("Payload", w.Payload, &g.Payload)
		c.time("CreatedAt", w.CreatedAt, &g.CreatedAt)
		require.Equal(t, w, g, c.what)
	}
}

// RequireTimers fails the test unless got holds want's timers in order.
func RequireTimers(t testing.TB, want, got []flows.Timer) {
	t.Helper()
	require.Equal(t, ids(want, timerID), ids(got, timerID), "timer ids in order")
	for i := range want {
		w, g := want[i], got[i]
		c := cmp{t: t, what: "timer " + w.ID}
		c.json("Payload", w.Payload, &g.Payload)
		c.time("DueAt", w.DueAt, &g.DueAt)
		require.Equal(t, w, g, c.what)
	}
}

// RequireUser fails the test unless got is want as stored. Roles are a set:
// their order is not compared.
func RequireUser(t testing.TB, want, got flows.User) {
	t.Helper()
	want.Roles, got.Roles = sortedOrNil(want.Roles), sortedOrNil(got.Roles)
	if len(want.PlatformIDs) == 0 && len(got.PlatformIDs) == 0 {
		want.PlatformIDs, got.PlatformIDs = nil, nil
	}
	require.Equal(t, want, got, "user "+want.ID)
}

// RequireDefinition fails the test unless got is want as stored.
func RequireDefinition(t testing.TB, want, got flows.Definition) {
	t.Helper()
	c := cmp{t: t, what: fmt.Sprintf("definition %s v%d", want.FlowID, want.Version)}
	c.time("CreatedAt", want.CreatedAt, &got.CreatedAt)
	require.Equal(t, string(want.Source), string(got.Source), c.what+": Source")
	got.Source = want.Source
	require.Equal(t, want, got, c.what)
}

// cmp checks the fields a store may re-encode and, when they are
// equivalent, copies want's value into got so a final require.Equal on the
// whole struct compares everything else and prints a readable diff.
type cmp struct {
	t    testing.TB
	what string
}

func (c cmp) time(field string, want time.Time, got *time.Time) {
	c.t.Helper()
	if want.IsZero() {
		require.True(c.t, got.IsZero(), "%s: %s must stay zero, got %v", c.what, field, *got)
		*got = want
		return
	}
	require.Equal(c.t, time.UTC, got.Location(), "%s: %s must come back in UTC, got %v", c.what, field, *got)
	diff := got.Sub(want)
	require.True(c.t, diff > -time.Millisecond && diff < time.Millisecond,
		"%s: %s = %s, want %s (to the millisecond)", c.what, field, got.Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
	*got = want
}

func (c cmp) json(field string, want json.RawMessage, got *json.RawMessage) {
	c.t.Helper()
	if len(bytes.TrimSpace(want)) == 0 {
		require.Empty(c.t, *got, "%s: empty %s must stay empty", c.what, field)
		*got = want
		return
	}
	require.JSONEq(c.t, string(want), string(*got), "%s: %s", c.what, field)
	*got = want
}

func sortedOrNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(s))
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

func taskID(x flows.Task) string             { return x.ID }
func timerID(x flows.Timer) string           { return x.ID }
func outboxKey(x flows.OutboxMessage) string { return x.Key }
func instanceID(x flows.Instance) string     { return x.ID }
func userID(x flows.User) string             { return x.ID }
func definitionID(x flows.Definition) string { return fmt.Sprintf("%s@%d", x.FlowID, x.Version) }
