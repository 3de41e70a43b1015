package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"cardflow/flows"
	"cardflow/storage/internal/batch"
)

// Instance reads in groups. A decision on an instance the engine does not
// keep (a click hours after its card went out, or on another server
// instance) reads the instance first; under load many do at once, and a
// round trip each costs both processes more than the read. Instance hands
// its read to the instanceReads workers, which answer what waits with one
// query. As with card reads, the query starts after every read in it was
// asked for, so each sees every change committed before its caller asked.
const (
	maxInstanceReadGroup = 64
	instanceReadWorkers  = 2
	instanceReadTimeout  = 10 * time.Second
)

type instanceReadReq struct {
	ctx  context.Context
	id   string
	done chan instanceReadResult // buffered: a worker never blocks on it
}

type instanceReadResult struct {
	in  flows.Instance
	err error // pgx.ErrNoRows when there is no such instance
}

// sqlInstances reads the instances of a list of ids, one index scan each
// (see the package comment).
const sqlInstances = `SELECT i.* FROM unnest($1::text[]) AS k(id)
	CROSS JOIN LATERAL (SELECT ` + instanceColumns + ` FROM instances WHERE id = k.id OFFSET 0) AS i`

// Instance returns one instance; flows.ErrNotFound if there is none.
func (s *Store) Instance(ctx context.Context, id string) (flows.Instance, error) {
	r := &instanceReadReq{ctx: ctx, id: id, done: make(chan instanceReadResult, 1)}
	var res instanceReadResult
	switch sent, err := s.instanceReads.Send(ctx, r); {
	case err != nil:
		res.err = err
	case !sent:
		res.in, res.err = s.instanceAlone(ctx, id) // closed: it meets the closed pool's error
	default:
		res = <-r.done
	}
	if res.err != nil {
		return flows.Instance{}, fail(notFound(res.err), "instance %s", id)
	}
	return res.in, nil
}

func (s *Store) instanceAlone(ctx context.Context, id string) (flows.Instance, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+instanceColumns+` FROM instances WHERE id = $1`, id)
	return pgx.CollectExactlyOneRow(rows, scanInstance)
}

// readInstanceGroup answers the reads of group with one query.
func (s *Store) readInstanceGroup(ctx context.Context, group []*instanceReadReq) {
	live := batch.StillWanted(group, func(r *instanceReadReq) context.Context { return r.ctx },
		func(r *instanceReadReq, err error) { r.done <- instanceReadResult{err: err} })
	if len(live) == 1 {
		in, err := s.instanceAlone(ctx, live[0].id)
		live[0].done <- instanceReadResult{in: in, err: err}
		return
	}
	ids := make([]string, len(live))
	for i, r := range live {
		ids[i] = r.id
	}
	rows, _ := s.pool.Query(ctx, sqlInstances, ids)
	list, err := pgx.CollectRows(rows, scanInstance)
	found := make(map[string]flows.Instance, len(list))
	for _, in := range list {
		found[in.ID] = in
	}
	for _, r := range live {
		in, ok := found[r.id]
		switch {
		case err != nil:
			r.done <- instanceReadResult{err: err}
		case !ok:
			r.done <- instanceReadResult{err: pgx.ErrNoRows}
		default:
			r.done <- instanceReadResult{in: in}
		}
	}
}
