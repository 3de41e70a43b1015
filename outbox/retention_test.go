package outbox

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeInstancePruner holds finished instances and card records as the time
// they finished.
type fakeInstancePruner struct {
	*fakePruner
	instances, cards []time.Time
}

func (f *fakeInstancePruner) PruneInstances(_ context.Context, before time.Time, limit int) (int, error) {
	return f.prune("instances", &f.instances, before, limit)
}

func (f *fakeInstancePruner) PruneCards(_ context.Context, before time.Time, limit int) (int, error) {
	return f.prune("bot_cards", &f.cards, before, limit)
}

func TestRetentionTables(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name             string
		instances, cards time.Duration
		want             []string // tables pruned, in order
	}{
		{name: "both", instances: 365 * day, cards: 30 * day, want: []string{"bot_cards", "instances"}},
		{name: "instances kept forever", cards: 30 * day, want: []string{"bot_cards"}},
		{name: "cards kept with their instance", instances: 365 * day, want: []string{"instances"}},
		{name: "everything kept forever"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeInstancePruner{fakePruner: newFakePruner()}
			var names []string
			for _, table := range RetentionTables(f, tc.instances, tc.cards) {
				names = append(names, table.Name)
			}
			require.Equal(t, tc.want, names)
		})
	}
}

// TestRetentionBatches: finished instances go InstanceBatch at a time, card
// records in the loop's batches, each past its own retention.
func TestRetentionBatches(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	f := &fakeInstancePruner{fakePruner: newFakePruner()}
	for range InstanceBatch + 10 {
		f.instances = append(f.instances, now.Add(-400*day))
	}
	f.instances = append(f.instances, now.Add(-300*day)) // within the year
	for range 5 {
		f.cards = append(f.cards, now.Add(-40*day))
	}
	f.cards = append(f.cards, now.Add(-20*day)) // within the month
	l := NewPruneLoop(f, PruneOptions{Holder: "a", BatchSize: 2, Now: func() time.Time { return now },
		Tables: RetentionTables(f, 365*day, 30*day)})

	res, err := l.Prune(t.Context())
	require.NoError(t, err)
	require.Equal(t, map[string]int{"bot_cards": 5, "instances": InstanceBatch + 10}, res.Tables)
	require.Len(t, f.instances, 1)
	require.Len(t, f.cards, 1)
	var instanceCalls, cardCalls []pruneCall
	for _, c := range f.calls {
		switch c.table {
		case "instances":
			instanceCalls = append(instanceCalls, c)
		case "bot_cards":
			cardCalls = append(cardCalls, c)
		}
	}
	cutoff := now.Add(-365 * day)
	require.Equal(t, []pruneCall{{"instances", cutoff, InstanceBatch}, {"instances", cutoff, InstanceBatch}}, instanceCalls)
	require.Len(t, cardCalls, 3, "batches of 2 until one comes back short")
	require.Equal(t, pruneCall{"bot_cards", now.Add(-30 * day), 2}, cardCalls[0])
}
