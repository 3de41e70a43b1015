package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"cardflow/storage/postgres"
	"cardflow/storage/sqlite"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("migrate", "Apply the flow store's embedded schema migrations (forward-only, each in a\n"+
		"transaction) and exit: PostgreSQL when store.dsn / CARDFLOW_STORE_DSN is set, otherwise\n"+
		"the embedded SQLite file. Safe to run from several instances at once. Only the store\n"+
		"settings are checked: migrating needs no Redis.", stderr)
	path := configFlag(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, err := readStoreConfig(*path)
	if err != nil {
		return invalidConfig(fs, stderr, err)
	}
	if cfg.Store.DSN.IsZero() {
		fmt.Fprintf(stderr, "cardflow migrate: migrating sqlite %s …\n", cfg.Store.SQLitePath)
		res, err := sqlite.Migrate(ctx, cfg.Store.SQLitePath)
		if err != nil {
			fmt.Fprintf(stderr, "cardflow migrate: %v\n", err)
			return 1
		}
		report(stdout, "sqlite "+cfg.Store.SQLitePath, res.Steps, res.Version)
		return 0
	}
	// Another instance migrating holds the schema's lock for a while: say
	// what is being waited on.
	fmt.Fprintf(stderr, "cardflow migrate: migrating postgres %s …\n", cfg.Store.DSN)
	res, err := postgres.Migrate(ctx, cfg.Store.DSN.Reveal())
	if err != nil {
		fmt.Fprintf(stderr, "cardflow migrate: %v\n", err)
		return 1
	}
	report(stdout, fmt.Sprintf("postgres %s", cfg.Store.DSN), res.Steps, res.Version)
	return 0
}

// report prints a line per applied migration and a summary line.
func report(w io.Writer, store string, steps []postgres.MigrationStep, version int64) {
	if len(steps) == 0 {
		fmt.Fprintf(w, "%s: schema current at version %d\n", store, version)
		return
	}
	var total time.Duration
	for _, s := range steps {
		total += s.Duration
		fmt.Fprintf(w, "  applied %-32s %8s\n", s.Name, s.Duration.Round(time.Millisecond))
	}
	noun := "migrations"
	if len(steps) == 1 {
		noun = "migration"
	}
	fmt.Fprintf(w, "%s: %d %s applied in %s, schema now at version %d\n", store, len(steps), noun,
		total.Round(time.Millisecond), version)
}
