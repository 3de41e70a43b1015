package queuetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/internal/testclock"
	"cardflow/queue"
)

// RunPrune runs the conformance tests of PruneDeadLetters. newQueue must
// return a fresh, empty queue of its own that stamps dead letters with now
// and keeps at least 10 of them per topic; its other needs are Run's.
// Subtests run in parallel.
func RunPrune(t *testing.T, newQueue func(t *testing.T, now func() time.Time) queue.Queue) {
	tests := []struct {
		name string
		run  func(t *testing.T, q queue.Queue, clock *testclock.Clock)
	}{
		{name: "prunes dead letters older than the cutoff, oldest first, in batches", run: testPruneOldestFirst},
		{name: "pruning leaves other topics and waiting messages alone", run: testPruneOnlyDeadLetters},
		{name: "pruning rejects a bad limit, an empty topic and a closed queue", run: testPruneRefuses},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := testclock.New(pruneEpoch)
			tt.run(t, newQueue(t, clock.Now), clock)
		})
	}
}

// pruneEpoch is when the first dead letter of a prune test dies.
var pruneEpoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Bury dead-letters messages with the given IDs on topic, stamped at died:
// with the clock (the queue's) set to died, a consumer fails each for good,
// and Bury returns once that consumer has stopped, so every one is a dead
// letter by then.
func Bury(t *testing.T, q queue.Queue, clock *testclock.Clock, topic string, died time.Time, ids ...string) {
	t.Helper()
	clock.Set(died)
	rec := newRecorder(len(ids))
	c := start(t, q, topic, func(_ context.Context, m queue.Message) error {
		rec.add(m)
		return queue.Permanent(errors.New("user not found"))
	}, queue.ConsumeOptions{Concurrency: 1, VisibilityTimeout: time.Minute})
	for _, id := range ids {
		publish(t, q, topic, 1, queue.Message{ID: id})
	}
	rec.wait(t)
	c.stop(t)
}

// buryHourly dead-letters n messages of topic, IDs prefix-0 … prefix-(n-1),
// the i-th dying i hours after pruneEpoch: the handler sets the clock just
// before it fails the message, and one worker handles them in order. Unlike
// Bury it stamps each message apart and gives one a payload full of the
// Redis layout's separators.
func buryHourly(t *testing.T, q queue.Queue, clock *testclock.Clock, topic, prefix string, n int) {
	t.Helper()
	msgs := messages(prefix, n)
	// Separators of the netstring layout in a payload must not confuse a
	// queue that parses its dead letters.
	msgs[0].Payload = []byte("3:a,b:,\x00")
	died := make(map[string]time.Time, n)
	for i, m := range msgs {
		died[m.ID] = pruneEpoch.Add(time.Duration(i) * time.Hour)
	}
	rec := newRecorder(n)
	c := start(t, q, topic, func(_ context.Context, m queue.Message) error {
		clock.Set(died[m.ID])
		rec.add(m)
		return queue.Permanent(errors.New("no such user"))
	}, queue.ConsumeOptions{Concurrency: 1, VisibilityTimeout: time.Minute})
	publish(t, q, topic, 10, msgs...)
	rec.wait(t)
	c.stop(t)
	dls := deadLetters(t, q, topic, 0)
	require.Len(t, dls, n)
	for i, dl := range dls {
		want := msgs[n-1-i]
		require.Equal(t, want.ID, dl.Message.ID, "newest first")
		require.True(t, died[want.ID].Equal(dl.FailedAt), "%s died at %s, stamped %s", want.ID, died[want.ID], dl.FailedAt)
	}
}

// prune calls PruneDeadLetters and requires it to succeed.
func prune(t *testing.T, q queue.Queue, topic string, before time.Time, limit int) int {
	t.Helper()
	n, err := q.PruneDeadLetters(context.Background(), topic, before, limit)
	require.NoError(t, err)
	return n
}

// deadIDs lists the IDs of a topic's dead letters, newest first.
func deadIDs(t *testing.T, q queue.Queue, topic string) []string {
	t.Helper()
	var ids []string
	for _, dl := range deadLetters(t, q, topic, 0) {
		ids = append(ids, dl.Message.ID)
	}
	return ids
}

func testPruneOldestFirst(t *testing.T, q queue.Queue, clock *testclock.Clock) {
	buryHourly(t, q, clock, "orders", "p", 5) // p-0 died at the epoch, p-4 four hours later
	hour := time.Hour

	require.Zero(t, prune(t, q, "orders", pruneEpoch, 10), "a letter that died at the cutoff is kept")
	require.Zero(t, prune(t, q, "orders", pruneEpoch.Add(-hour), 10))
	require.Len(t, deadIDs(t, q, "orders"), 5)

	require.Equal(t, 2, prune(t, q, "orders", pruneEpoch.Add(2*hour), 10), "p-0 and p-1 died before")
	require.Equal(t, []string{"p-4", "p-3", "p-2"}, deadIDs(t, q, "orders"))

	require.Equal(t, 1, prune(t, q, "orders", pruneEpoch.Add(2*hour+time.Millisecond), 10),
		"p-2 died a millisecond before")
	require.Equal(t, []string{"p-4", "p-3"}, deadIDs(t, q, "orders"))

	later := pruneEpoch.Add(24 * hour)
	require.Equal(t, 1, prune(t, q, "orders", later, 1), "one batch deletes at most limit, the oldest")
	require.Equal(t, []string{"p-4"}, deadIDs(t, q, "orders"))
	require.Equal(t, 1, prune(t, q, "orders", later, 1))
	require.Zero(t, prune(t, q, "orders", later, 1), "none left")
	require.Empty(t, deadIDs(t, q, "orders"))
}

func testPruneOnlyDeadLetters(t *testing.T, q queue.Queue, clock *testclock.Clock) {
	buryHourly(t, q, clock, "orders", "o", 2)
	buryHourly(t, q, clock, "alerts", "a", 2)
	publish(t, q, "orders", 10, queue.Message{ID: "waiting"})
	later := pruneEpoch.Add(24 * time.Hour)

	require.Zero(t, prune(t, q, "never-used", later, 10), "a topic without dead letters")
	require.Equal(t, 2, prune(t, q, "orders", later, 10))
	require.Empty(t, deadIDs(t, q, "orders"))
	requireDepth(t, q, "orders", 1)
	require.Equal(t, []string{"a-1", "a-0"}, deadIDs(t, q, "alerts"), "another topic's letters stay")
}

func testPruneRefuses(t *testing.T, q queue.Queue, clock *testclock.Clock) {
	ctx := context.Background()
	buryHourly(t, q, clock, "orders", "r", 1)
	later := pruneEpoch.Add(time.Hour)
	for _, limit := range []int{0, -1} {
		n, err := q.PruneDeadLetters(ctx, "orders", later, limit)
		require.Error(t, err, "limit %d", limit)
		require.Zero(t, n)
	}
	_, err := q.PruneDeadLetters(ctx, "", later, 10)
	require.Error(t, err)
	require.Len(t, deadIDs(t, q, "orders"), 1, "nothing deleted by a refused call")

	require.NoError(t, q.Close())
	_, err = q.PruneDeadLetters(ctx, "orders", later, 10)
	require.ErrorIs(t, err, queue.ErrClosed)
}
