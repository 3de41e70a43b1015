// Package batch groups a store's concurrent requests of one kind so that a
// group goes to the database as one statement or one transaction: the
// PostgreSQL store's order events, changes, card records and card reads.
package batch

import (
	"context"
	"sync"
	"time"
)

// Batches runs one kind of group work (order events, changes, card
// records, card reads): workers that each take a request, then whatever
// else is waiting, up to a group, and handle them together. A group is what
// gathers while the previous group of its worker is handled, so a lone
// request goes at once and a burst groups itself. The workers start on
// first use.
type Batches[R any] struct {
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

// New returns the batches of handle: up to workers groups at once, each of
// at most max requests and handled within timeout.
func New[R any](workers, max int, timeout time.Duration, handle func(context.Context, []R)) *Batches[R] {
	return &Batches[R]{workers: workers, max: max, timeout: timeout, handle: handle}
}

// Send hands r to a worker. It reports false when the workers have
// stopped (the store is closed), or ctx's error when it ended first.
func (b *Batches[R]) Send(ctx context.Context, r R) (bool, error) {
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

func (b *Batches[R]) work() {
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

// StillWanted returns the requests of group whose callers still wait, and
// answers the others, gone before their group began, with their context's
// error through gone: nothing of theirs is written.
func StillWanted[R any](group []R, ctxOf func(R) context.Context, gone func(R, error)) []R {
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

// Close stops the workers once the groups they hold are handled; a send
// after it reports false.
func (b *Batches[R]) Close() {
	b.once.Do(func() { b.stop = make(chan struct{}) })
	b.stopOnce.Do(func() { close(b.stop) })
	b.wg.Wait()
}
