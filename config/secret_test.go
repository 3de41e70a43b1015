package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// secretConfig is a valid configuration holding a token and two passwords,
// set through the environment as in production.
func secretConfig(t *testing.T) *Config {
	t.Helper()
	c, err := Load("", env(map[string]string{
		"CARDFLOW_SERVER_API_TOKENS": "tok-AAAA-0123456789,tok-BBBB-0123456789",
		"CARDFLOW_STORE_DSN":         "postgres://cardflow:pg-PASS-word@db:5432/cardflow?sslmode=disable",
		"CARDFLOW_QUEUE_REDIS_URL":   "redis://:redis-PASS-word@redis:6379/0",
	}))
	require.NoError(t, err)
	return c
}

var leaked = []string{"tok-AAAA", "tok-BBBB", "pg-PASS-word", "redis-PASS-word"}

// renderings prints v every way a value commonly escapes into a log or a
// response.
func renderings(t *testing.T, v any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	j, err := json.Marshal(v)
	require.NoError(t, err)
	out["json"] = string(j)
	y, err := yaml.Marshal(v)
	require.NoError(t, err)
	out["yaml"] = string(y)
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var b bytes.Buffer
		slog.New(h(&b)).Info("config", "value", v)
		out[name] = b.String()
	}
	return out
}

func TestSecretsNeverPrint(t *testing.T) {
	t.Parallel()
	c := secretConfig(t)
	tests := []struct {
		name  string
		value any
		shows string // what the rendering does show, proving it rendered
	}{
		{name: "secret", value: Secret("tok-AAAA-0123456789"), shows: "secret"},
		{name: "secret list", value: c.Server.APITokens, shows: "secret"},
		{name: "postgres DSN", value: c.Store.DSN, shows: "cardflow:xxxxx@db:5432"},
		{name: "redis URL", value: c.Queue.RedisURL, shows: "redis:6379"},
		{name: "whole config", value: c, shows: "cardflow:xxxxx@db:5432"},
		{name: "server section", value: c.Server, shows: ":8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for how, s := range renderings(t, tt.value) {
				for _, secret := range leaked {
					require.NotContains(t, s, secret, "%s leaks through %s", secret, how)
				}
				if how != "%x" && how != "%d" {
					require.Contains(t, s, tt.shows, "%s renders something", how)
				}
			}
		})
	}
}

func TestSecretReveal(t *testing.T) {
	t.Parallel()
	c := secretConfig(t)
	require.Equal(t, "tok-AAAA-0123456789", c.Server.APITokens[0].Reveal())
	require.Equal(t, "<secret>", c.Server.APITokens[0].GoString())
	require.Equal(t, "postgres://cardflow:xxxxx@db:5432/cardflow?sslmode=disable", c.Store.DSN.GoString())
	require.Equal(t, "redis://:redis-PASS-word@redis:6379/0", c.Queue.RedisURL.Reveal())
}

func TestDSNPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		dsn      DSN
		password string
		printed  string
	}{
		{name: "url without password", dsn: "postgres://cardflow@db/cardflow", printed: "postgres://cardflow@db/cardflow"},
		{name: "url with password", dsn: "postgres://u:p4ss@db/x", password: "p4ss", printed: "postgres://u:xxxxx@db/x"},
		{name: "password in the query", dsn: "postgres://u@db/x?password=p4ss&sslmode=disable", password: "p4ss",
			printed: "postgres://u@db/x?password=xxxxx&sslmode=disable"},
		{name: "redis password only", dsn: "redis://:p4ss@r:6379/0", password: "p4ss", printed: "redis://:xxxxx@r:6379/0"},
		{name: "key=value", dsn: "host=db password=p4ss dbname=x", password: "p4ss", printed: "host=db password=xxxxx dbname=x"},
		{name: "key=value quoted", dsn: "host=db password='p 4ss' dbname=x", password: "p 4ss", printed: "host=db password=xxxxx dbname=x"},
		{name: "key=value without password", dsn: "host=db dbname=x", printed: "host=db dbname=x"},
		{name: "unparseable URL", dsn: "postgres://u:p%zz@db/x", printed: "<secret>"},
		{name: "not a DSN at all", dsn: "p4ss", printed: "<secret>"},
		{name: "empty", dsn: "", printed: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, ok := tt.dsn.Password()
			require.Equal(t, tt.password != "", ok)
			require.Equal(t, tt.password, p)
			require.Equal(t, tt.printed, tt.dsn.String())
		})
	}
}

func TestParseByteSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    ByteSize
		wantErr string
	}{
		{name: "bytes", in: "1048576", want: 1 << 20},
		{name: "bytes unit", in: "12B", want: 12},
		{name: "KiB", in: "512KiB", want: 512 << 10},
		{name: "MiB with space", in: "1 MiB", want: 1 << 20},
		{name: "GiB", in: "2GiB", want: 2 << 30},
		{name: "decimal unit", in: "1MB", wantErr: `size "1MB" has unknown unit "MB": use B, KiB, MiB or GiB`},
		{name: "fraction", in: "1.5MiB", wantErr: `expected a size in bytes or such as "1MiB", got "1.5MiB"`},
		{name: "negative", in: "-1", wantErr: `expected a size in bytes or such as "1MiB", got "-1"`},
		{name: "no number", in: "MiB", wantErr: `expected a size in bytes or such as "1MiB", got "MiB"`},
		{name: "overflow", in: "9000000000GiB", wantErr: `size "9000000000GiB" is out of range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseByteSize(tt.in)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			back, err := ParseByteSize(got.String())
			require.NoError(t, err)
			require.Equal(t, got, back, "String reads back")
		})
	}
}
