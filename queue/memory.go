package queue

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// MemoryOptions tune an in-process queue. Zero or negative values take the
// defaults (NewMemory has no error to report them with).
type MemoryOptions struct {
	// DedupeWindow is how long a handled message's ID is remembered so that
	// a copy published again is dropped; default 1h.
	DedupeWindow time.Duration
	// MaxDeadLetters caps the dead letters kept per topic, oldest dropped
	// first; default 10,000.
	MaxDeadLetters int
	// Now stamps dead letters and ages dedupe marks; default time.Now.
	// Retry delays and visibility timeouts run on real timers (test them
	// under testing/synctest), so a frozen Now cannot stall delivery.
	Now func() time.Time
}

// Defaults shared by the implementations of Queue.
const (
	DefaultDedupeWindow   = time.Hour
	DefaultMaxDeadLetters = 10_000
)

func (o MemoryOptions) withDefaults() MemoryOptions {
	if o.DedupeWindow <= 0 {
		o.DedupeWindow = DefaultDedupeWindow
	}
	if o.MaxDeadLetters <= 0 {
		o.MaxDeadLetters = DefaultMaxDeadLetters
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Memory is the in-process Queue of the embedded default. Messages live in
// the process only: they survive a consumer's death, not the process's.
type Memory struct {
	opts   MemoryOptions
	mu     sync.RWMutex
	topics map[string]*memTopic
	closed atomic.Bool
	done   chan struct{} // closed by Close to stop consumers
}

var _ Queue = (*Memory)(nil)

// NewMemory returns an empty in-process queue.
func NewMemory(opts MemoryOptions) *Memory {
	return &Memory{
		opts:   opts.withDefaults(),
		topics: make(map[string]*memTopic),
		done:   make(chan struct{}),
	}
}

// topic returns the named topic, creating it on first use.
func (m *Memory) topic(name string) *memTopic {
	m.mu.RLock()
	t := m.topics[name]
	m.mu.RUnlock()
	if t != nil {
		return t
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t = m.topics[name]; t == nil {
		t = &memTopic{}
		m.topics[name] = t
	}
	return t
}

// lookup returns the named topic, or nil if it was never used; read-only
// calls use it so that asking about arbitrary names allocates nothing.
func (m *Memory) lookup(name string) *memTopic {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.topics[name]
}

// check rejects calls on a closed queue, an empty topic or a done context.
func (m *Memory) check(ctx context.Context, op, topic string) error {
	if m.closed.Load() {
		return fmt.Errorf("queue: %s: %w", op, ErrClosed)
	}
	if topic == "" {
		return fmt.Errorf("queue: %s: empty topic", op)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("queue: %s %s: %w", op, topic, err)
	}
	return nil
}

// Publish enqueues msgs on topic. The payload is copied, so the caller may
// reuse its buffer. A copy of a message already handled is dropped when it
// comes up for delivery, as with every implementation.
func (m *Memory) Publish(ctx context.Context, topic string, msgs ...Message) error {
	if err := m.check(ctx, "publish", topic); err != nil {
		return err
	}
	t := m.topic(topic)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, msg := range msgs {
		if msg.ID == "" {
			msg.ID = NewID()
		}
		msg.Payload = bytes.Clone(msg.Payload)
		msg.Attempt = 1
		t.enqueue(&memEntry{msg: msg})
	}
	t.wake(len(msgs))
	return nil
}

// Depth reports the topic's messages waiting, delayed or in flight.
func (m *Memory) Depth(ctx context.Context, topic string) (int64, error) {
	if err := m.check(ctx, "depth", topic); err != nil {
		return 0, err
	}
	t := m.lookup(topic)
	if t == nil {
		return 0, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.depth(), nil
}

// DeadLetters lists up to limit of the topic's dead letters, newest first;
// limit <= 0 lists all that are kept.
func (m *Memory) DeadLetters(ctx context.Context, topic string, limit int) ([]DeadLetter, error) {
	if err := m.check(ctx, "dead letters", topic); err != nil {
		return nil, err
	}
	t := m.lookup(topic)
	if t == nil {
		return nil, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if limit <= 0 || limit > len(t.dead) {
		limit = len(t.dead)
	}
	out := make([]DeadLetter, 0, limit)
	for i := len(t.dead) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, t.dead[i])
	}
	return out, nil
}

// Replay moves the newest dead letter with the given message id back to the
// topic as a first attempt.
func (m *Memory) Replay(ctx context.Context, topic, id string) error {
	return m.takeDead(ctx, "replay", topic, id, func(t *memTopic, msg Message) {
		msg.Attempt = 1
		t.enqueue(&memEntry{msg: msg})
		t.wake(1)
	})
}

// Discard deletes the newest dead letter with the given message id.
func (m *Memory) Discard(ctx context.Context, topic, id string) error {
	return m.takeDead(ctx, "discard", topic, id, nil)
}

// takeDead removes the newest dead letter with the given message id and,
// under the topic's lock, hands its message to then (nil: dropped).
func (m *Memory) takeDead(ctx context.Context, op, topic, id string, then func(t *memTopic, msg Message)) error {
	if err := m.check(ctx, op, topic); err != nil {
		return err
	}
	notFound := fmt.Errorf("queue: %s %s/%s: %w", op, topic, id, ErrNotFound)
	t := m.lookup(topic)
	if t == nil {
		return notFound
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.dead) - 1; i >= 0; i-- {
		if t.dead[i].Message.ID != id {
			continue
		}
		msg := t.dead[i].Message
		t.dead = slices.Delete(t.dead, i, i+1)
		if then != nil {
			then(t, msg)
		}
		return nil
	}
	return notFound
}

// PruneDeadLetters deletes up to limit of the topic's dead letters that
// died before before, oldest first, under the topic's lock.
func (m *Memory) PruneDeadLetters(ctx context.Context, topic string, before time.Time, limit int) (int, error) {
	if err := m.check(ctx, "prune dead letters", topic); err != nil {
		return 0, err
	}
	if limit < 1 {
		return 0, fmt.Errorf("queue: prune dead letters of %s: limit must be at least 1, got %d", topic, limit)
	}
	t := m.lookup(topic)
	if t == nil {
		return 0, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for n < limit && n < len(t.dead) && t.dead[n].FailedAt.Before(before) {
		n++
	}
	t.dead = slices.Delete(t.dead, 0, n)
	return n, nil
}

// Ping reports whether the queue is still open; there is no backend to lose.
func (m *Memory) Ping(context.Context) error {
	if m.closed.Load() {
		return fmt.Errorf("queue: ping: %w", ErrClosed)
	}
	return nil
}

// Close stops the queue: later calls return ErrClosed, and a consumer still
// running returns ErrClosed too. Messages not yet handled are discarded.
func (m *Memory) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	close(m.done)
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, t := range m.topics {
		t.mu.Lock()
		if t.timer != nil {
			t.timer.Stop()
		}
		t.mu.Unlock()
	}
	return nil
}
