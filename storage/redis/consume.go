package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"cardflow/queue"
)

// Maintenance batch sizes: how many due retries or expired deliveries one
// script call moves; more are moved on the next fetch.
const (
	promoteBatch = 256
	reclaimBatch = 128
)

// finalFlushMin is the least time a stopping consumer gives its last
// settlements, even when the drain timeout is already spent, because an
// unsent acknowledgement means a needless redelivery.
const finalFlushMin = time.Second

// consumer is one Consume call: a fetch loop that starts a handler per
// message while a slot is free, and a settler that reports handler results
// to Redis in batches.
type consumer struct {
	q     *Queue
	k     topicKeys
	topic string
	h     queue.Handler
	opts  queue.ConsumeOptions
	name  string
	log   *slog.Logger

	slots     chan struct{} // one token per free handler slot
	hctx      context.Context
	abandoned atomic.Bool
	handlers  sync.WaitGroup
	settler   *settler

	maxBlock    time.Duration
	groupReady  bool
	nextPromote time.Time
	nextReclaim time.Time
}

// Consume handles the topic's messages with h until ctx is cancelled or the
// queue is closed (then it returns queue.ErrClosed). Redis errors do not
// stop it: it logs them and retries with backoff until Redis answers again.
// A read blocked in Redis does not see the cancellation, so stopping may
// take up to the longest block (PollInterval, or half of BackoffBase or
// VisibilityTimeout if shorter) before the drain begins.
func (q *Queue) Consume(ctx context.Context, topic string, h queue.Handler, opts queue.ConsumeOptions) error {
	if err := q.check("consume", topic); err != nil {
		return err
	}
	if h == nil {
		return fmt.Errorf("redis: consume %s: nil handler", topic)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-q.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	newConsumer(q, topic, h, opts.WithDefaults()).run(ctx)
	if q.closed.Load() {
		return fmt.Errorf("redis: consume %s: %w", topic, queue.ErrClosed)
	}
	return nil
}

func newConsumer(q *Queue, topic string, h queue.Handler, opts queue.ConsumeOptions) *consumer {
	host, _ := os.Hostname()
	c := &consumer{
		q: q, k: q.keys(topic), topic: topic, h: h, opts: opts,
		name:  host + "-" + strconv.Itoa(os.Getpid()) + "-" + queue.NewID()[:8],
		log:   q.opts.Logger.With("topic", topic),
		slots: make(chan struct{}, opts.Concurrency),
		// Block no longer than half the shortest retry delay (equal jitter
		// never goes below it) or half the visibility timeout, so due work
		// is looked for in time, and never below Redis's 1ms (0 = forever).
		maxBlock: max(time.Millisecond, min(q.opts.PollInterval, opts.BackoffBase/2, opts.VisibilityTimeout/2)),
	}
	for range opts.Concurrency {
		c.slots <- struct{}{}
	}
	return c
}

// run fetches until ctx is done, then drains: in-flight handlers get the
// drain timeout, their results one last flush.
func (c *consumer) run(ctx context.Context) {
	hctx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	c.hctx = hctx
	c.settler = startSettler(c)

	c.fetchLoop(ctx)

	deadline := time.Now().Add(c.opts.DrainTimeout)
	drained := make(chan struct{})
	go func() { c.handlers.Wait(); close(drained) }()
	timer := time.NewTimer(c.opts.DrainTimeout)
	defer timer.Stop()
	select {
	case <-drained:
	case <-timer.C:
		// Set before cancelling, so a handler returning because of the
		// cancellation is already ignored: its entry stays pending and is
		// redelivered after the visibility timeout.
		c.abandoned.Store(true)
		abandon()
	}
	if least := time.Now().Add(finalFlushMin); deadline.Before(least) {
		deadline = least
	}
	c.settler.finish(deadline)
	c.leave()
}

// fetchLoop fetches and dispatches until ctx is done, riding out Redis
// errors with capped, jittered backoff.
func (c *consumer) fetchLoop(ctx context.Context) {
	var pause backoff
	for ctx.Err() == nil {
		err := c.fetch(ctx)
		if err == nil {
			pause.reset()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if isNoGroup(err) {
			c.groupReady = false
		}
		c.log.Warn("redis queue: fetch failed, retrying", "err", err)
		pause.wait(ctx)
	}
}

// fetch runs due maintenance, waits for free slots, takes up to that many
// new entries and starts their handlers. While the stream has entries this
// is one script call; only when it is empty does fetch block in XREADGROUP.
func (c *consumer) fetch(ctx context.Context) error {
	if !c.groupReady {
		if err := c.ensureGroup(ctx); err != nil {
			return err
		}
		c.groupReady = true
	}
	if err := c.maintain(ctx); err != nil {
		return err
	}
	n := c.acquire(ctx)
	if n == 0 {
		return nil
	}
	entries, read, err := c.claim(ctx, n)
	if err == nil && read == 0 {
		entries, err = c.await(ctx, n)
	}
	if err != nil {
		c.release(n)
		return err
	}
	c.release(n - len(entries))
	if ctx.Err() != nil { // a blocked read outlives cancellation: stop fetching
		c.giveBack(entries)
		return nil
	}
	c.dispatch(entries)
	return nil
}

// claim runs claimScript: up to n new entries, copies of handled messages
// already dropped; read counts the entries taken from the stream.
func (c *consumer) claim(ctx context.Context, n int) (entries []goredis.XMessage, read int64, err error) {
	res, err := claimScript.Run(ctx, c.q.client, []string{c.k.stream}, group, c.name, n, c.k.markPrefix).Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("redis: claim from %s: %w", c.topic, err)
	}
	read, _ = res[0].(int64)
	for _, r := range res[1:] {
		e, err := scriptEntry(r)
		if err != nil {
			return nil, 0, fmt.Errorf("redis: claim from %s: %w", c.topic, err)
		}
		entries = append(entries, e)
	}
	return entries, read, nil
}

// scriptEntry converts an entry as a script returns it, {id, {f, v, …}}.
func scriptEntry(r any) (goredis.XMessage, error) {
	pair, ok := r.([]any)
	if !ok || len(pair) != 2 {
		return goredis.XMessage{}, fmt.Errorf("unexpected entry %v", r)
	}
	id, _ := pair[0].(string)
	flat, _ := pair[1].([]any)
	values := make(map[string]any, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		if k, ok := flat[i].(string); ok {
			values[k] = flat[i+1]
		}
	}
	return goredis.XMessage{ID: id, Values: values}, nil
}

// await blocks until new entries arrive (or the next maintenance is due)
// and returns up to n of them, copies of handled messages dropped.
func (c *consumer) await(ctx context.Context, n int) ([]goredis.XMessage, error) {
	res, err := c.q.client.XReadGroup(ctx, &goredis.XReadGroupArgs{
		Group: group, Consumer: c.name, Streams: []string{c.k.stream, ">"},
		Count: int64(n), Block: c.blockFor(),
	}).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis: read %s: %w", c.topic, err)
	}
	var entries []goredis.XMessage
	for _, s := range res {
		entries = append(entries, s.Messages...)
	}
	return c.dropHandled(ctx, entries)
}

// ensureGroup creates the topic's stream and group if missing. The group
// starts at 0 so that messages published before any consumer existed are
// delivered too.
func (c *consumer) ensureGroup(ctx context.Context) error {
	err := c.q.client.XGroupCreateMkStream(ctx, c.k.stream, group, "0").Err()
	if err != nil && !goredis.HasErrorPrefix(err, "BUSYGROUP") {
		return fmt.Errorf("redis: create group for %s: %w", c.topic, err)
	}
	if err := settleScript.Load(ctx, c.q.client).Err(); err != nil {
		return fmt.Errorf("redis: load scripts: %w", err)
	}
	return nil
}

// acquire waits for one free slot and takes every other free one; it
// returns 0 once ctx is done.
func (c *consumer) acquire(ctx context.Context) int {
	select {
	case <-c.slots:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < c.opts.Concurrency {
		select {
		case <-c.slots:
			n++
		default:
			return n
		}
	}
	return n
}

// release returns n slots.
func (c *consumer) release(n int) {
	for range n {
		c.slots <- struct{}{}
	}
}

// blockFor is how long the next read may block: until the next
// maintenance, within [1ms, maxBlock].
func (c *consumer) blockFor() time.Duration {
	d := time.Until(c.nextPromote)
	if r := time.Until(c.nextReclaim); r < d {
		d = r
	}
	return max(time.Millisecond, min(d, c.maxBlock))
}

// maintain moves due retries back to the stream and reclaims expired
// deliveries, each when its time has come.
func (c *consumer) maintain(ctx context.Context) error {
	now := time.Now()
	if !now.Before(c.nextPromote) {
		nowMs := c.q.opts.Now().UnixMilli()
		res, err := promoteScript.Run(ctx, c.q.client, []string{c.k.delayed, c.k.stream}, nowMs, promoteBatch).Slice()
		if err != nil {
			return fmt.Errorf("redis: promote retries of %s: %w", c.topic, err)
		}
		c.nextPromote = now.Add(c.maxBlock)
		if moved, _ := res[0].(int64); moved == promoteBatch {
			c.nextPromote = now
		} else if due, err := strconv.ParseFloat(fmt.Sprint(res[1]), 64); err == nil && due >= 0 {
			c.nextPromote = minTime(c.nextPromote, now.Add(time.Duration(int64(due)-nowMs)*time.Millisecond))
		}
	}
	if !now.Before(c.nextReclaim) {
		vt := c.opts.VisibilityTimeout
		res, err := reclaimScript.Run(ctx, c.q.client, []string{c.k.stream, c.k.dead},
			group, vt.Milliseconds(), reclaimBatch, c.opts.MaxAttempts, c.q.opts.Now().UnixMilli(),
			c.q.opts.MaxDeadLetters, visibilityError(vt), (10 * vt).Milliseconds()).Slice()
		if err != nil {
			return fmt.Errorf("redis: reclaim expired deliveries of %s: %w", c.topic, err)
		}
		c.nextReclaim = now.Add(max(time.Millisecond, vt/2))
		if moved, _ := res[0].(int64); moved == reclaimBatch {
			c.nextReclaim = now
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// visibilityError is the error kept with a message dead-lettered because
// its last delivery was never acknowledged.
func visibilityError(vt time.Duration) string {
	return fmt.Sprintf("queue: not acknowledged within the visibility timeout (%s)", vt)
}

// backoff paces retries after Redis errors: 10ms doubling to 1s, jittered.
type backoff struct{ d time.Duration }

func (b *backoff) reset() { b.d = 0 }

// wait sleeps for the next delay, or until ctx is done.
func (b *backoff) wait(ctx context.Context) {
	b.d = min(max(2*b.d, 10*time.Millisecond), time.Second)
	t := time.NewTimer(b.d/2 + mrand.N(b.d/2+1))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
