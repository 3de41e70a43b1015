package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"

	"cardflow/outbox"
)

var _ outbox.Pruner = (*Store)(nil)

// CountRows counts a table's rows, for the conformance suite's prune tests.
func (s *Store) CountRows(ctx context.Context, table string) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %q", table)).Scan(&n)
	return n, err
}

// MigrateTo creates the database at path with the schema of version, as an
// older cardflow left it, and runs stmts on it.
func MigrateTo(ctx context.Context, path string, version int64, stmts ...string) error {
	db, err := openWriter(ctx, path)
	if err != nil {
		return err
	}
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return errors.Join(err, db.Close())
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return errors.Join(err, db.Close())
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return errors.Join(err, db.Close())
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return errors.Join(err, db.Close())
		}
	}
	return db.Close()
}

// SetCheckpoints sets how often the checkpoint goroutine may run and the
// log size, in pages, past which the writer restarts the log. Call it
// before the first write. The goroutine then waits, after each passive
// checkpoint, until the log's size it found is received from the channel
// returned (or the store closes).
func (s *Store) SetCheckpoints(every time.Duration, restartPages int) <-chan int {
	s.ckpt.every, s.ckpt.restartPages = every, restartPages
	s.ckpt.checkpointed = make(chan int)
	return s.ckpt.checkpointed
}
