package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"cardflow/flows"
	"cardflow/storage/internal/batch"
)

// Group commit of changes. Every Apply is one pipelined batch, but on a
// small machine what a transaction costs is mostly not its statements: it
// is the round trip, the commit and the wake-ups of both processes around
// them (pgbench's pipelined "flow transition" runs 2.5–3× as many changes a
// second when four share a transaction). So Apply hands its change to
// the applies batches (storage/internal/batch), and a group of changes goes as ONE
// batch: one implicit transaction, one commit.
//
// A change must fail only for a reason of its own, as if it had run alone.
// A batch stops at its first failing statement and nothing of it commits;
// the failing statement names the change. When that change is the group's
// first, the error is its own (nothing ran before it in that transaction):
// it is answered with it and the others go again without it. When it is a
// later one, the changes before it go again as a group and the failing one
// and those after it as the next, where it is first: so every error
// answered comes from a transaction in which its change ran first, and a
// version check, task guard or idempotency key fails exactly when it would
// have alone. A change sees those before it in its group as committed,
// which is the order they are committed in.
//
// The changes of a group are ordered by instance id, so two groups lock
// instances in the same order and do not deadlock on them. Every caller is
// answered after its group's commit; one that stopped waiting before its
// group began is answered with its context's error and nothing of it is
// written.
const (
	maxApplyGroup = 32
	applyWorkers  = 2
	// applyTimeout bounds one group's transactions, whatever the callers'
	// contexts: a caller whose change is being committed waits for the
	// outcome, so that an error keeps meaning "nothing was written".
	applyTimeout = 30 * time.Second
)

type applyReq struct {
	ctx  context.Context
	c    flows.Change
	done chan applyResult // buffered: a worker never blocks on it
}

type applyResult struct {
	applied flows.Applied
	err     error
}

// applyGrouped commits c through a group and returns the raw database
// error; Apply maps it.
func (s *Store) applyGrouped(ctx context.Context, c flows.Change) (flows.Applied, error) {
	r := &applyReq{ctx: ctx, c: c, done: make(chan applyResult, 1)}
	sent, err := s.applies.Send(ctx, r)
	switch {
	case err != nil:
		return flows.Applied{}, err
	case !sent:
		// Closed: alone, the change meets the closed pool's error.
		return s.applyAloneTx(ctx, c)
	}
	res := <-r.done
	return res.applied, res.err
}

// applyGroup commits the changes of group, splitting it where a change
// fails (see the comment at the top), and answers every request.
func (s *Store) applyGroup(ctx context.Context, group []*applyReq) {
	live := batch.StillWanted(group, func(r *applyReq) context.Context { return r.ctx },
		func(r *applyReq, err error) { r.done <- applyResult{err: err} })
	slices.SortStableFunc(live, func(a, b *applyReq) int { return cmp.Compare(instanceOf(a.c), instanceOf(b.c)) })
	todo := [][]*applyReq{live}
	for len(todo) > 0 {
		run := todo[0]
		todo = todo[1:]
		if len(run) == 0 {
			continue
		}
		applied, failed, err := s.commitRun(ctx, run)
		switch {
		case err == nil:
			for i, r := range run {
				r.done <- applyResult{applied: applied[i]}
			}
		case failed < 0:
			// Not one change's fault (the connection, the commit):
			// nothing of the run was written, and each is told so.
			for _, r := range run {
				r.done <- applyResult{err: err}
			}
		case failed == 0 && (len(run) == 1 || !isDeadlock(err)):
			run[0].done <- applyResult{err: err}
			todo = append([][]*applyReq{run[1:]}, todo...)
		case failed == 0:
			// A deadlock with another transaction is no fault of the first
			// change: it goes again alone, where a second one is its own.
			todo = append([][]*applyReq{run[:1], run[1:]}, todo...)
		default:
			todo = append([][]*applyReq{run[:failed], run[failed:]}, todo...)
		}
	}
}

// commitRun sends the changes of run as one batch. On an error, failed is
// the index of the change whose statement failed in the database, or -1
// when the error is not a statement's (the connection, the commit).
func (s *Store) commitRun(ctx context.Context, run []*applyReq) (applied []flows.Applied, failed int, err error) {
	applied = make([]flows.Applied, len(run))
	b := &pgx.Batch{}
	owner := make([]int, 0, 16) // owner[i]: the change queued statement i
	for i, r := range run {
		queueChange(b, r.c, &applied[i])
		for len(owner) < b.Len() {
			owner = append(owner, i)
		}
	}
	if b.Len() == 0 {
		return applied, -1, nil
	}
	at := -1
	for i, q := range b.QueuedQueries {
		fn := q.Fn
		q.Fn = func(br pgx.BatchResults) error {
			var err error
			if fn != nil {
				err = fn(br)
			} else {
				_, err = br.Exec()
			}
			if err != nil && at < 0 {
				at = i
			}
			return err
		}
	}
	err = s.pool.SendBatch(ctx, b).Close()
	var pgErr *pgconn.PgError
	if err == nil || at < 0 || !errors.As(err, &pgErr) {
		return applied, -1, err
	}
	return applied, owner[at], err
}

// instanceOf is the id a change locks first, "" for none.
func instanceOf(c flows.Change) string {
	if c.Instance == nil {
		return ""
	}
	return c.Instance.ID
}

// isDeadlock reports PostgreSQL's deadlock_detected.
func isDeadlock(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40P01"
}
