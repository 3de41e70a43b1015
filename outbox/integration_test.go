package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/outbox"
	"cardflow/queue"
	"cardflow/storage/sqlite"
	"cardflow/storage/storetest"
)

// flakyMark is a real store whose MarkOutboxSent fails the first time: the
// relay has published but cannot record it, as when the process dies between
// the two.
type flakyMark struct {
	flows.Store
	mu    sync.Mutex
	fails int
}

func (f *flakyMark) MarkOutboxSent(ctx context.Context, seqs []int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return errors.New("connection reset")
	}
	return f.Store.MarkOutboxSent(ctx, seqs)
}

// TestRelayToQueueActsOnceDespiteRepublish drives the real pieces: changes
// committed to the SQLite store, the relay, the in-process queue and a
// consumer. The first mark fails, so every message is published twice; the
// consumer still handles each exactly once, in commit order per instance.
func TestRelayToQueueActsOnceDespiteRepublish(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cardflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	src := &flakyMark{Store: st, fails: 1}

	const instances, perInstance = 3, 4
	for i := range instances {
		inst := storetest.NewInstance(fmt.Sprintf("inst-%d", i))
		c := storetest.StartChange(inst)
		for j := range perInstance {
			m := storetest.NewOutbox(inst.ID, fmt.Sprintf("inst-%d/msg-%d", i, j))
			m.Topic = "notify"
			c.Outbox = append(c.Outbox, m)
		}
		storetest.MustApply(t, st, c)
	}

	q := queue.NewMemory(queue.MemoryOptions{})
	t.Cleanup(func() { _ = q.Close() })
	relay := outbox.NewRelay(src, q, outbox.Options{Holder: "test"})

	_, err = relay.Pass(ctx)
	require.ErrorContains(t, err, "connection reset")
	n, err := relay.Pass(ctx)
	require.NoError(t, err)
	require.Equal(t, instances*perInstance, n, "the second pass republishes everything")
	count, _, err := st.OutboxBacklog(ctx)
	require.NoError(t, err)
	require.Zero(t, count)

	// A sentinel published after the copies: the consumer handles in order
	// with concurrency 1, so once it sees the sentinel every copy has been
	// either dropped or (wrongly) handled.
	require.NoError(t, q.Publish(ctx, "notify", queue.Message{ID: "sentinel", Payload: []byte("{}")}))
	var mu sync.Mutex
	handled := map[string][]string{} // instance → message ids in handling order
	sawSentinel := make(chan struct{})
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(cctx, "notify", func(_ context.Context, m queue.Message) error {
			if m.ID == "sentinel" {
				close(sawSentinel)
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			handled[m.Key] = append(handled[m.Key], m.ID)
			return nil
		}, queue.ConsumeOptions{Concurrency: 1})
	}()
	select {
	case <-sawSentinel:
	case <-time.After(10 * time.Second):
		t.Fatal("the consumer never reached the sentinel")
	}
	cancel()
	require.NoError(t, <-done)

	mu.Lock()
	defer mu.Unlock()
	for i := range instances {
		var want []string
		for j := range perInstance {
			want = append(want, fmt.Sprintf("inst-%d/msg-%d", i, j))
		}
		require.Equal(t, want, handled[fmt.Sprintf("inst-%d", i)], "each message once, in commit order")
	}
}
