// Package queue moves work between cardflow's parts: outbox messages to the
// platform senders, incoming events to the flow router. It declares the
// Queue interface, an in-process implementation for the embedded default
// (NewMemory), and queue/queuetest, the conformance suite every
// implementation passes (storage/redis is the production one).
//
// Semantics, the same for every implementation:
//   - at-least-once: a message Publish accepted is handled at least once, or
//     dead-lettered with its last error kept;
//   - a consumer that dies (or is stopped) mid-message leaves it unacknowledged,
//     and it is redelivered once VisibilityTimeout has passed;
//   - a handler error retries the message with capped, jittered exponential
//     backoff; after MaxAttempts (or at once for a Permanent error) it is
//     dead-lettered with the error, where it can be listed, replayed or
//     discarded;
//   - a RateLimited error puts the message off for at least the time the
//     other side asked for, without counting an attempt: a platform's rate
//     limit is not the message's fault. Other messages flow meanwhile. So
//     that no message waits forever, the MaxRateLimited-th rate-limited
//     delivery of one message dead-letters it;
//   - a message whose ID was already handled successfully within
//     DedupeWindow is dropped without calling the handler, so a copy
//     published twice (the outbox relay's at-least-once) acts once;
//   - memory is bounded: handled messages are deleted, dedupe marks expire,
//     and the dead-letter list keeps at most MaxDeadLetters per topic, less
//     once PruneDeadLetters deletes those older than their retention.
package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Queue is a durable, at-least-once work queue of topics.
type Queue interface {
	// Publish durably enqueues messages on a topic; when it returns nil they
	// will be delivered. Messages without an ID get a random one.
	Publish(ctx context.Context, topic string, msgs ...Message) error
	// Consume handles the topic's messages with h until ctx is cancelled,
	// then stops fetching, lets in-flight handlers finish for up to
	// opts.DrainTimeout (after that their context is cancelled and their
	// messages are left for redelivery) and returns. Several consumers of one
	// topic, in one process or many, share its messages.
	Consume(ctx context.Context, topic string, h Handler, opts ConsumeOptions) error
	// Depth reports how many messages of a topic are waiting, delayed for a
	// retry or in flight (dead letters not included).
	Depth(ctx context.Context, topic string) (int64, error)
	// DeadLetters lists up to limit dead-lettered messages, newest first.
	DeadLetters(ctx context.Context, topic string, limit int) ([]DeadLetter, error)
	// Replay moves a dead letter back to the topic with its attempts reset;
	// ErrNotFound if there is no dead letter with that id.
	Replay(ctx context.Context, topic, id string) error
	// Discard deletes a dead letter for good (one that no replay can fix);
	// ErrNotFound if there is no dead letter with that id.
	Discard(ctx context.Context, topic, id string) error
	// PruneDeadLetters deletes up to limit (at least 1) of the topic's dead
	// letters that died before before, oldest first, and reports how many
	// it deleted: fewer than limit means none older is left. One call is
	// one bounded step, so a long list is pruned in batches that never hold
	// the topic (or Redis) for long.
	PruneDeadLetters(ctx context.Context, topic string, before time.Time, limit int) (int, error)
	// Ping reports whether the queue's backend is reachable.
	Ping(ctx context.Context) error
	// Close releases the queue's resources; consumers must have returned.
	Close() error
}

// Message is one unit of work.
type Message struct {
	// ID is the idempotency key: the same work published twice carries the
	// same ID, and the copy is dropped once the first was handled.
	ID string
	// Key orders or groups related messages (e.g. a flow instance id); it is
	// carried, not interpreted.
	Key     string
	Payload []byte
	// Attempt is set on delivery: 1 the first time, then one more per retry
	// or redelivery. A delivery that ended in RateLimited does not count:
	// the message comes back with the same Attempt.
	Attempt int
	// Limited is set on delivery too: how many earlier deliveries of the
	// message ended in RateLimited (0 for none). A handler that gave the
	// message a place in a rate limit's line tells by it that the message
	// is back for that place.
	Limited int
}

// Handler handles one message. A nil error acknowledges it; an error retries
// it (see Permanent and RateLimited); a handler that never returns, or whose
// consumer dies, has its message redelivered after the visibility timeout.
type Handler func(ctx context.Context, m Message) error

// ConsumeOptions tune one consumer. Zero values take the defaults.
type ConsumeOptions struct {
	Concurrency       int           // handlers running at once; default 8
	MaxAttempts       int           // attempts before dead-lettering; default 8
	MaxRateLimited    int           // rate-limited deliveries of one message before dead-lettering; default 1000
	VisibilityTimeout time.Duration // unacknowledged this long → redelivered; default 1m
	BackoffBase       time.Duration // first retry delay; default 1s, doubled per attempt, jittered
	BackoffMax        time.Duration // cap on the retry delay; default 5m
	DrainTimeout      time.Duration // in-flight grace after ctx is cancelled; default 10s
}

// WithDefaults returns o with every zero field set to its default.
func (o ConsumeOptions) WithDefaults() ConsumeOptions {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.MaxRateLimited <= 0 {
		o.MaxRateLimited = DefaultMaxRateLimited
	}
	if o.VisibilityTimeout <= 0 {
		o.VisibilityTimeout = time.Minute
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 5 * time.Minute
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 10 * time.Second
	}
	return o
}

// DefaultMaxRateLimited is ConsumeOptions.MaxRateLimited's default. It is
// generous: a sender that defers to a shared limiter may be put off many
// times while a burst for one person drains at the platform's pace (WeCom:
// 30 a minute), and even a platform that blocks for an hour at a time gets
// weeks before the message is given up. The cap exists so that a handler
// that rate-limits forever (a bug, or a limit that never lifts) ends in the
// dead letters, where someone sees it, instead of circling unseen.
const DefaultMaxRateLimited = 1000

// DeadLetter is a message that failed MaxAttempts times, permanently, or
// was rate limited MaxRateLimited times.
type DeadLetter struct {
	Message Message
	Error   string
	// FailedAt is when the message was dead-lettered, by the queue's
	// clock; PruneDeadLetters ages dead letters by it.
	FailedAt time.Time
}

// ErrNotFound is returned by Replay and Discard for an unknown dead letter.
var ErrNotFound = errors.New("queue: not found")

// Permanent marks a handler error that no retry can fix (a bad payload, a
// user the platform does not know): the message is dead-lettered at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// RateLimitError is a handler error saying that the other side is rate
// limiting (HTTP 429, Feishu 99991400, WeCom 45009, DingTalk 130101): the
// message is put off for at least After and delivered again without
// counting an attempt. Build it with RateLimited; test for it with
// RetryAfter or errors.As.
type RateLimitError struct {
	Err   error
	After time.Duration // how long until the limit lifts; 0 if unknown
}

func (e *RateLimitError) Error() string {
	if e.Err == nil {
		return "rate limited"
	}
	return e.Err.Error()
}

func (e *RateLimitError) Unwrap() error { return e.Err }

// RateLimited marks a handler error as the other side's rate limit, which
// lifts after the given duration (the platform's Retry-After or reset
// header, or the wait a shared limiter computed before the call). The
// message is delivered again no earlier than after (RateLimitDelay), keeping
// its Attempt; after <= 0 means "unknown" and waits the first backoff delay.
// A nil err stays nil, as with Permanent. Permanent wins: an error marked
// with both anywhere in its chain is dead-lettered at once.
func RateLimited(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &RateLimitError{Err: err, After: after}
}

// RetryAfter reports whether err was marked with RateLimited (is or wraps a
// *RateLimitError) and the wait it asked for.
func RetryAfter(err error) (time.Duration, bool) {
	var r *RateLimitError
	if !errors.As(err, &r) {
		return 0, false
	}
	return r.After, true
}

// RateLimitReason is the error kept with a message dead-lettered because
// its times-th rate-limited delivery reached MaxRateLimited; every
// implementation uses it so their dead letters read the same.
func RateLimitReason(err error, times int) string {
	return fmt.Sprintf("queue: rate limited %d times, giving up: %v", times, err)
}
