package outbox

import (
	"context"
	"time"
)

// InstancePruner is the part of the flow store that deletes what finished
// flow instances leave behind. Like Pruner's methods, each call deletes one
// batch of at most limit rows, oldest first, in a short transaction of its
// own, and reports how many it deleted; a running instance and its cards
// are never touched.
type InstancePruner interface {
	// PruneInstances deletes up to limit instances that finished before
	// before, with everything keyed by their ids (tasks, audit, timers, sent
	// outbox messages, card records, order links), and counts the
	// instances.
	PruneInstances(ctx context.Context, before time.Time, limit int) (int, error)
	// PruneCards deletes up to limit card records of instances finished
	// before before, and of posts (cards about no instance, a digest) last
	// written before it.
	PruneCards(ctx context.Context, before time.Time, limit int) (int, error)
}

// InstanceBatch is the most instances one PruneInstances batch deletes: each
// takes its tasks, audit rows and cards with it, a few dozen rows apiece.
const InstanceBatch = 500

// RetentionTables returns the prune tables of store's finished instances
// (kept for instances) and of their card records (kept for cards), for
// PruneOptions.Tables. A retention of 0 keeps them forever: its table is
// left out.
func RetentionTables(store InstancePruner, instances, cards time.Duration) []PruneTable {
	var tables []PruneTable
	if cards > 0 {
		// Cards first: with a shorter retention they go before their
		// instance, which then has fewer rows to take along.
		tables = append(tables, PruneTable{Name: "bot_cards", Retention: cards, Prune: store.PruneCards})
	}
	if instances > 0 {
		tables = append(tables, PruneTable{Name: "instances", Retention: instances, Prune: store.PruneInstances,
			BatchSize: InstanceBatch})
	}
	return tables
}
