package main

import (
	"context"
	"fmt"
	"io"
	"os"

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
	cfg, err := readConfig(*path, nil, os.LookupEnv, nil)
	if err == nil {
		err = cfg.ValidateStore()
	}
	if err != nil {
		return invalidConfig(fs, stderr, err)
	}
	if cfg.Store.DSN.IsZero() {
		if err := sqlite.Migrate(ctx, cfg.Store.SQLitePath); err != nil {
			fmt.Fprintf(stderr, "cardflow migrate: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "sqlite %s: schema current\n", cfg.Store.SQLitePath)
		return 0
	}
	res, err := postgres.Migrate(ctx, cfg.Store.DSN.Reveal())
	if err != nil {
		fmt.Fprintf(stderr, "cardflow migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "postgres %s: %s\n", cfg.Store.DSN, describe(res.Applied, res.Version))
	return 0
}

func describe(applied []int64, version int64) string {
	if len(applied) == 0 {
		return fmt.Sprintf("schema current at version %d", version)
	}
	return fmt.Sprintf("applied %v, schema now at version %d", applied, version)
}
