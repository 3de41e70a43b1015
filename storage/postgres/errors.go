package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"cardflow/flows"
)

// fail wraps err, the failure of a Store method, once: "postgres: <op>: "
// and, when the database cannot be reached right now, flows.ErrUnavailable,
// so the API answers 503 rather than 500. errors.Is and errors.As still see
// the driver's error.
func fail(err error, format string, args ...any) error {
	op := fmt.Sprintf(format, args...)
	if unavailable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, flows.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// unavailable reports whether err says the database cannot be reached now
// (refused, lost or closed connections, a server shutting down or out of
// connection slots, a closed pool), as opposed to a failure of the request
// itself. The caller's own cancellation or deadline is not an outage.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableCode(pgErr.Code)
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, puddle.ErrClosedPool) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

// unavailableCode reports whether a SQLSTATE says the server cannot serve
// now: class 08 (connection exception), an administrator or crash shutdown,
// a server still starting (57P01-57P03) or out of connections (53300).
func unavailableCode(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03", "53300":
		return true
	}
	return strings.HasPrefix(code, "08")
}
