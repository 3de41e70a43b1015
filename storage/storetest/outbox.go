package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func outboxTests() []suiteTest {
	return []suiteTest{
		storeTest("pending in seq order with limit", testPendingOutbox),
		storeTest("mark sent", testMarkOutboxSent),
		storeTest("backlog", testOutboxBacklog),
		storeTest("a commit of several messages", testOutboxCommitOfSeveral),
	}
}

// storeMessages commits n messages keyed "<prefix><instance>/<i>",
// alternating between instances i-a and i-b, committed one second apart from
// At(0); it returns them with their Seqs.
func storeMessages(t *testing.T, s flows.Store, prefix string, n int) []flows.OutboxMessage {
	t.Helper()
	var out []flows.OutboxMessage
	for i := range n {
		inst := []string{"i-a", "i-b"}[i%2]
		m := NewOutbox(inst, fmt.Sprintf("%s%s/%d", prefix, inst, i))
		m.CreatedAt = At(time.Duration(i) * time.Second)
		a := MustApply(t, s, flows.Change{Outbox: []flows.OutboxMessage{m}})
		require.Len(t, a.OutboxSeqs, 1)
		m.Seq = a.OutboxSeqs[0]
		if len(out) > 0 {
			require.Greater(t, m.Seq, out[len(out)-1].Seq, "seqs grow in commit order")
		}
		out = append(out, m)
	}
	return out
}

func testPendingOutbox(t *testing.T, s flows.Store) {
	ctx := t.Context()
	empty, err := s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, empty)

	msgs := storeMessages(t, s, "", 5)
	tests := []struct {
		name  string
		limit int
		want  []flows.OutboxMessage
	}{
		{name: "under the limit", limit: 10, want: msgs},
		{name: "at the limit", limit: 5, want: msgs},
		{name: "limited to the oldest", limit: 2, want: msgs[:2]},
		{name: "one", limit: 1, want: msgs[:1]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.PendingOutbox(ctx, tc.limit)
			require.NoError(t, err)
			RequireOutbox(t, tc.want, got)
		})
	}
}

func testMarkOutboxSent(t *testing.T, s flows.Store) {
	ctx := t.Context()
	msgs := storeMessages(t, s, "", 5)
	seqs := func(ms ...flows.OutboxMessage) []int64 {
		var out []int64
		for _, m := range ms {
			out = append(out, m.Seq)
		}
		return out
	}
	unknown := msgs[4].Seq + 1000

	steps := []struct {
		name string
		mark []int64
		want []flows.OutboxMessage
	}{
		{name: "nothing", mark: nil, want: msgs},
		{name: "first and third", mark: seqs(msgs[0], msgs[2]), want: []flows.OutboxMessage{msgs[1], msgs[3], msgs[4]}},
		{name: "again, idempotent", mark: seqs(msgs[0], msgs[2]), want: []flows.OutboxMessage{msgs[1], msgs[3], msgs[4]}},
		{name: "unknown seq with a known one", mark: []int64{unknown, msgs[1].Seq}, want: []flows.OutboxMessage{msgs[3], msgs[4]}},
		{name: "the rest", mark: seqs(msgs...), want: nil},
	}
	for _, step := range steps {
		require.NoError(t, s.MarkOutboxSent(ctx, step.mark), step.name)
		got, err := s.PendingOutbox(ctx, 10)
		require.NoError(t, err, step.name)
		RequireOutbox(t, step.want, got)
	}

	// A message committed after others were sent is pending on its own.
	later := storeMessages(t, s, "later/", 1)
	got, err := s.PendingOutbox(ctx, 10)
	require.NoError(t, err)
	RequireOutbox(t, later, got)
}

func testOutboxBacklog(t *testing.T, s flows.Store) {
	ctx := t.Context()
	count, oldest, err := s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Zero(t, count)
	require.True(t, oldest.IsZero(), "no backlog has a zero oldest time, got %v", oldest)

	msgs := storeMessages(t, s, "", 3)
	steps := []struct {
		name       string
		mark       []int64
		wantCount  int64
		wantOldest time.Time
	}{
		{name: "all unsent", wantCount: 3, wantOldest: msgs[0].CreatedAt},
		{name: "oldest sent", mark: []int64{msgs[0].Seq}, wantCount: 2, wantOldest: msgs[1].CreatedAt},
		{name: "middle sent", mark: []int64{msgs[1].Seq}, wantCount: 1, wantOldest: msgs[2].CreatedAt},
		{name: "all sent", mark: []int64{msgs[2].Seq}, wantCount: 0},
	}
	for _, step := range steps {
		require.NoError(t, s.MarkOutboxSent(ctx, step.mark), step.name)
		count, oldest, err := s.OutboxBacklog(ctx)
		require.NoError(t, err, step.name)
		require.Equal(t, step.wantCount, count, step.name)
		cmp{t: t, what: step.name}.time("oldest", step.wantOldest, &oldest)
	}
}

// testOutboxCommitOfSeveral: the messages of one commit (a decision notifies
// several people) keep their order, keys and payloads; each is marked on its
// own, and none is lost when a batch's limit falls inside the commit. A
// store may keep such messages together (see flows.Store.PendingOutbox).
func testOutboxCommitOfSeveral(t *testing.T, s flows.Store) {
	ctx := t.Context()
	first := storeMessages(t, s, "first/", 1)
	msgs := []flows.OutboxMessage{NewOutbox("i-a", "a/1"), NewOutbox("i-a", "a/2"), NewOutbox("i-a", "a/3"),
		NewOutbox("i-a", "a/4")}
	msgs[2].Payload = nil // a message may carry no payload
	msgs[3].Topic = "digest"
	a := MustApply(t, s, flows.Change{Outbox: msgs})
	require.Len(t, a.OutboxSeqs, len(msgs))
	for i := range msgs {
		msgs[i].Seq = a.OutboxSeqs[i]
	}
	last := storeMessages(t, s, "last/", 1)
	all := append(append(append([]flows.OutboxMessage{}, first...), msgs...), last...)

	got, err := s.PendingOutbox(ctx, 100)
	require.NoError(t, err)
	RequireOutbox(t, all, got)
	count, _, err := s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(len(all)), count)

	// A limit inside the commit: a prefix of at least the limit comes,
	// beyond it only the rest of the commit that reached it.
	got, err = s.PendingOutbox(ctx, 2)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(got), 2, "a batch stops short only when nothing more is pending")
	require.LessOrEqual(t, len(got), 1+len(msgs), "beyond the commit that reached the limit")
	RequireOutbox(t, all[:len(got)], got)
	require.NoError(t, s.MarkOutboxSent(ctx, []int64{first[0].Seq}))
	got, err = s.PendingOutbox(ctx, 2)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(got), 2)
	require.LessOrEqual(t, len(got), len(msgs), "beyond the commit that reached the limit")
	RequireOutbox(t, all[1:1+len(got)], got)

	// Marked one at a time, out of order: the others stay pending.
	require.NoError(t, s.MarkOutboxSent(ctx, []int64{msgs[1].Seq, msgs[3].Seq}))
	got, err = s.PendingOutbox(ctx, 100)
	require.NoError(t, err)
	RequireOutbox(t, []flows.OutboxMessage{msgs[0], msgs[2], last[0]}, got)
	count, oldest, err := s.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), count)
	cmp{t: t, what: "oldest unsent"}.time("oldest", msgs[0].CreatedAt, &oldest)

	require.NoError(t, s.MarkOutboxSent(ctx, []int64{msgs[1].Seq, msgs[0].Seq}))
	got, err = s.PendingOutbox(ctx, 100)
	require.NoError(t, err)
	RequireOutbox(t, []flows.OutboxMessage{msgs[2], last[0]}, got)
	require.NoError(t, s.MarkOutboxSent(ctx, []int64{msgs[2].Seq, last[0].Seq}))
	got, err = s.PendingOutbox(ctx, 100)
	require.NoError(t, err)
	require.Empty(t, got)

	// Every key stays taken while its message is kept.
	for _, m := range msgs {
		_, err := s.Apply(ctx, flows.Change{Outbox: []flows.OutboxMessage{NewOutbox("i-b", m.Key)}})
		require.Error(t, err, "key %s committed again", m.Key)
	}
}
