package postgres

import (
	"context"
	"sync"
	"time"
)

// A group looks its keys up with one statement, written as
//
//	FROM unnest($1, $2) AS k(a, b) CROSS JOIN LATERAL (SELECT … WHERE a = k.a AND b = k.b OFFSET 0)
//
// and not as a join of the table with unnest: the OFFSET 0 keeps the planner
// from flattening the subquery into a join it may plan as a hash join over
// a sequential scan. Such a plan is what PostgreSQL caches for a prepared
// statement first run on a table that is still small and never analysed (a
// new installation, a benchmark): measured on the order events, every group
// then read the whole table, 12 million rows read for 21,000 events. The
// lateral form can only run as one index scan per key.
//
// batches runs one kind of group work (order events, changes, card records,
// card reads): workers that each take a request, then whatever else is
// waiting, up to a group, and handle them together. A group is what gathers
// while the previous group of its worker is handled, so a lone request goes
// at once and a burst groups itself. The workers start on first use.
type batches[R any] struct {
	workers, max int
	// timeout bounds the handling of one group, whatever its callers'
	// contexts: one that gives up neither aborts the others nor leaves
	// the outcome of its own request unknown to the worker.
	timeout time.Duration
	handle  func(ctx context.Context, group []R)

	once, stopOnce sync.Once
	reqs           chan R
	stop           chan struct{}
	wg             sync.WaitGroup
}

func newBatches[R any](workers, max int, timeout time.Duration, handle func(context.Context, []R)) *batches[R] {
	return &batches[R]{workers: workers, max: max, timeout: timeout, handle: handle}
}

// send hands r to a worker. It reports false when the workers have
// stopped (the store is closed), or ctx's error when it ended first.
func (b *batches[R]) send(ctx context.Context, r R) (bool, error) {
	b.once.Do(func() {
		b.reqs, b.stop = make(chan R), make(chan struct{})
		for range b.workers {
			b.wg.Go(b.work)
		}
	})
	select {
	case b.reqs <- r:
		return true, nil
	case <-b.stop:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (b *batches[R]) work() {
	for {
		var group []R
		select {
		case r := <-b.reqs:
			group = append(group, r)
		case <-b.stop:
			return
		}
	fill:
		for len(group) < b.max {
			select {
			case r := <-b.reqs:
				group = append(group, r)
			default:
				break fill
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
		b.handle(ctx, group)
		cancel()
	}
}

// stillWanted returns the requests of group whose callers still wait, and
// answers the others, gone before their group began, with their context's
// error through gone: nothing of theirs is written.
func stillWanted[R any](group []R, ctxOf func(R) context.Context, gone func(R, error)) []R {
	live := make([]R, 0, len(group))
	for _, r := range group {
		if err := ctxOf(r).Err(); err != nil {
			gone(r, err)
			continue
		}
		live = append(live, r)
	}
	return live
}

// close stops the workers once the groups they hold are handled; a send
// after it reports false.
func (b *batches[R]) close() {
	b.once.Do(func() { b.stop = make(chan struct{}) })
	b.stopOnce.Do(func() { close(b.stop) })
	b.wg.Wait()
}
