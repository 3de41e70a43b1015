// Package sqlite is the embedded flows.Store: one database file, no server,
// the default for `cardflow demo` and small deployments. It uses the pure-Go
// modernc.org/sqlite driver, so the binary needs no C toolchain.
//
// SQLite allows one writer at a time. The store therefore keeps two pools on
// the same file: a write pool of exactly one connection, where every write
// transaction queues inside database/sql instead of failing with
// SQLITE_BUSY, and a read pool of several read-only connections that, in WAL
// mode, never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	msqlite "modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"cardflow/flows"
	"cardflow/storage/internal/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrNotDatabase is wrapped by Open and Migrate when the file exists but is
// not a SQLite database (or is damaged beyond reading), so a caller can tell
// a wrong --data path from a transient failure.
var ErrNotDatabase = errors.New("the file is not a valid SQLite database")

// busyTimeout bounds how long a connection waits for another process's lock
// on the same file (a second cardflow, a backup, the sqlite3 shell); within
// this process the single write connection already serialises writers.
const busyTimeout = 10 * time.Second

// Store is a flows.Store on one SQLite file. It is safe for concurrent use.
type Store struct {
	path  string
	write *sql.DB   // exactly one connection: SQLite's single writer
	read  *readPool // read-only connections, their statements prepared
	now   func() time.Time
	// closed is set by Close, so a call racing a shutdown fails as
	// unavailable rather than as an internal error.
	closed atomic.Bool

	prepared map[string]*sql.Stmt // Apply's statements on the write connection
	group    group                // the writer goroutine of Apply
	ckpt     checkpointer         // the checkpoint goroutine (checkpoint.go)
}

var _ flows.Store = (*Store)(nil)

// Open opens (creating it and its directory if needed) the database at
// path, brings its schema up to date and returns the store. A file that is
// not a SQLite database fails with an error naming path and wrapping
// ErrNotDatabase.
func Open(ctx context.Context, path string) (*Store, error) {
	write, err := openWriter(ctx, path)
	if err != nil {
		return nil, err
	}
	if _, err := migrate(ctx, write, path); err != nil {
		return nil, errors.Join(err, write.Close())
	}
	prepared, err := prepare(ctx, write)
	if err != nil {
		return nil, errors.Join(err, write.Close())
	}
	read, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %s for reading: %w", path, err), closeStmts(prepared), write.Close())
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	if err := read.PingContext(ctx); err != nil {
		return nil, errors.Join(openError(path, err), read.Close(), closeStmts(prepared), write.Close())
	}
	s := &Store{path: path, write: write, read: newReadPool(read), now: time.Now, prepared: prepared}
	s.startCheckpoints()
	return s, nil
}

// MigrateResult summarises a Migrate run: the steps applied and the
// version reached.
type MigrateResult = migration.Result

// MigrationStep is one migration a Migrate run applied.
type MigrationStep = migration.Step

// Migrate creates the database at path if needed and applies every pending
// migration, each in its own transaction. Open does this too; Migrate is for
// `cardflow migrate`, which migrates without serving and says what it did.
func Migrate(ctx context.Context, path string) (MigrateResult, error) {
	write, err := openWriter(ctx, path)
	if err != nil {
		return MigrateResult{}, err
	}
	res, err := migrate(ctx, write, path)
	return res, errors.Join(err, write.Close())
}

// Close releases both pools' connections.
func (s *Store) Close() error {
	s.closed.Store(true)
	s.stopGroups()
	s.stopCheckpoints()
	if err := errors.Join(s.read.Close(), closeStmts(s.prepared), s.write.Close()); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.path, err)
	}
	return nil
}

// Ping reports whether the database file can be read.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return s.fail(err, "ping %s", s.path)
	}
	return nil
}

// openWriter opens the single-connection write pool and checks that the
// file is a database by touching it.
func openWriter(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		// Two pools on one in-memory database would be two databases, and
		// the driver reads '?' as the start of its options.
		return nil, fmt.Errorf("sqlite: open %q: want a plain file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create the directory of %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(openError(path, err), db.Close())
	}
	return db, nil
}

// dsn builds the driver's connection string. Writers set the file to WAL
// (persistent, so readers inherit it) and begin every transaction
// IMMEDIATE, taking the write lock up front rather than failing to upgrade
// it mid-transaction; synchronous=NORMAL is durable across process crashes
// in WAL mode and skips an fsync per commit. The writer makes no automatic
// checkpoints: checkpoint.go does them beside it. temp_store=MEMORY keeps the
// sub-journal of each change's savepoint (group.go) in memory: on a file
// every first write of a page inside a savepoint is a write system call.
func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	if writer {
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "NORMAL")
		q.Set("_foreign_keys", "1")
		q.Set("_txlock", "immediate")
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Add("_pragma", "wal_autocheckpoint(0)")
	} else {
		q.Set("_query_only", "1")
	}
	return path + "?" + q.Encode()
}

func migrate(ctx context.Context, db *sql.DB, path string) (MigrateResult, error) {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return MigrateResult{}, fmt.Errorf("sqlite: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return MigrateResult{}, fmt.Errorf("sqlite: migrations: %w", err)
	}
	res, err := migration.Up(ctx, p)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	return res, nil
}

// openError names the path and, when SQLite says the file is no database,
// says so in words a person can act on.
func openError(path string, err error) error {
	if code, ok := errorCode(err); ok && (code == sqlite3.SQLITE_NOTADB || code == sqlite3.SQLITE_CORRUPT) {
		return fmt.Errorf("sqlite: open %s: %w (%w)", path, ErrNotDatabase, err)
	}
	return fmt.Errorf("sqlite: open %s: %w", path, err)
}

// errorCode returns the primary SQLite result code of err.
func errorCode(err error) (int, bool) {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return 0, false
	}
	return se.Code() & 0xff, true
}

// isConstraint reports whether err is a violated PRIMARY KEY or UNIQUE
// constraint.
func isConstraint(err error) bool {
	code, ok := errorCode(err)
	return ok && code == sqlite3.SQLITE_CONSTRAINT
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE) and commits it;
// any error rolls everything back.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.committed()
	return nil
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
