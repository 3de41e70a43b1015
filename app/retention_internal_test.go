package app

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/queue"
)

// countingQueue holds a number of old dead letters per topic and records
// every PruneDeadLetters call as topic and limit.
type countingQueue struct {
	queue.Queue
	old   map[string]int
	fail  string // topic whose prune fails
	calls []string
}

func (q *countingQueue) PruneDeadLetters(_ context.Context, topic string, _ time.Time, limit int) (int, error) {
	q.calls = append(q.calls, topic+":"+strconv.Itoa(limit))
	if topic == q.fail {
		return 0, errors.New("redis down")
	}
	n := min(limit, q.old[topic])
	q.old[topic] -= n
	return n, nil
}

// TestPruneDeadLettersSharesTheBatch: one batch deletes at most limit over
// all topics, asking each only for the room left, so a short batch means
// every topic is done.
func TestPruneDeadLettersSharesTheBatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		old     map[string]int
		fail    string
		limit   int
		batches []int    // what successive batches return, the last one short
		calls   []string // topic:limit of every call, in order
		wantErr bool
	}{
		{name: "one batch spans the topics", old: map[string]int{"a": 2, "b": 1}, limit: 10,
			batches: []int{3}, calls: []string{"a:10", "b:8"}},
		{name: "batches of one go topic after topic", old: map[string]int{"a": 2, "b": 1}, limit: 1,
			batches: []int{1, 1, 1, 0},
			calls:   []string{"a:1", "a:1", "a:1", "b:1", "a:1", "b:1"}},
		{name: "a full batch stops before the next topic", old: map[string]int{"a": 5, "b": 1}, limit: 5,
			batches: []int{5, 1}, calls: []string{"a:5", "a:5", "b:5"}},
		{name: "a failing topic fails the batch with what was deleted", old: map[string]int{"a": 1}, fail: "b", limit: 5,
			batches: []int{1}, calls: []string{"a:5", "b:4"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := &countingQueue{old: tc.old, fail: tc.fail}
			prune := pruneDeadLetters(q, "a", "b")
			for i, want := range tc.batches {
				n, err := prune(t.Context(), time.Now(), tc.limit)
				require.Equal(t, want, n, "batch %d", i)
				if tc.wantErr {
					require.Error(t, err)
					continue
				}
				require.NoError(t, err)
			}
			require.Equal(t, tc.calls, q.calls)
		})
	}
}
