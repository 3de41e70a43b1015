package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/storage/postgres/pgtest"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no command", nil, 2, "Commands:"},
		{"help", []string{"--help"}, 0, "migrate"},
		{"unknown command", []string{"serv"}, 2, `unknown command "serv"`},
		{"serve help", []string{"serve", "--help"}, 0, "-config"},
		{"demo help", []string{"demo", "-h"}, 0, "-addr"},
		{"migrate help", []string{"migrate", "--help"}, 0, "forward-only"},
		{"bench help", []string{"bench", "--help"}, 0, "CARDFLOW_BENCH_TOKEN"},
		{"prune help", []string{"prune", "--help"}, 0, "unsent notifications are never deleted"},
		{"demo help names the precedence", []string{"demo", "--help"}, 0, "a flag given\nwins over both"},
		{"bad flag", []string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{"stray argument", []string{"version", "extra"}, 2, `unexpected argument "extra"`},
		{"version", []string{"version"}, 0, "cardflow dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(tt.args...)
			require.Equal(t, tt.code, code, "stdout: %s\nstderr: %s", out, errOut)
			require.Contains(t, out+errOut, tt.contains)
		})
	}
}

func TestServeRejectsInvalidConfigWithFileAndLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.yaml")
	require.NoError(t, os.WriteFile(path, []byte("server:\n  adress: \":1\"\n"), 0o600))
	code, _, errOut := runCmd("serve", "--config", path)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, path+":2: server.adress: unknown key")
}

// TestServeUnreachableDatabase: start-up fails with a message that names the
// database host, never its password.
func TestServeUnreachableDatabase(t *testing.T) {
	t.Setenv("CARDFLOW_STORE_DSN", "postgres://cardflow:hunter2-secret@127.0.0.1:1/cardflow?sslmode=disable&connect_timeout=2")
	t.Setenv("CARDFLOW_QUEUE_REDIS_URL", "redis://127.0.0.1:1/0")
	t.Setenv("CARDFLOW_STORE_MIGRATE_ON_START", "false")
	t.Setenv("CARDFLOW_FLOWS_DIR", exampleFlows)
	code, _, errOut := runCmd("serve", "--config", filepath.Join(t.TempDir(), "missing.yaml"))
	require.Equal(t, 1, code, "a missing --config file is an error")
	require.Contains(t, errOut, "missing.yaml")

	code, out, errOut := runCmd("serve")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "host=127.0.0.1 port=1 database=cardflow user=cardflow")
	require.NotContains(t, out+errOut, "hunter2-secret")
}

func TestMigrateEmbeddedStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "cardflow.db")
	t.Setenv("CARDFLOW_STORE_SQLITE_PATH", path)
	code, out, errOut := runCmd("migrate")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "cardflow migrate: migrating sqlite "+path+" …\n", errOut)
	require.Regexp(t, `^(  applied 000\d\d_\w+\.sql +\d+(\.\d+)?m?s\n)+`+
		regexp.QuoteMeta("sqlite "+path+": ")+`\d+ migrations applied in \S+, schema now at version (\d+)\n$`, out)
	version := regexp.MustCompile(`version (\d+)`).FindStringSubmatch(out)[1]

	code, out, errOut = runCmd("migrate") // the second run finds nothing to do
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "sqlite "+path+": schema current at version "+version+"\n", out)
	_, err := os.Stat(path)
	require.NoError(t, err)
}

// TestMigratePostgresWithoutRedis: migrate needs only the store (issue #6,
// item 17: it used to refuse to run without a Redis URL it never uses).
// serve, which does use Redis, still requires it.
func TestMigratePostgresWithoutRedis(t *testing.T) {
	t.Setenv("CARDFLOW_STORE_DSN", pgtest.SchemaDSN(t))
	t.Setenv("CARDFLOW_QUEUE_REDIS_URL", "") // empty: unset, whatever the outer environment says
	code, out, errOut := runCmd("migrate")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^  applied 00001_\w+\.sql .*\n(.*\n)*postgres .*: \d+ migrations applied in \S+, schema now at version \d+\n$`, out)

	code, _, errOut = runCmd("serve")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "queue.redis_url: required when store.dsn is set")
}

func TestMigrateCorruptedEmbeddedStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("not sqlite "), 1000), 0o600))
	t.Setenv("CARDFLOW_STORE_SQLITE_PATH", path)
	code, _, errOut := runCmd("migrate")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, path)
	require.Contains(t, errOut, "not a valid SQLite database")
}
