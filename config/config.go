// Package config loads cardflow's configuration: one YAML file, every key of
// which the environment can override as CARDFLOW_<SECTION>_<KEY>, and
// secrets that may come from the environment only.
//
// Load applies the defaults once, lays the file over them, then the
// environment, and validates the result. Every problem is reported at once,
// each with its key path and where the value came from (file:line or the
// environment variable); nothing is silently repaired.
//
// Adding a section means adding a struct field with a yaml tag to Config,
// its defaults to Default, its checks to Validate, and its keys to
// configs/cardflow.example.yaml; the decoder, the environment overrides and
// the secret handling follow from the field types (Secret and []Secret are
// environment-only; a DSN may not carry a password in the file).
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"time"
)

// Config is the whole configuration of one cardflow process.
type Config struct {
	Server ServerConfig `yaml:"server"`
	Log    LogConfig    `yaml:"log"`
	Store  StoreConfig  `yaml:"store"`
	Queue  QueueConfig  `yaml:"queue"`
	Outbox OutboxConfig `yaml:"outbox"`
	Flows  FlowsConfig  `yaml:"flows"`
	Sim    SimConfig    `yaml:"sim"`

	Console ConsoleConfig `yaml:"console"`

	Feishu   FeishuConfig   `yaml:"feishu"`
	WeCom    WeComConfig    `yaml:"wecom"`
	DingTalk DingTalkConfig `yaml:"dingtalk"`

	Orders OrdersConfig `yaml:"orders"`
	Stock  StockConfig  `yaml:"stock"`
	KPI    KPIConfig    `yaml:"kpi"`

	Analytics AnalyticsConfig `yaml:"analytics"`

	// sources records where each key path got its value ("cardflow.yaml:7"
	// or "env CARDFLOW_SERVER_ADDR"); keys absent here hold their default.
	sources map[string]string
}

// ServerConfig is the HTTP server.
type ServerConfig struct {
	// Addr is the listen address, host:port.
	Addr string `yaml:"addr"`
	// BodyLimit caps a request body; larger bodies get 413.
	BodyLimit ByteSize `yaml:"body_limit"`
	// ShutdownTimeout bounds how long in-flight requests may run after a
	// shutdown signal.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// ReadHeaderTimeout bounds how long a client may take to send headers.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds how long a client may take to send a whole
	// request, headers and body, so a client dribbling its body is cut
	// instead of holding a connection (and a graceful shutdown) open.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds the time from the end of the request headers to
	// the end of the response, so a client that stops reading is cut.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes keep-alive connections idle for this long.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// PublicURL is where people's chat apps reach this server (behind its
	// load balancer): chart images on cards link to it. Empty: links are
	// relative, which only the simulator can open.
	PublicURL string `yaml:"public_url"`
	// APITokens are bearer tokens /api/v1 accepts with the write scope;
	// environment only, comma separated. Tokens made with `cardflow tokens
	// create` are accepted beside them.
	APITokens []Secret `yaml:"api_tokens"`
	// AdminTokens are bearer tokens with the admin scope: they may also
	// administer, set leave proxies (代理) over /api/v1. Environment only,
	// comma separated; an admin token is accepted wherever an API token is.
	AdminTokens []Secret `yaml:"admin_tokens"`
}

// LogConfig is the process log.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

// StoreConfig chooses and tunes the flow store.
type StoreConfig struct {
	// DSN is a PostgreSQL URL or key=value DSN; empty means the embedded
	// SQLite store at SQLitePath.
	DSN DSN `yaml:"dsn"`
	// SQLitePath is the embedded store's database file.
	SQLitePath string `yaml:"sqlite_path"`
	// MaxConns caps the store's open connections.
	MaxConns int `yaml:"max_conns"`
	// MigrateOnStart applies pending schema migrations at start-up.
	MigrateOnStart bool `yaml:"migrate_on_start"`
	// IdempotencyRetention is how long an idempotency key is kept: a request
	// retried within it gets its first answer, a later one is applied anew.
	IdempotencyRetention time.Duration `yaml:"idempotency_retention"`
	// PruneInterval is how often one instance deletes sent outbox messages
	// and idempotency keys older than their retention.
	PruneInterval time.Duration `yaml:"prune_interval"`
	// InstanceRetention is how long a finished instance is kept, with its
	// tasks, audit trail and cards, after it finished; 0 keeps it forever.
	InstanceRetention time.Duration `yaml:"instance_retention"`
	// CardRetention is how long the records of a finished instance's cards
	// (which message shows which card) and of posted digests are kept; a
	// finished instance's cards no longer change, so nothing needs them
	// after it. 0 keeps them as long as their instance.
	CardRetention time.Duration `yaml:"card_retention"`
}

// MinRetention is the shortest instance or card retention allowed: a record
// must outlast the delivery retries and a digest's catch-up window, which
// would otherwise send its card again.
const MinRetention = 24 * time.Hour

// QueueConfig chooses the work queue.
type QueueConfig struct {
	// RedisURL is a redis://, rediss:// or unix:// URL; empty means the
	// in-process queue, which only the embedded store may use.
	RedisURL DSN `yaml:"redis_url"`
	// KeyPrefix starts every Redis key the queue writes, so deployments (or
	// test runs) can share one Redis without seeing each other's work.
	KeyPrefix string `yaml:"key_prefix"`
	// RequireAOF refuses to start when Redis reports appendonly no: a Redis
	// restarted without persistence loses the notifications the outbox
	// relay has already marked sent. When false that is a loud warning.
	RequireAOF bool `yaml:"require_aof"`
	// DeadLetterRetention is how long a dead letter (a message that failed
	// for good) is kept after it died, for someone to replay or discard it;
	// the prune loop deletes older ones. 0 keeps them until MaxDeadLetters
	// pushes them out.
	DeadLetterRetention time.Duration `yaml:"dead_letter_retention"`
	// MaxDeadLetters caps the dead letters kept per topic whatever their
	// age: at the cap the oldest goes when another message dies.
	MaxDeadLetters int `yaml:"max_dead_letters"`
	// DeliveryWorkers is how many notifications one instance delivers at
	// once. A delivery waits mostly on the chat platform and the store, so
	// more than the cores; the platforms' rate limits hold whatever it is.
	DeliveryWorkers int `yaml:"delivery_workers"`
}

// OutboxConfig tunes the relay from the store's outbox to the queue.
type OutboxConfig struct {
	// PollInterval is how often the relay looks for unsent messages.
	PollInterval time.Duration `yaml:"poll_interval"`
	// BatchSize is how many messages one poll relays at most.
	BatchSize int `yaml:"batch_size"`
	// Retention is how long a sent message is kept, as the history of what
	// was notified; unsent messages are never deleted.
	Retention time.Duration `yaml:"retention"`
}

// FlowsConfig says where the flow definitions and the org directory are
// read from at start-up.
type FlowsConfig struct {
	// Dir holds the flow definitions (*.yaml); every file is validated at
	// start-up and a changed file is stored as a new version.
	Dir string `yaml:"dir"`
	// OrgFile, when set, replaces the org directory (users, roles,
	// departments, platform user ids) with this file's at start-up.
	OrgFile string `yaml:"org_file"`
}

// SimConfig is the chat simulator, the browser chat platform of the demo.
type SimConfig struct {
	// Enabled serves the simulator at /sim/ and delivers cards to it.
	// cardflow demo turns it on; elsewhere it is off, and when turned on
	// it answers only with an admin token (HTTP Basic, token as password).
	Enabled bool `yaml:"enabled"`
}

// Default returns the configuration used for every key that neither the file
// nor the environment sets.
func Default() *Config {
	return &Config{
		Server: ServerConfig{
			Addr:              ":8080",
			BodyLimit:         1 << 20,
			ShutdownTimeout:   15 * time.Second,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
		Log: LogConfig{Level: "info", Format: "json"},
		Store: StoreConfig{SQLitePath: "./data/cardflow.db", MaxConns: 10, MigrateOnStart: true, IdempotencyRetention: 7 * 24 * time.Hour, PruneInterval: 10 * time.Minute,
			InstanceRetention: 365 * 24 * time.Hour, CardRetention: 30 * 24 * time.Hour},
		Queue: QueueConfig{KeyPrefix: "cardflow:q:", DeadLetterRetention: 30 * 24 * time.Hour,
			MaxDeadLetters:  10_000, // queue.DefaultMaxDeadLetters; config imports no cardflow package
			DeliveryWorkers: 32},
		Flows:    FlowsConfig{Dir: "configs/flows"},
		Outbox:   OutboxConfig{PollInterval: 50 * time.Millisecond, BatchSize: 256, Retention: 7 * 24 * time.Hour},
		Feishu:   FeishuConfig{Mode: ModeWebhook, BaseURL: "https://open.feishu.cn", Timeout: 10 * time.Second},
		WeCom:    WeComConfig{BaseURL: "https://qyapi.weixin.qq.com", Timeout: 10 * time.Second},
		DingTalk: DingTalkConfig{Mode: ModeStream, BaseURL: "https://api.dingtalk.com", Timeout: 10 * time.Second},
		Orders: OrdersConfig{RouteInterval: 5 * time.Second, PollInterval: time.Minute,
			JD: JDPollConfig{Source: "jd", BaseURL: "https://api.jd.com/routerjson"}},
		Stock:     StockConfig{Warehouse: "main", AlertPlatform: "tmall", PushAlertAfter: 5, PushInterval: 2 * time.Second},
		KPI:       KPIConfig{AlertInterval: time.Minute},
		Analytics: AnalyticsConfig{Window: 30 * 24 * time.Hour},

		Console: ConsoleConfig{SessionTTL: 12 * time.Hour},
	}
}

// Load reads the configuration: defaults, then the YAML file at path (none
// when path is ""), then environment variables looked up with lookupEnv
// (os.LookupEnv in production; nil means no environment), then Validate.
// Its error lists every problem found, one per line.
func Load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	cfg, err := Read(Sources{File: path, LookupEnv: lookupEnv})
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Sources are the layers Read lays over each other, each overriding the
// ones before it: Base, File, the environment, Overrides.
type Sources struct {
	// Base holds the values of keys no other layer sets; nil means Default.
	// Its values are reported as "default" by Source.
	Base *Config
	// File is the YAML file to read; "" means none.
	File string
	// LookupEnv looks up CARDFLOW_<SECTION>_<KEY> variables (os.LookupEnv
	// in production); nil means no environment.
	LookupEnv func(string) (string, bool)
	// Overrides win over everything else: a command's flags.
	Overrides []Override
}

// Override sets one key from a source other than the file or the
// environment, such as a command-line flag.
type Override struct {
	// Key is the key path, such as "server.addr".
	Key string
	// Value is parsed as the environment variable's would be.
	Value string
	// Source names it in messages and in Config.Source, such as "flag --addr".
	Source string
}

// Read lays the sources over each other (see Sources) and returns the
// result without checking its values: the caller validates what it uses
// (Validate for a server, ValidateStore for migrations, ValidatePrune for
// cardflow prune). Its error lists every value that could not be read at
// all: unknown keys, wrong types, secrets in the file.
func Read(s Sources) (*Config, error) {
	cfg := Default()
	if s.Base != nil {
		base := *s.Base
		cfg = &base
	}
	cfg.sources = map[string]string{}
	var errs []error
	if s.File != "" {
		data, err := os.ReadFile(s.File)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		errs = append(errs, decodeFile(cfg, s.File, data)...)
	}
	if s.LookupEnv != nil {
		errs = append(errs, applyEnv(cfg, s.LookupEnv)...)
	}
	errs = append(errs, applyOverrides(cfg, s.Overrides)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Source tells where the value of a key path such as "server.addr" came
// from: "file.yaml:7", "env CARDFLOW_SERVER_ADDR", or "default".
func (c *Config) Source(key string) string {
	if s, ok := c.sources[key]; ok {
		return s
	}
	return "default"
}

// Secrets returns every secret value the configuration holds (tokens and
// the passwords of DSNs), so that error messages from third-party code can
// be scrubbed of them before they are shown or logged.
func (c *Config) Secrets() []string {
	var out []string
	walkLeaves(reflect.ValueOf(c).Elem(), "", func(_ string, f reflect.Value) {
		switch v := f.Interface().(type) {
		case Secret:
			if !v.IsZero() {
				out = append(out, v.Reveal())
			}
		case []Secret:
			for _, s := range v {
				if !s.IsZero() {
					out = append(out, s.Reveal())
				}
			}
		case DSN:
			if p, ok := v.Password(); ok {
				out = append(out, p)
			}
		}
	})
	return out
}

// SlogLevel returns the configured level; an unknown level (which Validate
// rejects) reads as info.
func (l LogConfig) SlogLevel() slog.Level {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return slog.LevelInfo
	}
	return lv
}

// NewLogger returns a logger writing to w in the configured format and level.
func (l LogConfig) NewLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: l.SlogLevel()}
	if l.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
