package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	sqlite3 "modernc.org/sqlite/lib"

	"cardflow/flows"
)

// fail wraps err, the failure of a Store method, once: "sqlite: <op>: "
// and, when the database cannot be used right now, flows.ErrUnavailable, so
// the API answers 503 rather than 500. errors.Is and errors.As still see the
// driver's error.
func (s *Store) fail(err error, format string, args ...any) error {
	op := fmt.Sprintf(format, args...)
	if s.unavailable(err) {
		return fmt.Errorf("sqlite: %s: %w: %w", op, flows.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// unavailable reports whether err says the database cannot be used now,
// though a later request may succeed: the store is closed (shutting down),
// another process holds the file's lock past the busy timeout, or the file
// cannot be opened, read or written (a vanished mount, a full disk). The
// caller's own cancellation or deadline is not an outage.
func (s *Store) unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if s.closed.Load() || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	code, ok := errorCode(err)
	if !ok {
		return false
	}
	switch code {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL:
		return true
	}
	return false
}
