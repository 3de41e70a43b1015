package postgres

import (
	"database/sql"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"cardflow/storage/postgres/pgtest"
)

// embeddedVersions lists the versions of the embedded migration files, so
// the tests keep passing as migrations are added.
func embeddedVersions(t *testing.T) []int64 {
	t.Helper()
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	var versions []int64
	for _, name := range names {
		prefix, _, ok := strings.Cut(strings.TrimPrefix(name, "migrations/"), "_")
		require.True(t, ok, "migration %s must be named <version>_<name>.sql", name)
		v, err := strconv.ParseInt(prefix, 10, 64)
		require.NoError(t, err, name)
		versions = append(versions, v)
	}
	slices.Sort(versions)
	return versions
}

// versionsOf lists the versions a Migrate run applied, in order.
func versionsOf(res MigrateResult) []int64 {
	var vs []int64
	for _, s := range res.Steps {
		vs = append(vs, s.Version)
	}
	return vs
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	t.Parallel()
	dsn := pgtest.SchemaDSN(t)
	want := embeddedVersions(t)
	latest := want[len(want)-1]

	first, err := Migrate(t.Context(), dsn)
	require.NoError(t, err)
	require.Equal(t, want, versionsOf(first))
	require.Equal(t, latest, first.Version)
	for _, step := range first.Steps {
		require.Regexp(t, `^\d{5}_\w+\.sql$`, step.Name)
	}

	second, err := Migrate(t.Context(), dsn)
	require.NoError(t, err)
	require.Equal(t, MigrateResult{Version: latest}, second, "a second run applies nothing")
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dsn := pgtest.SchemaDSN(t)
	want := embeddedVersions(t)
	const starters = 3

	start := make(chan struct{})
	results := make([]MigrateResult, starters)
	errs := make([]error, starters)
	var wg sync.WaitGroup
	for i := range starters {
		wg.Go(func() {
			<-start
			results[i], errs[i] = Migrate(t.Context(), dsn)
		})
	}
	close(start)
	wg.Wait()

	var applied []int64
	for i := range starters {
		require.NoError(t, errs[i], "starter %d", i)
		require.Equal(t, want[len(want)-1], results[i].Version, "starter %d", i)
		applied = append(applied, versionsOf(results[i])...)
	}
	slices.Sort(applied)
	require.Equal(t, want, applied, "every migration applied exactly once across the starters")

	s, err := Open(t.Context(), dsn, Options{})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Idempotent(t.Context(), "k")
	require.ErrorContains(t, err, "not found", "the migrated schema must serve queries")
}

func TestMigrateMissingSchema(t *testing.T) {
	t.Parallel()
	dsn := pgtest.WithParam(t, pgtest.SchemaDSN(t), "search_path", "cf_test_no_such_schema")
	_, err := Migrate(t.Context(), dsn)
	require.ErrorContains(t, err, "search_path names no existing schema")
}

func TestMigrationLockIDIsPerSchema(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		a, b    string
		collide bool
	}{
		{name: "same schema", a: "public", b: "public", collide: true},
		{name: "different schemas", a: "public", b: "cf_test_1", collide: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.collide, migrationLockID(tc.a) == migrationLockID(tc.b))
		})
	}
}

// migratedUpTo returns a fresh schema's DSN and a connection to it, with
// the migrations applied up to version: the state a database of that
// release was in, for a test of the next migration's upgrade.
func migratedUpTo(t *testing.T, version int64) (string, *sql.DB) {
	t.Helper()
	dsn := pgtest.SchemaDSN(t)
	cfg, err := pgx.ParseConfig(dsn)
	require.NoError(t, err)
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { _ = db.Close() })
	sub, err := fs.Sub(migrationFiles, "migrations")
	require.NoError(t, err)
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithDisableGlobalRegistry(true))
	require.NoError(t, err)
	_, err = p.UpTo(t.Context(), version)
	require.NoError(t, err)
	return dsn, db
}
