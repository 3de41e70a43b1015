package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/storage/postgres"
)

func TestMigrateReport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		steps   []postgres.MigrationStep
		version int64
		want    string
	}{
		{name: "current", version: 13, want: "sqlite data/cardflow.db: schema current at version 13\n"},
		{name: "one", version: 13, steps: []postgres.MigrationStep{{Version: 13, Name: "00013_retention.sql", Duration: 1500 * time.Microsecond}},
			want: "  applied 00013_retention.sql                   2ms\n" +
				"sqlite data/cardflow.db: 1 migration applied in 2ms, schema now at version 13\n"},
		{name: "several", version: 2, steps: []postgres.MigrationStep{
			{Version: 1, Name: "00001_init.sql", Duration: 35 * time.Millisecond},
			{Version: 2, Name: "00002_bot.sql", Duration: 1200 * time.Millisecond},
		}, want: "  applied 00001_init.sql                       35ms\n" +
			"  applied 00002_bot.sql                        1.2s\n" +
			"sqlite data/cardflow.db: 2 migrations applied in 1.235s, schema now at version 2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			report(&b, "sqlite data/cardflow.db", tc.steps, tc.version)
			require.Equal(t, tc.want, b.String())
		})
	}
}
