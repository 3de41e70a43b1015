package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"cardflow/flows"
)

// Instance reads in groups. A decision on an instance the engine does not
// keep (a click hours after its card went out, or on another server
// instance) reads the instance first; under load many do at once, and a
// round trip each costs both processes more than the read. Instance hands
// its read to the instanceReads workers, which answer what waits with one
// query. As with card reads, the query starts after every read in it was
// asked for, so each sees every change committed before its caller asked
// (see reads_group.go).
const (
	maxInstanceReadGroup = 64
	instanceReadWorkers  = 2
	instanceReadTimeout  = 10 * time.Second
)

// sqlInstances reads the instances of a list of ids, one index scan each
// (see the package comment).
const sqlInstances = `SELECT i.* FROM unnest($1::text[]) AS k(id)
	CROSS JOIN LATERAL (SELECT ` + instanceColumns + ` FROM instances WHERE id = k.id OFFSET 0) AS i`

// newInstanceReads reads instances alone or many at once; an id of no
// instance is pgx.ErrNoRows.
func (s *Store) newInstanceReads() *keyedReads[string, flows.Instance] {
	return newKeyedReads(keyedReads[string, flows.Instance]{alone: s.instanceAlone, many: s.instancesByID,
		key: func(in flows.Instance) string { return in.ID }, missing: pgx.ErrNoRows},
		instanceReadWorkers, maxInstanceReadGroup, instanceReadTimeout)
}

// Instance returns one instance; flows.ErrNotFound if there is none.
func (s *Store) Instance(ctx context.Context, id string) (flows.Instance, error) {
	in, err := s.instanceReads.read(ctx, id)
	if err != nil {
		return flows.Instance{}, fail(notFound(err), "instance %s", id)
	}
	return in, nil
}

func (s *Store) instanceAlone(ctx context.Context, id string) (flows.Instance, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+instanceColumns+` FROM instances WHERE id = $1`, id)
	return pgx.CollectExactlyOneRow(rows, scanInstance)
}

// instancesByID reads the instances of ids with one query.
func (s *Store) instancesByID(ctx context.Context, ids []string) ([]flows.Instance, error) {
	rows, _ := s.pool.Query(ctx, sqlInstances, ids)
	return pgx.CollectRows(rows, scanInstance)
}
