package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"
)

// minTokenLen is the shortest bearer token accepted: shorter ones can be
// guessed.
const minTokenLen = 16

// Validate checks the whole configuration and returns every problem joined
// (errors.Join), one per line, as "key: what is wrong (where it was set)".
// It never changes a value.
func (c *Config) Validate() error {
	p := &problems{cfg: c}
	c.Server.validate(p)
	c.Log.validate(p)
	c.Store.validate(p)
	c.Queue.validate(p)
	c.Outbox.validate(p)
	if c.Flows.Dir == "" {
		p.add("flows.dir", "required: the directory of flow definitions")
	}
	c.Feishu.validate(p)
	c.WeCom.validate(p)
	c.DingTalk.validate(p)
	c.Orders.validate(p)
	c.KPI.validate(p)
	c.Analytics.validate(p)
	if c.Server.PublicURL != "" {
		checkBase(p, "server.public_url", c.Server.PublicURL, "https://cardflow.example.com")
	}
	c.Stock.validate(p)
	c.validateConsole(p)
	c.checkCombination(p)
	return errors.Join(p.errs...)
}

// ValidateStore checks only the store section, for commands that use
// nothing else (cardflow migrate): a server's other settings, such as the
// Redis URL that PostgreSQL requires for serving, are not theirs to demand.
func (c *Config) ValidateStore() error {
	p := &problems{cfg: c}
	c.Store.validate(p)
	return errors.Join(p.errs...)
}

// ValidatePrune checks what cardflow prune uses: the store section, the
// outbox's retention and the queue's dead-letter settings (the Redis
// queue's dead letters are pruned too). Like ValidateStore, it demands
// nothing else a server needs.
func (c *Config) ValidatePrune() error {
	p := &problems{cfg: c}
	c.Store.validate(p)
	c.Outbox.validateRetention(p)
	c.Queue.validateDeadLetters(p)
	return errors.Join(p.errs...)
}

// problems collects validation errors with the source of each key.
type problems struct {
	cfg  *Config
	errs []error
}

func (p *problems) add(key, format string, args ...any) {
	p.addFrom(key, key, format, args...)
}

// addFrom reports a problem with key whose cause is the value of another
// key, such as a Redis URL required because a DSN was set.
func (p *problems) addFrom(key, cause, format string, args ...any) {
	src := p.cfg.Source(cause)
	if cause != key {
		src = cause + " from " + src
	}
	p.errs = append(p.errs, fmt.Errorf("%s: %s (%s)", key, fmt.Sprintf(format, args...), src))
}

func (s ServerConfig) validate(p *problems) {
	if _, port, err := net.SplitHostPort(s.Addr); err != nil || port == "" {
		p.add("server.addr", "expected host:port such as \":8080\", got %q", s.Addr)
	}
	if s.BodyLimit <= 0 {
		p.add("server.body_limit", "must be positive, got %d", int64(s.BodyLimit))
	}
	if s.ShutdownTimeout <= 0 {
		p.add("server.shutdown_timeout", "must be positive, got %s", s.ShutdownTimeout)
	}
	if s.ReadHeaderTimeout <= 0 {
		p.add("server.read_header_timeout", "must be positive, got %s", s.ReadHeaderTimeout)
	}
	switch {
	case s.ReadTimeout <= 0:
		p.add("server.read_timeout", "must be positive, got %s", s.ReadTimeout)
	case s.ReadTimeout < s.ReadHeaderTimeout:
		p.add("server.read_timeout", "must not be shorter than server.read_header_timeout (%s): a request's headers are part of it, got %s",
			s.ReadHeaderTimeout, s.ReadTimeout)
	}
	if s.WriteTimeout <= 0 {
		p.add("server.write_timeout", "must be positive, got %s", s.WriteTimeout)
	}
	if s.IdleTimeout <= 0 {
		p.add("server.idle_timeout", "must be positive, got %s", s.IdleTimeout)
	}
	for i, t := range s.APITokens {
		if len(t.Reveal()) < minTokenLen {
			p.addFrom(fmt.Sprintf("server.api_tokens[%d]", i), "server.api_tokens",
				"too short: a bearer token needs at least %d characters", minTokenLen)
		}
	}
	for i, t := range s.AdminTokens {
		if len(t.Reveal()) < minTokenLen {
			p.addFrom(fmt.Sprintf("server.admin_tokens[%d]", i), "server.admin_tokens",
				"too short: a bearer token needs at least %d characters", minTokenLen)
		}
	}
}

func (l LogConfig) validate(p *problems) {
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, l.Level) {
		p.add("log.level", "must be one of debug, info, warn, error, got %q", l.Level)
	}
	if l.Format != "json" && l.Format != "text" {
		p.add("log.format", "must be json or text, got %q", l.Format)
	}
}

func (s StoreConfig) validate(p *problems) {
	if !s.DSN.IsZero() && !isPostgresDSN(s.DSN) {
		// The value is not shown: it may be a password pasted by mistake.
		p.add("store.dsn", "expected a postgres:// URL or a key=value DSN such as \"host=db dbname=cardflow\"")
	}
	if s.DSN.IsZero() && s.SQLitePath == "" {
		p.add("store.sqlite_path", "required when store.dsn is empty (the embedded store)")
	}
	if s.MaxConns < 1 {
		p.add("store.max_conns", "must be at least 1, got %d", s.MaxConns)
	}
	if s.IdempotencyRetention <= 0 {
		p.add("store.idempotency_retention", "must be positive, got %s", s.IdempotencyRetention)
	}
	if s.PruneInterval <= 0 {
		p.add("store.prune_interval", "must be positive, got %s", s.PruneInterval)
	}
	for _, r := range []struct {
		key string
		d   time.Duration
	}{{"store.instance_retention", s.InstanceRetention}, {"store.card_retention", s.CardRetention}} {
		if r.d != 0 && r.d < MinRetention {
			p.add(r.key, "must be 0 (keep forever) or at least %s, got %s", MinRetention, r.d)
		}
	}
}

func (q QueueConfig) validate(p *problems) {
	if q.KeyPrefix == "" {
		p.add("queue.key_prefix", "must not be empty: keys without a prefix could collide with other users of the Redis")
	}
	q.validateDeadLetters(p)
	if q.DeliveryWorkers < 1 || q.DeliveryWorkers > 1024 {
		p.add("queue.delivery_workers", "must be from 1 to 1024, got %d", q.DeliveryWorkers)
	}
	if q.RedisURL.IsZero() {
		return
	}
	u, ok := parseURL(q.RedisURL.Reveal())
	if !ok || !slices.Contains([]string{"redis", "rediss", "unix"}, u.Scheme) {
		p.add("queue.redis_url", "expected a redis://, rediss:// or unix:// URL")
	}
}

func (q QueueConfig) validateDeadLetters(p *problems) {
	if q.DeadLetterRetention < 0 {
		p.add("queue.dead_letter_retention", "must be 0 (keep them until queue.max_dead_letters) or positive, got %s", q.DeadLetterRetention)
	}
	if q.MaxDeadLetters < 1 {
		p.add("queue.max_dead_letters", "must be at least 1, got %d", q.MaxDeadLetters)
	}
}

func (o OutboxConfig) validate(p *problems) {
	if o.PollInterval <= 0 {
		p.add("outbox.poll_interval", "must be positive, got %s", o.PollInterval)
	}
	if o.BatchSize < 1 {
		p.add("outbox.batch_size", "must be at least 1, got %d", o.BatchSize)
	}
	o.validateRetention(p)
}

func (o OutboxConfig) validateRetention(p *problems) {
	if o.Retention <= 0 {
		p.add("outbox.retention", "must be positive, got %s", o.Retention)
	}
}

// checkCombination allows {embedded store, in-process queue}, {PostgreSQL,
// Redis} and {SQLite, Redis}. PostgreSQL without Redis is refused: a shared
// database means several instances, and the in-process queue would strand
// each instance's work in its own memory.
func (c *Config) checkCombination(p *problems) {
	if !c.Store.DSN.IsZero() && c.Queue.RedisURL.IsZero() {
		p.addFrom("queue.redis_url", "store.dsn",
			"required when store.dsn is set: several instances share work through Redis")
	}
}

// isPostgresDSN accepts the two forms pgx parses: a postgres:// URL and a
// libpq key=value string (checked only for its first key; pgx reports the
// rest when it connects).
func isPostgresDSN(d DSN) bool {
	s := d.Reveal()
	if u, ok := parseURL(s); ok {
		return u.Scheme == "postgres" || u.Scheme == "postgresql"
	}
	return !strings.Contains(s, "://") && kvStart.MatchString(s)
}

// kvStart matches the first key of a key=value DSN.
var kvStart = regexp.MustCompile(`^\s*[a-z_]+\s*=`)
