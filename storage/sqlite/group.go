package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"cardflow/flows"
)

// Group commit. SQLite has one writer, and a commit costs as much as the
// statements before it (the WAL frames of every page a transaction dirtied
// are written at commit). So Apply, and the busy small writes of the chat
// side (card records, events, outbox marks), do not take the writer
// themselves: they hand their write to one goroutine that takes every write
// waiting, up to maxGroup, runs each inside its own SAVEPOINT of one
// transaction and commits them together. A write that fails is rolled back
// to its savepoint and fails alone; the others commit. A write sees the ones
// before it in the group as committed, so version checks, task guards and
// idempotency keys hold exactly as with one transaction each. Nothing is
// answered before the commit: a write acknowledged is on disk.
const maxGroup = 64

// applyReq is one write waiting for the writer: run is called inside its
// savepoint, with the request's context.
type applyReq struct {
	ctx  context.Context
	run  func(ctx context.Context, tx *sql.Tx) (flows.Applied, error)
	done chan applyRes
}

type applyRes struct {
	a   flows.Applied
	err error
}

// group is the writer goroutine's state.
type group struct {
	once sync.Once
	reqs chan applyReq
	stop chan struct{}
	wg   sync.WaitGroup
}

// inGroup runs fn as one write of the next group commit and returns its
// error, or the commit's; on an error nothing fn wrote is kept.
func (s *Store) inGroup(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	_, err := s.submit(ctx, func(ctx context.Context, tx *sql.Tx) (flows.Applied, error) {
		return flows.Applied{}, fn(ctx, tx)
	})
	return err
}

// submit queues a write for the writer and waits for its answer.
func (s *Store) submit(ctx context.Context, run func(context.Context, *sql.Tx) (flows.Applied, error)) (flows.Applied, error) {
	s.group.once.Do(func() {
		s.group.reqs, s.group.stop = make(chan applyReq, maxGroup), make(chan struct{})
		s.group.wg.Go(s.writeGroups)
	})
	req := applyReq{ctx: ctx, run: run, done: make(chan applyRes, 1)}
	select {
	case s.group.reqs <- req:
	case <-s.group.stop:
		return flows.Applied{}, errClosed
	case <-ctx.Done():
		return flows.Applied{}, ctx.Err()
	}
	// The writer answers every request it took, even when ctx ends first:
	// waiting here keeps "an error means nothing was written" true.
	res := <-req.done
	return res.a, res.err
}

// errClosed answers a change submitted to a closed store.
var errClosed = errors.New("the store is closed")

// stopGroups ends the writer once the changes it holds are answered.
func (s *Store) stopGroups() {
	if s.group.stop == nil {
		return
	}
	close(s.group.stop)
	s.group.wg.Wait()
}

func (s *Store) writeGroups() {
	for {
		var batch []applyReq
		select {
		case r := <-s.group.reqs:
			batch = append(batch, r)
		case <-s.group.stop:
			s.drain()
			return
		}
	more:
		for len(batch) < maxGroup {
			select {
			case r := <-s.group.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.commitGroup(batch)
		s.restartLog()
	}
}

// drain answers the changes still queued when the store closes.
func (s *Store) drain() {
	for {
		select {
		case r := <-s.group.reqs:
			r.done <- applyRes{err: errClosed}
		default:
			return
		}
	}
}

// commitGroup applies batch in one transaction, one savepoint each.
func (s *Store) commitGroup(batch []applyReq) {
	results := make([]applyRes, len(batch))
	ctx := context.WithoutCancel(batch[0].ctx)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i, r := range batch {
			results[i] = s.applyOne(tx, r)
		}
		return nil
	})
	for i, r := range batch {
		res := results[i]
		if err != nil && res.err == nil {
			// The commit failed: nothing of the group was written.
			res = applyRes{err: err}
		}
		r.done <- res
	}
}

// applyOne runs one write inside a savepoint of the group's transaction.
// A write whose caller is gone before it starts is not run; one that has
// started runs to its end without the caller's context, as a group does on
// PostgreSQL. Its caller waits for the answer anyway, and the driver
// watches a context that can end with a goroutine per statement.
func (s *Store) applyOne(tx *sql.Tx, r applyReq) applyRes {
	if err := r.ctx.Err(); err != nil {
		return applyRes{err: err}
	}
	ctx := context.WithoutCancel(r.ctx)
	if _, err := s.stmt(ctx, tx, qSavepoint).ExecContext(ctx); err != nil {
		return applyRes{err: fmt.Errorf("savepoint: %w", err)}
	}
	a, err := r.run(ctx, tx)
	if err != nil {
		// Undo this change only.
		if _, rerr := s.stmt(ctx, tx, qRollbackTo).ExecContext(ctx); rerr != nil {
			return applyRes{err: errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rerr))}
		}
		if _, rerr := s.stmt(ctx, tx, qRelease).ExecContext(ctx); rerr != nil {
			return applyRes{err: errors.Join(err, fmt.Errorf("release savepoint: %w", rerr))}
		}
		return applyRes{err: err}
	}
	if _, err := s.stmt(ctx, tx, qRelease).ExecContext(ctx); err != nil {
		return applyRes{err: fmt.Errorf("release savepoint: %w", err)}
	}
	return applyRes{a: a}
}
