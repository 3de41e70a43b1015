package queue

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMemoryFreesHandledMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	var offset atomic.Int64
	clock := func() time.Time { return now.Add(time.Duration(offset.Load())) }
	q := NewMemory(MemoryOptions{DedupeWindow: time.Minute, Now: clock})
	defer q.Close()

	const n = 1000
	handled := make(chan struct{}, n)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(cctx, "orders", func(context.Context, Message) error {
			handled <- struct{}{}
			return nil
		}, ConsumeOptions{})
	}()
	for i := range n {
		require.NoError(t, q.Publish(ctx, "orders", Message{ID: fmt.Sprint(i), Payload: make([]byte, 1024)}))
	}
	for range n {
		<-handled
	}
	cancel()
	require.NoError(t, <-done)

	tp := q.topic("orders")
	tp.mu.Lock()
	require.Zero(t, tp.ready.len())
	require.LessOrEqual(t, len(tp.ready.items), 64, "consumed prefix reclaimed")
	require.Zero(t, tp.inflight.Len())
	require.Zero(t, tp.delayed.Len())
	require.Len(t, tp.marks.until, n, "marks kept within the window")
	tp.mu.Unlock()

	offset.Store(int64(2 * time.Minute))
	require.NoError(t, q.Publish(ctx, "orders", Message{ID: "late"}))
	go func() {
		done <- q.Consume(ctx, "orders", func(context.Context, Message) error {
			handled <- struct{}{}
			return nil
		}, ConsumeOptions{})
	}()
	<-handled
	require.NoError(t, q.Close())
	require.ErrorIs(t, <-done, ErrClosed)
	tp.mu.Lock()
	defer tp.mu.Unlock()
	require.Len(t, tp.marks.until, 1, "expired marks forgotten")
	require.Equal(t, 1, tp.marks.order.len())
}

func TestMarks(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		adds  []time.Duration // offsets from t0 at which "x" is marked
		check time.Duration
		want  bool
	}{
		{name: "fresh mark holds", adds: []time.Duration{0}, check: 59 * time.Second, want: true},
		{name: "mark expires after the window", adds: []time.Duration{0}, check: time.Minute, want: false},
		{name: "renewed mark outlives its first expiry", adds: []time.Duration{0, 30 * time.Second}, check: 61 * time.Second, want: true},
		{name: "renewed mark expires in turn", adds: []time.Duration{0, 30 * time.Second}, check: 90 * time.Second, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var m marks
			for _, at := range tt.adds {
				m.add("x", t0.Add(at), time.Minute)
			}
			m.prune(t0.Add(tt.check))
			require.Equal(t, tt.want, m.has("x", t0.Add(tt.check)))
			_, kept := m.until["x"]
			require.Equal(t, tt.want, kept, "pruned exactly when expired")
		})
	}
}

func TestFIFOReclaimsConsumedPrefix(t *testing.T) {
	t.Parallel()
	var q fifo[int]
	for i := range 1000 {
		q.push(i)
		if i%3 == 2 { // consume slower than producing, so the queue never empties
			require.Equal(t, i/3, q.pop())
		}
	}
	require.Equal(t, 1000-333, q.len())
	require.Less(t, q.head, 64+q.len(), "the consumed prefix does not grow without bound")
	for want := 333; q.len() > 0; want++ {
		require.Equal(t, want, q.pop())
	}
	require.Empty(t, q.items)
}
