// Package pgtest gives tests of any package a PostgreSQL schema of their
// own in the shared test database, so tests run in parallel without seeing
// each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"cardflow/internal/testenv"
)

// SchemaDSN creates an empty schema with a random name, drops it (and all it
// holds) when the test ends, and returns the test database's DSN with its
// search_path pointing there; pgx sends the parameter as a run-time
// parameter of every pooled connection, so a store and its migrations see
// only that schema. It skips or fails like testenv.PostgresURL when the test
// database is not configured.
func SchemaDSN(t testing.TB) string {
	t.Helper()
	base := testenv.PostgresURL(t)
	schema := "cf_test_" + randomHex(t, 6)
	Exec(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { Exec(t, base, "DROP SCHEMA "+schema+" CASCADE") })
	return WithParam(t, base, "search_path", schema)
}

// Exec runs one statement on its own connection. It also serves cleanups,
// so it does not use the test's context (cancelled before cleanups run).
func Exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	require.NoError(t, err, sql)
}

// WithParam adds a connection parameter to a URL or key=value DSN.
func WithParam(t testing.TB, dsn, key, value string) string {
	t.Helper()
	if !strings.Contains(dsn, "://") {
		return dsn + " " + key + "=" + value
	}
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}
