package queue

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// memConsumer is one Consume call on a Memory queue.
type memConsumer struct {
	m    *Memory
	t    *memTopic
	h    Handler
	opts ConsumeOptions
	// hctx is the handlers' context: it outlives the consumer's context by
	// the drain timeout, then is cancelled and abandoned is set, after which
	// a handler's result is ignored and its message left for redelivery.
	hctx      context.Context
	abandoned atomic.Bool
}

// Consume handles the topic's messages with h until ctx is cancelled or the
// queue is closed (then it returns ErrClosed).
func (m *Memory) Consume(ctx context.Context, topic string, h Handler, opts ConsumeOptions) error {
	// An already cancelled ctx is a consumer stopped before it began: not an
	// error, so it is checked by the loop below rather than here.
	if err := m.check(context.WithoutCancel(ctx), "consume", topic); err != nil {
		return err
	}
	if h == nil {
		return fmt.Errorf("queue: consume %s: nil handler", topic)
	}
	hctx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	c := &memConsumer{m: m, t: m.topic(topic), h: h, opts: opts.WithDefaults(), hctx: hctx}

	var workers sync.WaitGroup
	for range c.opts.Concurrency {
		workers.Go(func() { c.work(ctx) })
	}
	finished := make(chan struct{})
	go func() { workers.Wait(); close(finished) }()

	select {
	case <-finished:
	case <-ctx.Done():
	case <-m.done:
	}
	drain := time.NewTimer(c.opts.DrainTimeout)
	defer drain.Stop()
	select {
	case <-finished:
	case <-drain.C:
		// Set before cancelling, so a handler returning because of the
		// cancellation already sees it and does not retry its message.
		c.abandoned.Store(true)
		abandon()
	}
	if m.closed.Load() {
		return fmt.Errorf("queue: consume %s: %w", topic, ErrClosed)
	}
	return nil
}

// work runs one handler slot: take a message, handle it, settle it.
func (c *memConsumer) work(ctx context.Context) {
	for {
		e, token, msg, ok := c.next(ctx)
		if !ok {
			return
		}
		err := callHandler(c.hctx, c.h, msg)
		if c.abandoned.Load() {
			return
		}
		c.settle(e, token, msg, err)
	}
}

// next blocks until a message is delivered to this worker, or reports false
// once the consumer stops.
func (c *memConsumer) next(ctx context.Context) (*memEntry, uint64, Message, bool) {
	t := c.t
	woken := false // by a wake-up meant for whichever worker takes the work
	for {
		if c.m.closed.Load() {
			return nil, 0, Message{}, false
		}
		t.mu.Lock()
		if ctx.Err() != nil {
			if woken { // pass the wake-up on to a worker that will do the work
				t.wake(1)
			}
			t.mu.Unlock()
			return nil, 0, Message{}, false
		}
		if e := c.take(); e != nil {
			token, msg := e.token, e.msg
			t.mu.Unlock()
			return e, token, msg, true
		}
		woken = false // nothing left to do: the wake-up is spent
		ch := make(chan struct{})
		t.waiters = append(t.waiters, ch)
		t.mu.Unlock()
		select {
		case <-ch:
			woken = true
		case <-ctx.Done():
			// If a wake-up raced with the cancellation, unwait passes it on.
			t.mu.Lock()
			t.unwait(ch)
			t.mu.Unlock()
			return nil, 0, Message{}, false
		case <-c.m.done:
			return nil, 0, Message{}, false
		}
	}
}

// take promotes due retries, reclaims messages whose visibility timeout
// passed, and delivers the next ready message not already handled. The
// caller holds t.mu.
func (c *memConsumer) take() *memEntry {
	t, now, wall := c.t, time.Now(), c.m.opts.Now()
	for e := t.delayed.dueBefore(now); e != nil; e = t.delayed.dueBefore(now) {
		t.enqueue(e)
	}
	for e := t.inflight.dueBefore(now); e != nil; e = t.inflight.dueBefore(now) {
		if e.msg.Attempt >= c.opts.MaxAttempts {
			e.state = stateGone
			t.bury(e.msg, visibilityError(c.opts.VisibilityTimeout), wall, c.m.opts.MaxDeadLetters)
			continue
		}
		e.msg.Attempt++
		t.enqueue(e)
	}
	defer t.arm(now)
	for t.ready.len() > 0 {
		e := t.ready.pop()
		if t.marks.has(e.msg.ID, wall) {
			e.state = stateGone
			continue
		}
		t.tokens++
		e.token, e.state, e.at = t.tokens, stateInflight, now.Add(c.opts.VisibilityTimeout)
		heap.Push(&t.inflight, e)
		return e
	}
	return nil
}

// settle records a handler's result for the delivery identified by token. A
// success always marks the ID as handled; a failure of a delivery that has
// meanwhile timed out is ignored, because its redelivery owns the message.
func (c *memConsumer) settle(e *memEntry, token uint64, msg Message, err error) {
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	live := e.state == stateInflight && e.token == token
	if err == nil {
		t.marks.add(msg.ID, c.m.opts.Now(), c.m.opts.DedupeWindow)
	}
	if !live {
		return
	}
	heap.Remove(&t.inflight, e.index)
	after, limited := RetryAfter(err)
	switch {
	case err == nil:
		e.state = stateGone
	case IsPermanent(err):
		e.state = stateGone
		t.bury(msg, err.Error(), c.m.opts.Now(), c.m.opts.MaxDeadLetters)
	case limited && e.limited+1 >= c.opts.MaxRateLimited:
		e.state = stateGone
		t.bury(msg, RateLimitReason(err, e.limited+1), c.m.opts.Now(), c.m.opts.MaxDeadLetters)
	case limited: // put off without counting an attempt
		e.limited++
		e.msg.Limited = e.limited
		c.delay(e, RateLimitDelay(c.opts, after))
	case msg.Attempt >= c.opts.MaxAttempts:
		e.state = stateGone
		t.bury(msg, err.Error(), c.m.opts.Now(), c.m.opts.MaxDeadLetters)
	default:
		e.msg.Attempt++
		c.delay(e, RetryDelay(c.opts, msg.Attempt))
	}
}

// delay moves e to the delayed heap, due after d. The caller holds t.mu.
func (c *memConsumer) delay(e *memEntry, d time.Duration) {
	now := time.Now()
	e.state, e.at = stateDelayed, now.Add(d)
	heap.Push(&c.t.delayed, e)
	c.t.arm(now)
}

// callHandler runs h, turning a panic into an error so that one bad message
// is retried and dead-lettered instead of taking the process down.
func callHandler(ctx context.Context, h Handler, m Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("queue: handler panicked: %v", r)
		}
	}()
	return h(ctx, m)
}

// visibilityError is the error kept with a message dead-lettered because
// its last delivery was never acknowledged.
func visibilityError(vt time.Duration) string {
	return fmt.Sprintf("queue: not acknowledged within the visibility timeout (%s)", vt)
}
