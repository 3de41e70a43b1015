// Package redis is cardflow's production queue.Queue, on Redis Streams.
//
// Each topic has one stream read by one consumer group; its keys share the
// hash tag {topic} so every script touching a topic stays in one cluster
// slot:
//
//	<prefix>{topic}:stream   messages waiting or in flight (XADD, XREADGROUP)
//	<prefix>{topic}:delayed  retries and rate-limited messages put off, a
//	                         sorted set scored by due time (ms)
//	<prefix>{topic}:dead     dead letters, newest first, a list capped at
//	                         MaxDeadLetters and pruned by age
//	<prefix>{topic}:done:<id> dedupe marks, expiring after DedupeWindow
//
// While a topic has work, a consumer fetches with one script call
// (XREADGROUP plus the dedupe check); when it has none, it blocks in
// XREADGROUP. A handled entry is acknowledged and deleted from the stream,
// so the stream holds only unhandled work. Entries a consumer fetched and never
// settled are found with XPENDING after the visibility timeout and re-added
// with one more attempt. Settlements are batched: one pipeline carries all
// the results that arrived while the previous one was in flight.
package redis

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"cardflow/queue"
)

// group is the consumer group every consumer of a topic joins.
const group = "cardflow"

// QueueOptions tune a Redis queue. Zero values take the defaults.
type QueueOptions struct {
	// Prefix starts every key; default "cardflow:q:".
	Prefix string
	// DedupeWindow is how long a handled message's ID is remembered; default 1h.
	DedupeWindow time.Duration
	// MaxDeadLetters caps the dead letters kept per topic; default 10,000.
	MaxDeadLetters int
	// PollInterval is the longest a consumer blocks waiting for messages;
	// it bounds how late a consumer notices a stop or a due retry (retries
	// are also looked for every BackoffBase/2); default 1s.
	PollInterval time.Duration
	// Logger receives the errors consumers retry on; default slog.Default().
	Logger *slog.Logger
	// Now is the clock of retry due times and dead-letter stamps, shared by
	// every process using the queue; default time.Now.
	Now func() time.Time
}

func (o QueueOptions) withDefaults() (QueueOptions, error) {
	var errs []error
	if o.DedupeWindow < 0 || o.MaxDeadLetters < 0 || o.PollInterval < 0 {
		errs = append(errs, errors.New("redis: queue options: DedupeWindow, MaxDeadLetters and PollInterval must not be negative"))
	}
	if o.PollInterval > 0 && o.PollInterval < time.Millisecond {
		errs = append(errs, fmt.Errorf("redis: queue options: PollInterval %s is below Redis's 1ms resolution", o.PollInterval))
	}
	if o.Prefix == "" {
		o.Prefix = "cardflow:q:"
	}
	if o.DedupeWindow == 0 {
		o.DedupeWindow = queue.DefaultDedupeWindow
	}
	if o.MaxDeadLetters == 0 {
		o.MaxDeadLetters = queue.DefaultMaxDeadLetters
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, errors.Join(errs...)
}

// Queue is a queue.Queue on Redis Streams.
type Queue struct {
	client    goredis.UniversalClient
	ownClient bool // made by Open, so closed by Close
	opts      QueueOptions
	closed    atomic.Bool
	done      chan struct{} // closed by Close to stop consumers
}

var _ queue.Queue = (*Queue)(nil)

// NewQueue returns a queue on client, which stays the caller's to close
// (after closing the queue). It does not contact Redis, so it succeeds
// while Redis is down; Ping tells whether it is reachable.
func NewQueue(client goredis.UniversalClient, opts QueueOptions) (*Queue, error) {
	if client == nil {
		return nil, errors.New("redis: new queue: nil client")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Queue{client: client, opts: opts, done: make(chan struct{})}, nil
}

// Open returns a queue on a client of its own built from a redis:// URL (see
// NewClient); Close closes that client. Like NewQueue it does not contact
// Redis.
func Open(rawURL string, opts QueueOptions) (*Queue, error) {
	client, err := NewClient(rawURL)
	if err != nil {
		return nil, err
	}
	q, err := NewQueue(client, opts)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	q.ownClient = true
	return q, nil
}

// NewClient builds a client from a redis:// or rediss:// URL, with go-redis
// options in its query (dial_timeout=3s, pool_size=20, …). The URL is kept
// out of errors, since it may carry a password.
func NewClient(rawURL string) (*goredis.Client, error) {
	opts, err := goredis.ParseURL(rawURL)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the whole URL
		}
		return nil, fmt.Errorf("redis: parse URL: %w", err)
	}
	return goredis.NewClient(opts), nil
}

// topicKeys are the keys of one topic.
type topicKeys struct {
	stream, delayed, dead, markPrefix string
}

func (q *Queue) keys(topic string) topicKeys {
	base := q.opts.Prefix + "{" + topic + "}:"
	return topicKeys{stream: base + "stream", delayed: base + "delayed", dead: base + "dead", markPrefix: base + "done:"}
}

func (k topicKeys) mark(id string) string { return k.markPrefix + id }

// check rejects calls on a closed queue or with an empty topic.
func (q *Queue) check(op, topic string) error {
	if q.closed.Load() {
		return fmt.Errorf("redis: %s: %w", op, queue.ErrClosed)
	}
	if topic == "" {
		return fmt.Errorf("redis: %s: empty topic", op)
	}
	return nil
}

// isNoGroup reports whether Redis lost the topic's stream or group (a
// restart without persistence, a flush): the group is created again.
func isNoGroup(err error) bool { return goredis.HasErrorPrefix(err, "NOGROUP") }

// isNoScript reports whether Redis forgot the scripts (a restart).
func isNoScript(err error) bool { return goredis.HasErrorPrefix(err, "NOSCRIPT") }

// isReply reports whether err is Redis's answer to a command rather than a
// failure to reach Redis.
func isReply(err error) bool {
	var rerr goredis.Error
	return errors.As(err, &rerr)
}
