package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"cardflow/flows"
)

const definitionColumns = `flow_id, version, name, hash, source, created_at`

// PutDefinition stores d as the flow's next version unless its hash equals
// the latest version's, in which case it returns that version unchanged.
func (s *Store) PutDefinition(ctx context.Context, d flows.Definition) (flows.Definition, bool, error) {
	var (
		out     flows.Definition
		created bool
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Two servers loading the same new file must not both read "latest
		// is N" and race for N+1; the lock is per flow and ends with the
		// transaction.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('cardflow.definition:' || $1, 0))`, d.FlowID); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT `+definitionColumns+` FROM definitions
			WHERE flow_id = $1 ORDER BY version DESC LIMIT 1`, d.FlowID)
		latest, err := pgx.CollectRows(rows, scanDefinition)
		if err != nil {
			return err
		}
		if len(latest) == 1 && latest[0].Hash == d.Hash {
			out = latest[0]
			return nil
		}
		next := 1
		if len(latest) == 1 {
			next = latest[0].Version + 1
		}
		rows, _ = tx.Query(ctx, `INSERT INTO definitions (`+definitionColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+definitionColumns,
			d.FlowID, next, d.Name, d.Hash, d.Source, d.CreatedAt)
		out, err = pgx.CollectExactlyOneRow(rows, scanDefinition)
		created = err == nil
		return err
	})
	if err != nil {
		return flows.Definition{}, false, fail(err, "put definition %s", d.FlowID)
	}
	return out, created, nil
}

// Definition returns one version of a flow; flows.ErrNotFound if none.
func (s *Store) Definition(ctx context.Context, flowID string, version int) (flows.Definition, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+definitionColumns+` FROM definitions
		WHERE flow_id = $1 AND version = $2`, flowID, version)
	d, err := pgx.CollectExactlyOneRow(rows, scanDefinition)
	if err != nil {
		return flows.Definition{}, fail(notFound(err), "definition %s v%d", flowID, version)
	}
	return d, nil
}

// LatestDefinition returns a flow's highest version; flows.ErrNotFound if
// the flow has none.
func (s *Store) LatestDefinition(ctx context.Context, flowID string) (flows.Definition, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+definitionColumns+` FROM definitions
		WHERE flow_id = $1 ORDER BY version DESC LIMIT 1`, flowID)
	d, err := pgx.CollectExactlyOneRow(rows, scanDefinition)
	if err != nil {
		return flows.Definition{}, fail(notFound(err), "latest definition %s", flowID)
	}
	return d, nil
}

// Definitions returns the latest version of every flow, ordered by flow id.
func (s *Store) Definitions(ctx context.Context) ([]flows.Definition, error) {
	rows, _ := s.pool.Query(ctx, `SELECT DISTINCT ON (flow_id) `+definitionColumns+`
		FROM definitions ORDER BY flow_id, version DESC`)
	list, err := pgx.CollectRows(rows, scanDefinition)
	if err != nil {
		return nil, fail(err, "list definitions")
	}
	return list, nil
}

func scanDefinition(row pgx.CollectableRow) (flows.Definition, error) {
	var d flows.Definition
	err := row.Scan(&d.FlowID, &d.Version, &d.Name, &d.Hash, &d.Source, &d.CreatedAt)
	return d, err
}
