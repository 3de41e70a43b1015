package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
)

// The races of the Orders group: 16 goroutines released together (see
// race), as several servers would ingest one platform's pushes and its
// retries.

func testOrderEventRace(t *testing.T, s orders.Store, rows func(table string) int64) {
	const n = 16
	for round := range 4 {
		key := orders.Order{Platform: "douyin", Shop: "shop-r", No: fmt.Sprint("69000000000000000", round)}
		events := make([]orders.Event, n)
		firsts := make([]bool, n)
		got := make([]orders.Order, n)
		errs := race(n, func(i int) error {
			// One id, each retry with its own paid amount, so the order
			// tells whose event was applied.
			events[i] = thinEvent(fmt.Sprint("douyin/msg-", round), orders.EventPaid, key, orders.StatusPaid, "2",
				orders.Money(100*(i+1)), BaseTime)
			var err error
			firsts[i], got[i], err = s.IngestOrderEvent(t.Context(), "douyin", events[i])
			return err
		})
		won := winner(t, firstErrors(errs, firsts), errNotFirst)
		for i := range n {
			RequireOrder(t, events[won].Order, got[i]) // everyone is answered with the winner's order
		}
		requireOrdersByNo(t, s, key.No, events[won].Order)
		recorded := unrouted(t, s, 100)
		require.Len(t, recorded, round+1, "round %d: one event recorded", round)
		RequireStoredEvent(t, "douyin", events[won], events[won].Order, recorded[round])
	}
	require.Equal(t, int64(4), rows("order_events"))
	require.Equal(t, int64(4), rows("orders"))
}

func testOrderMergeRace(t *testing.T, s orders.Store) {
	const n = 16
	// Each round, n events with shuffled times race on one order. A store
	// that merges an event over an order another event has replaced since
	// it was read (a lost update) ends with an older order than the newest
	// event's whenever a slower writer of an older event commits last.
	tests := []struct {
		name string
		// full: every event is a detail of an order not stored yet (the
		// newest detail must stay); otherwise every event is a thin push
		// on a stored order (the latest push's time must stay, since Merge
		// keeps the later of the order's and the push's).
		full bool
	}{
		{name: "details of a new order: the newest stays", full: true},
		{name: "pushes on a stored order: the latest time stays", full: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for round := range 4 {
				no := fmt.Sprintf("race-%t-%d", tc.full, round)
				stored := NewOrder("douyin", "shop-r", no, BaseTime)
				if !tc.full {
					mustIngest(t, s, "douyin", detailEvent("seed/"+no, stored), true)
				}
				times := rand.Perm(n)
				latest := -1
				events := make([]orders.Event, n)
				for i := range n {
					at, paid := At(time.Duration(times[i]+1)*time.Second), orders.Money(100*(times[i]+1))
					id := fmt.Sprint(no, "/", i)
					if tc.full {
						o := NewOrder("douyin", "shop-r", no, at)
						o.Paid = paid
						events[i] = detailEvent(id, o)
					} else {
						events[i] = thinEvent(id, orders.EventChanged, stored, "", "", paid, at)
					}
					if times[i] == n-1 {
						latest = i
					}
				}
				got := make([]orders.Order, n)
				errs := race(n, func(i int) error {
					first, o, err := s.IngestOrderEvent(t.Context(), "douyin", events[i])
					if err == nil && !first {
						err = errors.New("an event of its own id was not first")
					}
					got[i] = o
					return err
				})
				for i, err := range errs {
					require.NoError(t, err, "round %d, event %d", round, i)
					// The order after an event is never older than the event.
					require.False(t, got[i].UpdatedAt.Before(events[i].At), "round %d, event %d", round, i)
					if !tc.full {
						require.Equal(t, events[i].Order.Paid, got[i].Paid, "round %d: a push moves the paid amount", round)
					}
				}

				list, err := s.OrdersByNo(t.Context(), no)
				require.NoError(t, err)
				require.Len(t, list, 1)
				final := list[0]
				if tc.full {
					RequireOrder(t, events[latest].Order, final)
				} else {
					updated := final.UpdatedAt
					requireInstant(t, fmt.Sprintf("round %d: UpdatedAt", round), events[latest].At, &updated)
					// And the stored order is the one after the event
					// applied last: the one whose paid amount it has.
					last := -1
					for i := range n {
						if got[i].Paid == final.Paid {
							last = i
						}
					}
					require.NotEqual(t, -1, last, "round %d: paid %d is no event's", round, final.Paid)
					RequireOrder(t, got[last], final)
				}

				var recorded int
				for _, e := range unrouted(t, s, 1000) {
					if e.Event.Order.No == no {
						recorded++
					}
				}
				require.Equal(t, n+btoi(!tc.full), recorded, "round %d: every event recorded", round)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
