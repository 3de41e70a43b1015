package postgres

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/storage/postgres/pgtest"
)

// TestIngestGroupsKeepEveryEvent sends a burst that the ingest workers
// group: 32 orders × 8 versions, every event twice, from 64 goroutines.
// Each event is first exactly once, every order ends at its newest
// version whatever the arrival order, and each event records the order as
// it stood after it.
func TestIngestGroupsKeepEveryEvent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, pgtest.SchemaDSN(t), Options{Migrate: true, MaxConns: 8})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	base := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	var events []orders.Event
	for o := range 32 {
		for v := range 8 {
			ord := orders.Order{Platform: "jd", Shop: "s1", No: fmt.Sprintf("G-%02d", o), Status: orders.StatusPaid,
				Paid: orders.Money(100 * (v + 1)), Total: orders.Money(100 * (v + 1)), CreatedAt: base,
				UpdatedAt: base.Add(time.Duration(v) * time.Minute),
				Lines:     []orders.Line{{SKU: "SKU-1", Qty: int64(v + 1), Price: 100}}}
			events = append(events, orders.Event{ID: fmt.Sprintf("G-%02d/v%d", o, v), Kind: orders.EventChanged,
				Order: ord, Full: true, At: ord.UpdatedAt})
		}
	}
	var firsts sync.Map
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < 2*len(events); i = int(next.Add(1) - 1) {
				// Odd rounds go backwards: versions arrive out of order.
				e := events[i%len(events)]
				if i >= len(events) {
					e = events[len(events)-1-i%len(events)]
				}
				first, _, err := s.IngestOrderEvent(ctx, "jd-push", e)
				require.NoError(t, err)
				if first {
					_, dup := firsts.LoadOrStore(e.ID, true)
					require.False(t, dup, "%s first twice", e.ID)
				}
			}
		})
	}
	wg.Wait()
	n := 0
	firsts.Range(func(any, any) bool { n++; return true })
	require.Equal(t, len(events), n, "every event first once")
	for o := range 32 {
		got, err := s.OrdersByNo(ctx, fmt.Sprintf("G-%02d", o))
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, orders.Money(800), got[0].Paid, "the newest version stands")
	}
	var rows, withAfter int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT count(*), count(order_after) FROM order_events`).Scan(&rows, &withAfter))
	require.Equal(t, len(events), rows)
	require.Equal(t, rows, withAfter)
}
