package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/outbox"
	"cardflow/storage/storetest"
)

// TestStore runs the conformance suite every flows.Store must pass, each
// test on a fresh schema.
func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) flows.Store { return openTestStore(t, Options{MaxConns: 4}) }, countRows)
}

// countRows counts a table of the store's schema; the outbox by its
// messages, several to a row (outbox.go).
func countRows(t *testing.T, s flows.Store, table string) int64 {
	t.Helper()
	var n int64
	count := "count(*)"
	if table == "outbox" {
		count = "COALESCE(sum(" + sqlRowMessages + "), 0)"
	}
	err := s.(*Store).pool.QueryRow(t.Context(), "SELECT "+count+" FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n)
	require.NoError(t, err)
	return n
}

var _ outbox.Pruner = (*Store)(nil)
