package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"cardflow/flows"
)

const definitionColumns = `flow_id, version, name, hash, source, created_at`

func scanDefinition(r scanner) (flows.Definition, error) {
	var d flows.Definition
	err := r.Scan(&d.FlowID, &d.Version, &d.Name, &d.Hash, &d.Source, microTime{&d.CreatedAt})
	return d, err
}

// PutDefinition stores d as the flow's next version unless its hash equals
// the latest version's, in which case it returns that version unchanged.
// The read and the insert share one write transaction, so servers loading
// the same file at once create one version.
func (s *Store) PutDefinition(ctx context.Context, d flows.Definition) (flows.Definition, bool, error) {
	var stored flows.Definition
	var created bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		latest, err := scanDefinition(tx.QueryRowContext(ctx, `SELECT `+definitionColumns+`
			FROM definitions WHERE flow_id = ? ORDER BY version DESC LIMIT 1`, d.FlowID))
		switch {
		case err == nil && latest.Hash == d.Hash:
			stored = latest
			return nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read latest version: %w", err)
		}
		stored, created = d, true
		stored.Version = latest.Version + 1 // 1 when there was none
		if stored.Source == nil {
			stored.Source = []byte{}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO definitions (`+definitionColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			stored.FlowID, stored.Version, stored.Name, stored.Hash, stored.Source, timeArg(stored.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert version %d: %w", stored.Version, err)
		}
		return nil
	})
	if err != nil {
		return flows.Definition{}, false, s.fail(err, "put definition %s", d.FlowID)
	}
	if created {
		stored.CreatedAt = storedTime(stored.CreatedAt)
	}
	return stored, created, nil
}

// Definition returns one version of a flow; flows.ErrNotFound if there is
// none.
func (s *Store) Definition(ctx context.Context, flowID string, version int) (flows.Definition, error) {
	d, err := scanDefinition(s.read.QueryRowContext(ctx, `SELECT `+definitionColumns+`
		FROM definitions WHERE flow_id = ? AND version = ?`, flowID, version))
	if err != nil {
		return flows.Definition{}, s.fail(notFound(err), "definition %s v%d", flowID, version)
	}
	return d, nil
}

// LatestDefinition returns a flow's highest version; flows.ErrNotFound if
// none.
func (s *Store) LatestDefinition(ctx context.Context, flowID string) (flows.Definition, error) {
	d, err := scanDefinition(s.read.QueryRowContext(ctx, `SELECT `+definitionColumns+`
		FROM definitions WHERE flow_id = ? ORDER BY version DESC LIMIT 1`, flowID))
	if err != nil {
		return flows.Definition{}, s.fail(notFound(err), "latest definition %s", flowID)
	}
	return d, nil
}

// Definitions returns the latest version of every flow, ordered by flow id.
func (s *Store) Definitions(ctx context.Context) ([]flows.Definition, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+definitionColumns+` FROM definitions d
		WHERE version = (SELECT MAX(version) FROM definitions WHERE flow_id = d.flow_id) ORDER BY flow_id`)
	if err != nil {
		return nil, s.fail(err, "list definitions")
	}
	out, err := collect(rows, scanDefinition)
	if err != nil {
		return nil, s.fail(err, "list definitions")
	}
	return out, nil
}
