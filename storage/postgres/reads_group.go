package postgres

import (
	"context"
	"time"

	"cardflow/storage/internal/batch"
)

// Reads of one row by its key that arrive together are answered by one
// query (the card reads, cards_group.go; the instance reads,
// instances_group.go). The query starts after every read in it was asked
// for, so each sees every write committed before its caller asked, as a
// read of its own would.

// readReq is a read of the row under key, answered on done.
type readReq[K comparable, V any] struct {
	ctx  context.Context
	key  K
	done chan readResult[V] // buffered: a worker never blocks on it
}

type readResult[V any] struct {
	v   V
	err error
}

// keyedReads reads one kind of row through its group workers: alone by
// its key, and many by theirs in one query (rows for keys with none are
// missing, in any order); key gives a row's key, and missing is the error
// of a key with no row.
type keyedReads[K comparable, V any] struct {
	alone   func(ctx context.Context, key K) (V, error)
	many    func(ctx context.Context, keys []K) ([]V, error)
	key     func(V) K
	missing error
	batches *batch.Batches[*readReq[K, V]]
}

// newKeyedReads returns the reads of k.alone, k.many, k.key and k.missing
// through up to workers groups at once, each of at most max reads and
// answered within timeout.
func newKeyedReads[K comparable, V any](k keyedReads[K, V], workers, max int, timeout time.Duration) *keyedReads[K, V] {
	k.batches = batch.New(workers, max, timeout, k.answer)
	return &k
}

// close stops the workers.
func (k *keyedReads[K, V]) close() { k.batches.Close() }

// read reads the row under key through a group.
func (k *keyedReads[K, V]) read(ctx context.Context, key K) (V, error) {
	r := &readReq[K, V]{ctx: ctx, key: key, done: make(chan readResult[V], 1)}
	sent, err := k.batches.Send(ctx, r)
	switch {
	case err != nil:
		var zero V
		return zero, err
	case !sent:
		return k.alone(ctx, key) // closed: it meets the closed pool's error
	}
	res := <-r.done
	return res.v, res.err
}

// answer answers the reads of group: a lone one alone, several with one
// query.
func (k *keyedReads[K, V]) answer(ctx context.Context, group []*readReq[K, V]) {
	live := batch.StillWanted(group, func(r *readReq[K, V]) context.Context { return r.ctx },
		func(r *readReq[K, V], err error) { r.done <- readResult[V]{err: err} })
	if len(live) == 1 {
		v, err := k.alone(ctx, live[0].key)
		live[0].done <- readResult[V]{v: v, err: err}
		return
	}
	keys := make([]K, len(live))
	for i, r := range live {
		keys[i] = r.key
	}
	list, err := k.many(ctx, keys)
	found := make(map[K]V, len(list))
	for _, v := range list {
		found[k.key(v)] = v
	}
	for _, r := range live {
		v, ok := found[r.key]
		switch {
		case err != nil:
			r.done <- readResult[V]{err: err}
		case !ok:
			r.done <- readResult[V]{err: k.missing}
		default:
			r.done <- readResult[V]{v: v}
		}
	}
}
