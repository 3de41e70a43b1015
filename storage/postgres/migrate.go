package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"cardflow/storage/internal/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// MigrateResult summarises a Migrate run: the steps applied (cardflow
// migrate prints them) and the version reached.
type MigrateResult = migration.Result

// MigrationStep is one migration a Migrate run applied.
type MigrationStep = migration.Step

// Migrate brings the schema selected by dsn (its search_path, else the
// user's default) to the latest embedded migration. It is forward-only and
// safe to run from several instances at once: a session advisory lock on
// the schema lets one migrate while the others wait, then find nothing left
// to do.
func Migrate(ctx context.Context, dsn string) (MigrateResult, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("postgres: migrate: %w", errBadDSN)
	}
	return migrate(ctx, cfg)
}

func migrate(ctx context.Context, cfg *pgx.ConnConfig) (MigrateResult, error) {
	db := stdlib.OpenDB(*cfg)
	defer db.Close()

	// goose's default lock id is one per database; keying it by schema lets
	// the schemas of one database (one per test, or per tenant) migrate in
	// parallel while racing starters of the same schema still serialise.
	var schema *string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return MigrateResult{}, connectError("migrate", cfg.Config, err)
	}
	if schema == nil {
		return MigrateResult{}, errors.New("postgres: migrate: no schema: the search_path names no existing schema")
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(migrationLockID(*schema)),
		// Poll every second for up to five minutes; migrations are short.
		lock.WithLockTimeout(1, 300),
	)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("postgres: migrate: %w", err)
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return MigrateResult{}, fmt.Errorf("postgres: migrate: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("postgres: migrate: %w", err)
	}
	res, err := migration.Up(ctx, provider)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("postgres: migrate schema %s: %w", *schema, err)
	}
	return res, nil
}

// migrationLockID derives the advisory lock key of a schema's migrations.
func migrationLockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("cardflow.migrate:" + schema))
	return int64(h.Sum64())
}
