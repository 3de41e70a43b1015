package postgres

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/storage/postgres/pgtest"
)

// openTestStore opens a migrated store on a fresh schema of its own, closed
// and dropped when the test ends.
func openTestStore(t testing.TB, opts Options) *Store {
	t.Helper()
	opts.Migrate = true
	s, err := Open(t.Context(), pgtest.SchemaDSN(t), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}
