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
//     dead-lettered with the error, where it can be listed and replayed;
//   - a message whose ID was already handled successfully within
//     DedupeWindow is dropped without calling the handler, so a copy
//     published twice (the outbox relay's at-least-once) acts once;
//   - memory is bounded: handled messages are deleted, dedupe marks expire,
//     and the dead-letter list keeps at most MaxDeadLetters per topic.
package queue

import (
	"context"
	"errors"
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
	// or redelivery.
	Attempt int
}

// Handler handles one message. A nil error acknowledges it; an error retries
// it (see Permanent); a handler that never returns, or whose consumer dies,
// has its message redelivered after the visibility timeout.
type Handler func(ctx context.Context, m Message) error

// ConsumeOptions tune one consumer. Zero values take the defaults.
type ConsumeOptions struct {
	Concurrency       int           // handlers running at once; default 8
	MaxAttempts       int           // attempts before dead-lettering; default 8
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

// DeadLetter is a message that failed MaxAttempts times or permanently.
type DeadLetter struct {
	Message  Message
	Error    string
	FailedAt time.Time
}

// ErrNotFound is returned by Replay for an unknown dead letter.
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
