package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// env returns a lookupEnv over a fixed map, so tests never read the process
// environment.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLoadGood(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		want func(c *Config)
	}{
		{name: "no file", file: "", want: func(*Config) {}},
		{name: "empty file keeps defaults", file: "testdata/good/empty.yaml", want: func(*Config) {}},
		{name: "every key set", file: "testdata/good/full.yaml", want: func(c *Config) {
			c.Server = ServerConfig{Addr: "127.0.0.1:9090", BodyLimit: 512 << 10,
				ShutdownTimeout: 30 * time.Second, ReadHeaderTimeout: 5 * time.Second,
				ReadTimeout: 20 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 5 * time.Minute}
			c.Log = LogConfig{Level: "debug", Format: "text"}
			c.Store = StoreConfig{DSN: "postgres://cardflow@db:5432/cardflow?sslmode=disable",
				SQLitePath: "/var/lib/cardflow/cardflow.db", MaxConns: 20, MigrateOnStart: false,
				IdempotencyRetention: 48 * time.Hour, PruneInterval: time.Minute, InstanceRetention: 90 * 24 * time.Hour}
			c.Queue.RedisURL = "redis://redis:6379/2"
			c.Queue.RequireAOF = true
			c.Queue.DeadLetterRetention = 14 * 24 * time.Hour
			c.Queue.MaxDeadLetters = 500
			c.Outbox = OutboxConfig{PollInterval: 200 * time.Millisecond, BatchSize: 64, Retention: 72 * time.Hour}
			c.Flows = FlowsConfig{Dir: "/etc/cardflow/flows", OrgFile: "/etc/cardflow/org.yaml"}
		}},
		{name: "byte count, aliases and an empty section", file: "testdata/good/sizes_and_anchors.yaml", want: func(c *Config) {
			c.Server.BodyLimit = 2 << 20
			c.Server.ShutdownTimeout = 20 * time.Second
			c.Server.ReadHeaderTimeout = 20 * time.Second
			c.Server.ReadTimeout = 20 * time.Second
		}},
		{name: "embedded store with redis", file: "testdata/good/sqlite_with_redis.yaml", want: func(c *Config) {
			c.Queue.RedisURL = "rediss://cache.internal:6380/0"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(tt.file, nil)
			require.NoError(t, err)
			want := Default()
			tt.want(want)
			got.sources = nil
			require.Equal(t, want, got)
		})
	}
}

func TestLoadBad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		want string
	}{
		{name: "unknown keys", file: "unknown_key.yaml", want: `
testdata/bad/unknown_key.yaml:2: server.adress: unknown key
testdata/bad/unknown_key.yaml:4: logging: unknown key`},
		{name: "wrong types", file: "wrong_types.yaml", want: `
testdata/bad/wrong_types.yaml:2: server.addr: expected a string, got the integer 8080
testdata/bad/wrong_types.yaml:3: server.body_limit: expected a size in bytes or such as "1MiB", got "lots"
testdata/bad/wrong_types.yaml:4: server.shutdown_timeout: expected a duration such as "15s", got the integer 15
testdata/bad/wrong_types.yaml:5: server.read_header_timeout: expected a duration such as "15s", got a list
testdata/bad/wrong_types.yaml:7: store.max_conns: expected an integer, got "ten"
testdata/bad/wrong_types.yaml:8: store.migrate_on_start: expected true or false, got "yes"
testdata/bad/wrong_types.yaml:10: outbox.batch_size: expected an integer, got the number 2.5
testdata/bad/wrong_types.yaml:11: flows: expected a mapping of keys, got the boolean true`},
		{name: "secret in the file", file: "secret_in_file.yaml", want: `
testdata/bad/secret_in_file.yaml:2: server.api_tokens: is a secret: set it in the environment variable CARDFLOW_SERVER_API_TOKENS, not in the file`},
		{name: "passwords in URLs", file: "password_in_file.yaml", want: `
testdata/bad/password_in_file.yaml:2: store.dsn: contains a password: set the whole value in the environment variable CARDFLOW_STORE_DSN, not in the file
testdata/bad/password_in_file.yaml:4: queue.redis_url: contains a password: set the whole value in the environment variable CARDFLOW_QUEUE_REDIS_URL, not in the file`},
		{name: "password in a key=value DSN", file: "password_in_kv_dsn.yaml", want: `
testdata/bad/password_in_kv_dsn.yaml:2: store.dsn: contains a password: set the whole value in the environment variable CARDFLOW_STORE_DSN, not in the file`},
		{name: "duplicate key", file: "duplicate_key.yaml", want: `
testdata/bad/duplicate_key.yaml:4: log.level: duplicate key (first at line 2)`},
		{name: "YAML syntax", file: "syntax.yaml", want: `
testdata/bad/syntax.yaml:2: did not find expected key`},
		{name: "top level not a mapping", file: "not_a_mapping.yaml", want: `
testdata/bad/not_a_mapping.yaml:1: expected a mapping of keys, got a list`},
		{name: "two documents", file: "two_documents.yaml", want: `
testdata/bad/two_documents.yaml:3: only one YAML document is allowed`},
		{name: "decimal size unit", file: "decimal_unit.yaml", want: `
testdata/bad/decimal_unit.yaml:2: server.body_limit: size "1MB" has unknown unit "MB": use B, KiB, MiB or GiB`},
		{name: "every invalid value at once", file: "invalid_values.yaml", want: `
server.addr: expected host:port such as ":8080", got "localhost" (testdata/bad/invalid_values.yaml:2)
server.body_limit: must be positive, got 0 (testdata/bad/invalid_values.yaml:3)
server.shutdown_timeout: must be positive, got -1s (testdata/bad/invalid_values.yaml:4)
server.read_header_timeout: must be positive, got 0s (testdata/bad/invalid_values.yaml:5)
server.read_timeout: must be positive, got 0s (testdata/bad/invalid_values.yaml:6)
server.write_timeout: must be positive, got 0s (testdata/bad/invalid_values.yaml:7)
server.idle_timeout: must be positive, got -1m0s (testdata/bad/invalid_values.yaml:8)
log.level: must be one of debug, info, warn, error, got "verbose" (testdata/bad/invalid_values.yaml:10)
log.format: must be json or text, got "xml" (testdata/bad/invalid_values.yaml:11)
store.sqlite_path: required when store.dsn is empty (the embedded store) (testdata/bad/invalid_values.yaml:13)
store.max_conns: must be at least 1, got 0 (testdata/bad/invalid_values.yaml:14)
outbox.poll_interval: must be positive, got 0s (testdata/bad/invalid_values.yaml:16)
outbox.batch_size: must be at least 1, got -1 (testdata/bad/invalid_values.yaml:17)`},
		{name: "whole-request timeout shorter than the headers'", file: "read_shorter_than_header.yaml", want: `
server.read_timeout: must not be shorter than server.read_header_timeout (10s): a request's headers are part of it, got 5s (testdata/bad/read_shorter_than_header.yaml:3)`},
		{name: "retentions and prune interval", file: "prune.yaml", want: `
store.idempotency_retention: must be positive, got 0s (testdata/bad/prune.yaml:2)
store.prune_interval: must be positive, got -5m0s (testdata/bad/prune.yaml:3)
store.instance_retention: must be 0 (keep forever) or at least 24h0m0s, got 1h0m0s (testdata/bad/prune.yaml:4)
store.card_retention: must be 0 (keep forever) or at least 24h0m0s, got -720h0m0s (testdata/bad/prune.yaml:5)
outbox.retention: must be positive, got 0s (testdata/bad/prune.yaml:7)`},
		{name: "dead-letter retention and cap", file: "dead_letters.yaml", want: `
queue.dead_letter_retention: must be 0 (keep them until queue.max_dead_letters) or positive, got -1h0m0s (testdata/bad/dead_letters.yaml:2)
queue.max_dead_letters: must be at least 1, got 0 (testdata/bad/dead_letters.yaml:3)`},
		{name: "incomplete platform sections", file: "platforms.yaml", want: `
feishu.app_id: required: the app's id (cli_…) (feishu.enabled from testdata/bad/platforms.yaml:2)
feishu.app_secret: required: set it in the environment variable CARDFLOW_FEISHU_APP_SECRET (feishu.enabled from testdata/bad/platforms.yaml:2)
feishu.verification_token: required: set it in the environment variable CARDFLOW_FEISHU_VERIFICATION_TOKEN (feishu.enabled from testdata/bad/platforms.yaml:2)
feishu.encrypt_key: required: set it in the environment variable CARDFLOW_FEISHU_ENCRYPT_KEY (feishu.enabled from testdata/bad/platforms.yaml:2)
feishu.mode: must be webhook or stream, got "websocket" (testdata/bad/platforms.yaml:3)
wecom.agent_id: required: the app's AgentId, a positive number, got 0 (wecom.enabled from testdata/bad/platforms.yaml:5)
wecom.secret: required: set it in the environment variable CARDFLOW_WECOM_SECRET (wecom.enabled from testdata/bad/platforms.yaml:5)
wecom.token: required: set it in the environment variable CARDFLOW_WECOM_TOKEN (wecom.enabled from testdata/bad/platforms.yaml:5)
wecom.encoding_aes_key: required: set it in the environment variable CARDFLOW_WECOM_ENCODING_AES_KEY (wecom.enabled from testdata/bad/platforms.yaml:5)
dingtalk.client_id: required: the app's AppKey (dingtalk.enabled from testdata/bad/platforms.yaml:8)
dingtalk.client_secret: required: set it in the environment variable CARDFLOW_DINGTALK_CLIENT_SECRET (dingtalk.enabled from testdata/bad/platforms.yaml:8)
dingtalk.robot_code: required: the app robot's code (dingtalk.enabled from testdata/bad/platforms.yaml:8)
dingtalk.card_template_id: required: the card template's id (….schema) (dingtalk.enabled from testdata/bad/platforms.yaml:8)
dingtalk.base_url: expected an http(s) URL such as https://api.dingtalk.com, got "api.dingtalk.com" (testdata/bad/platforms.yaml:9)`},
		{name: "stock push settings", file: "stock_push.yaml", want: `
stock.push_alert_after: must be at least 1, got 0 (testdata/bad/stock_push.yaml:2)
stock.push_interval: must be positive, got 0s (testdata/bad/stock_push.yaml:3)`},
		{name: "postgres without redis", file: "postgres_without_redis.yaml", want: `
queue.redis_url: required when store.dsn is set: several instances share work through Redis (store.dsn from testdata/bad/postgres_without_redis.yaml:2)`},
		{name: "wrong URL schemes", file: "wrong_schemes.yaml", want: `
store.dsn: expected a postgres:// URL or a key=value DSN such as "host=db dbname=cardflow" (testdata/bad/wrong_schemes.yaml:2)
queue.redis_url: expected a redis://, rediss:// or unix:// URL (testdata/bad/wrong_schemes.yaml:4)`},
	}
	files, err := filepath.Glob("testdata/bad/*.yaml")
	require.NoError(t, err)
	require.Len(t, files, len(tests), "every bad fixture has a row, and every row a fixture")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(filepath.Join("testdata/bad", tt.file), nil)
			require.Nil(t, cfg)
			require.EqualError(t, err, strings.TrimPrefix(tt.want, "\n"))
			for _, secret := range []string{"hunter", "s3cr3t-redis", "do-not-put-tokens-here"} {
				require.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/none.yaml", nil)
	require.EqualError(t, err, "config: open testdata/none.yaml: no such file or directory")
}

func TestEnvOverrides(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		check   func(t *testing.T, c *Config)
		wantErr string
	}{
		{
			name: "env wins over the file and records its source",
			file: "testdata/good/full.yaml",
			env:  map[string]string{"CARDFLOW_SERVER_ADDR": ":9999", "CARDFLOW_OUTBOX_BATCH_SIZE": "1000", "CARDFLOW_FLOWS_ORG_FILE": ""},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, ":9999", c.Server.Addr)
				require.Equal(t, 1000, c.Outbox.BatchSize)
				require.Empty(t, c.Flows.OrgFile, "an empty variable clears a key")
				require.Equal(t, "env CARDFLOW_SERVER_ADDR", c.Source("server.addr"))
				require.Equal(t, "testdata/good/full.yaml:3", c.Source("server.body_limit"))
				require.Equal(t, "default", Default().Source("server.addr"))
			},
		},
		{
			name: "secrets and passwords from the environment",
			env: map[string]string{
				"CARDFLOW_SERVER_API_TOKENS":    "first-token-0123456789, second-token-0123456789",
				"CARDFLOW_STORE_DSN":            "postgres://cardflow:hunter2@db/cardflow",
				"CARDFLOW_QUEUE_REDIS_URL":      "redis://:s3cr3t@redis:6379/0",
				"CARDFLOW_SERVER_BODY_LIMIT":    "4MiB",
				"CARDFLOW_OUTBOX_POLL_INTERVAL": "1s",
			},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, []Secret{"first-token-0123456789", "second-token-0123456789"}, c.Server.APITokens)
				require.Equal(t, "postgres://cardflow:hunter2@db/cardflow", c.Store.DSN.Reveal())
				require.Equal(t, ByteSize(4<<20), c.Server.BodyLimit)
				require.Equal(t, time.Second, c.Outbox.PollInterval)
				require.ElementsMatch(t, []string{"first-token-0123456789", "second-token-0123456789", "hunter2", "s3cr3t"}, c.Secrets())
			},
		},
		{
			name: "dead letters kept until the cap, a smaller cap",
			env:  map[string]string{"CARDFLOW_QUEUE_DEAD_LETTER_RETENTION": "0s", "CARDFLOW_QUEUE_MAX_DEAD_LETTERS": "200"},
			check: func(t *testing.T, c *Config) {
				require.Zero(t, c.Queue.DeadLetterRetention)
				require.Equal(t, 200, c.Queue.MaxDeadLetters)
				require.Equal(t, "env CARDFLOW_QUEUE_MAX_DEAD_LETTERS", c.Source("queue.max_dead_letters"))
				def := Default()
				require.Equal(t, 30*24*time.Hour, def.Queue.DeadLetterRetention)
				require.Equal(t, 10_000, def.Queue.MaxDeadLetters)
			},
		},
		{
			name:    "a dead-letter retention without a unit",
			env:     map[string]string{"CARDFLOW_QUEUE_DEAD_LETTER_RETENTION": "30"},
			wantErr: `CARDFLOW_QUEUE_DEAD_LETTER_RETENTION: queue.dead_letter_retention: expected a duration such as "15s", got "30"`,
		},
		{
			name: "more delivery workers",
			env:  map[string]string{"CARDFLOW_QUEUE_DELIVERY_WORKERS": "64"},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, 64, c.Queue.DeliveryWorkers)
				require.Equal(t, 32, Default().Queue.DeliveryWorkers)
			},
		},
		{
			name:    "no delivery worker",
			env:     map[string]string{"CARDFLOW_QUEUE_DELIVERY_WORKERS": "0"},
			wantErr: `queue.delivery_workers: must be from 1 to 1024, got 0 (env CARDFLOW_QUEUE_DELIVERY_WORKERS)`,
		},
		{
			name:    "a dead-letter cap below 1 from the environment",
			env:     map[string]string{"CARDFLOW_QUEUE_MAX_DEAD_LETTERS": "-5"},
			wantErr: `queue.max_dead_letters: must be at least 1, got -5 (env CARDFLOW_QUEUE_MAX_DEAD_LETTERS)`,
		},
		{
			name: "an empty value clears a key",
			file: "testdata/good/sqlite_with_redis.yaml",
			env:  map[string]string{"CARDFLOW_QUEUE_REDIS_URL": ""},
			check: func(t *testing.T, c *Config) {
				require.True(t, c.Queue.RedisURL.IsZero())
			},
		},
		{
			name: "malformed values name the variable",
			env: map[string]string{
				"CARDFLOW_SERVER_BODY_LIMIT":       "big",
				"CARDFLOW_STORE_MIGRATE_ON_START":  "maybe",
				"CARDFLOW_STORE_MAX_CONNS":         "1e3",
				"CARDFLOW_SERVER_SHUTDOWN_TIMEOUT": "15",
				"CARDFLOW_SERVER_API_TOKENS":       "tok-0123456789abcdef,,other",
			},
			wantErr: `CARDFLOW_SERVER_BODY_LIMIT: server.body_limit: expected a size in bytes or such as "1MiB", got "big"
CARDFLOW_SERVER_SHUTDOWN_TIMEOUT: server.shutdown_timeout: expected a duration such as "15s", got "15"
CARDFLOW_SERVER_API_TOKENS: server.api_tokens: item 1 of the comma-separated list is empty
CARDFLOW_STORE_MAX_CONNS: store.max_conns: expected an integer, got "1e3"
CARDFLOW_STORE_MIGRATE_ON_START: store.migrate_on_start: expected true or false, got "maybe"`,
		},
		{
			name: "validation names the variable",
			env: map[string]string{
				"CARDFLOW_OUTBOX_BATCH_SIZE": "0",
				"CARDFLOW_SERVER_API_TOKENS": "long-enough-token-123,short",
				"CARDFLOW_STORE_DSN":         "host=db user=cardflow password=hunter2",
			},
			wantErr: `server.api_tokens[1]: too short: a bearer token needs at least 16 characters (server.api_tokens from env CARDFLOW_SERVER_API_TOKENS)
outbox.batch_size: must be at least 1, got 0 (env CARDFLOW_OUTBOX_BATCH_SIZE)
queue.redis_url: required when store.dsn is set: several instances share work through Redis (store.dsn from env CARDFLOW_STORE_DSN)`,
		},
		{
			name: "stock push targets from the environment",
			env:  map[string]string{"CARDFLOW_STOCK_PUSH_TARGETS": "tmall-bridge=https://bridge.example.com/stock#hunter2-push-secret-0"},
			check: func(t *testing.T, c *Config) {
				targets, err := ParsePushTargets(c.Stock.PushTargets)
				require.NoError(t, err)
				require.Equal(t, []PushTarget{{Name: "tmall-bridge", URL: "https://bridge.example.com/stock",
					SignSecret: "hunter2-push-secret-0"}}, targets)
				require.Equal(t, 5, c.Stock.PushAlertAfter)
				require.Equal(t, 2*time.Second, c.Stock.PushInterval)
			},
		},
		{
			name:    "a stock push target without a long enough secret",
			env:     map[string]string{"CARDFLOW_STOCK_PUSH_TARGETS": "shop=https://a.example.com/s?token=hunter2#short,"},
			wantErr: `CARDFLOW_STOCK_PUSH_TARGETS: stock.push_targets: item 1 of the comma-separated list is empty`,
		},
		{
			name:    "a stock push target whose secret is too short",
			env:     map[string]string{"CARDFLOW_STOCK_PUSH_TARGETS": "shop=https://a.example.com/s?token=hunter2#short"},
			wantErr: `stock.push_targets: item 0 (target shop): add a signing secret of at least 16 bytes after the URL as #<secret> (env CARDFLOW_STOCK_PUSH_TARGETS)`,
		},
		{
			name:    "a stock push target that is not a URL",
			env:     map[string]string{"CARDFLOW_STOCK_PUSH_TARGETS": "shop=hunter2.example.com#0123456789abcdef"},
			wantErr: `stock.push_targets: item 0 (target shop): the URL is not an http(s) URL (env CARDFLOW_STOCK_PUSH_TARGETS)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tt.file, env(tt.env))
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), "hunter2")
				require.NotContains(t, err.Error(), "short,")
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

// TestEveryKeyHasAnEnvVar sets every key through its variable, so a key
// whose type the environment cannot parse fails here rather than in
// production.
func TestEveryKeyHasAnEnvVar(t *testing.T) {
	t.Parallel()
	values := map[string]string{}
	for _, key := range keys(t) {
		values[EnvVar(key.path)] = key.sample
	}
	c := Default()
	c.sources = map[string]string{}
	require.Empty(t, applyEnv(c, env(values)))
	for _, key := range keys(t) {
		require.Equal(t, "env "+EnvVar(key.path), c.Source(key.path))
	}
}

func TestValidateDefaults(t *testing.T) {
	t.Parallel()
	require.NoError(t, Default().Validate())
	c := Default()
	c.Store.DSN = "postgres://db/cardflow"
	require.EqualError(t, c.Validate(), "queue.redis_url: required when store.dsn is set: several instances share work through Redis (store.dsn from default)")
	c.Queue.RedisURL = "unix:///run/redis.sock"
	require.NoError(t, c.Validate())
}

func TestNewLogger(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	LogConfig{Level: "warn", Format: "text"}.NewLogger(&b).Info("dropped")
	LogConfig{Level: "warn", Format: "text"}.NewLogger(&b).Warn("kept")
	require.Contains(t, b.String(), "level=WARN msg=kept")
	require.NotContains(t, b.String(), "dropped")
	b.Reset()
	LogConfig{Level: "debug", Format: "json"}.NewLogger(&b).Debug("hello")
	require.Contains(t, b.String(), `"level":"DEBUG","msg":"hello"`)
}

// TestReadLayers: a base (the demo's defaults) under the file, the file
// under the environment, the environment under overrides (flags); each key
// reports the layer it came from.
func TestReadLayers(t *testing.T) {
	t.Parallel()
	base := Default()
	base.Server.Addr = "127.0.0.1:8080"
	base.Log.Format = "text"
	base.Flows.OrgFile = "org.yaml"
	c, err := Read(Sources{
		Base:      base,
		File:      "testdata/good/full.yaml", // sets server.addr, log.format, flows.org_file, store.sqlite_path
		LookupEnv: env(map[string]string{"CARDFLOW_SERVER_ADDR": ":9999", "CARDFLOW_STORE_SQLITE_PATH": "env.db"}),
		Overrides: []Override{{Key: "store.sqlite_path", Value: "flag.db", Source: "flag --data"}},
	})
	require.NoError(t, err)
	require.Equal(t, ":9999", c.Server.Addr)
	require.Equal(t, "env CARDFLOW_SERVER_ADDR", c.Source("server.addr"))
	require.Equal(t, "flag.db", c.Store.SQLitePath)
	require.Equal(t, "flag --data", c.Source("store.sqlite_path"))
	require.Equal(t, "text", c.Log.Format)
	require.Equal(t, "testdata/good/full.yaml:11", c.Source("log.format"))

	c, err = Read(Sources{Base: base})
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", c.Server.Addr, "the base holds keys nobody sets")
	require.Equal(t, "default", c.Source("server.addr"))
	require.Equal(t, "org.yaml", c.Flows.OrgFile)
	c.Server.Addr = ":1"
	require.Equal(t, "127.0.0.1:8080", base.Server.Addr, "Read copies the base")
}

func TestReadBadOverrides(t *testing.T) {
	t.Parallel()
	_, err := Read(Sources{Overrides: []Override{
		{Key: "server.adr", Value: ":1", Source: "flag --addr"},
		{Key: "server.shutdown_timeout", Value: "soon", Source: "flag --grace"},
	}})
	require.EqualError(t, err, `flag --addr: server.adr: unknown key
flag --grace: server.shutdown_timeout: expected a duration such as "15s", got "soon"`)

	c, err := Read(Sources{Overrides: []Override{{Key: "server.addr", Value: "nohost", Source: "flag --addr"}}})
	require.NoError(t, err, "Read does not validate values")
	require.EqualError(t, c.Validate(), `server.addr: expected host:port such as ":8080", got "nohost" (flag --addr)`)
}

// TestValidateStore: migrating needs only the store, so PostgreSQL without
// the Redis a server requires passes, and a bad store value still fails.
func TestValidateStore(t *testing.T) {
	t.Parallel()
	c, err := Read(Sources{File: "testdata/bad/postgres_without_redis.yaml"})
	require.NoError(t, err)
	require.NoError(t, c.ValidateStore())
	require.ErrorContains(t, c.Validate(), "queue.redis_url: required when store.dsn is set")

	c, err = Read(Sources{LookupEnv: env(map[string]string{
		"CARDFLOW_STORE_DSN":       "mysql://db/cardflow",
		"CARDFLOW_STORE_MAX_CONNS": "0",
		"CARDFLOW_SERVER_ADDR":     "nohost",
	})})
	require.NoError(t, err)
	require.EqualError(t, c.ValidateStore(), `store.dsn: expected a postgres:// URL or a key=value DSN such as "host=db dbname=cardflow" (env CARDFLOW_STORE_DSN)
store.max_conns: must be at least 1, got 0 (env CARDFLOW_STORE_MAX_CONNS)`)
}

// TestValidatePrune: pruning needs the store, the outbox's retention and
// the queue's dead-letter settings, and nothing else a server demands.
func TestValidatePrune(t *testing.T) {
	t.Parallel()
	c, err := Read(Sources{File: "testdata/bad/postgres_without_redis.yaml"})
	require.NoError(t, err)
	require.NoError(t, c.ValidatePrune())

	c, err = Read(Sources{LookupEnv: env(map[string]string{
		"CARDFLOW_STORE_MAX_CONNS":             "0",
		"CARDFLOW_OUTBOX_RETENTION":            "0s",
		"CARDFLOW_OUTBOX_POLL_INTERVAL":        "0s",
		"CARDFLOW_QUEUE_DEAD_LETTER_RETENTION": "-1h",
		"CARDFLOW_QUEUE_MAX_DEAD_LETTERS":      "0",
		"CARDFLOW_SERVER_ADDR":                 "nohost",
	})})
	require.NoError(t, err)
	require.EqualError(t, c.ValidatePrune(), `store.max_conns: must be at least 1, got 0 (env CARDFLOW_STORE_MAX_CONNS)
outbox.retention: must be positive, got 0s (env CARDFLOW_OUTBOX_RETENTION)
queue.dead_letter_retention: must be 0 (keep them until queue.max_dead_letters) or positive, got -1h0m0s (env CARDFLOW_QUEUE_DEAD_LETTER_RETENTION)
queue.max_dead_letters: must be at least 1, got 0 (env CARDFLOW_QUEUE_MAX_DEAD_LETTERS)`)
}
