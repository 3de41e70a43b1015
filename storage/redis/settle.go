package redis

import (
	"context"
	"strconv"
	"sync"
	"time"

	"cardflow/queue"
)

// maxSettleBatch caps the settlements sent in one script call.
const maxSettleBatch = 256

// Settlement actions understood by settleScript.
const (
	actDone    = "done"    // handled: acknowledge, delete, mark the ID
	actDrop    = "drop"    // a copy of a handled message: acknowledge, delete
	actRetry   = "retry"   // failed: move to the delayed set
	actDead    = "dead"    // failed for good: move to the dead letters
	actRelease = "release" // fetched by a stopping consumer: back to the stream
)

// settlement is what becomes of one delivered stream entry.
type settlement struct {
	entry  string // stream entry ID
	mark   string // dedupe mark key of the message
	action string
	x, y   string // retry: due ms and delayed-set member; dead: element
}

// outcome turns a handler's result into a settlement; limited counts the
// message's earlier deliveries that ended in queue.RateLimited.
func (c *consumer) outcome(entry string, m queue.Message, limited int, err error) settlement {
	s := settlement{entry: entry, mark: c.k.mark(m.ID)}
	after, rateLimited := queue.RetryAfter(err)
	switch {
	case err == nil:
		s.action = actDone
	case queue.IsPermanent(err):
		s.action, s.x = actDead, deadLetterElem(m, err.Error(), c.q.opts.Now())
	case rateLimited && limited+1 >= c.opts.MaxRateLimited:
		s.action, s.x = actDead, deadLetterElem(m, queue.RateLimitReason(err, limited+1), c.q.opts.Now())
	case rateLimited: // put off without counting an attempt
		due := dueMillis(c.q.opts.Now().Add(queue.RateLimitDelay(c.opts, after)))
		s.action, s.x, s.y = actRetry, strconv.FormatInt(due, 10), retryMember(entry, m, m.Attempt, limited+1)
	case m.Attempt >= c.opts.MaxAttempts:
		s.action, s.x = actDead, deadLetterElem(m, err.Error(), c.q.opts.Now())
	default:
		due := dueMillis(c.q.opts.Now().Add(queue.RetryDelay(c.opts, m.Attempt)))
		s.action, s.x, s.y = actRetry, strconv.FormatInt(due, 10), retryMember(entry, m, m.Attempt+1, limited)
	}
	return s
}

// settler sends settlements to Redis from one goroutine: whatever arrived
// while a call was in flight goes in the next one, so acknowledgements cost
// a round trip and a script call per batch rather than per message. While
// Redis is unreachable it keeps retrying; a settlement never sent only
// means a redelivery after the visibility timeout.
type settler struct {
	c         *consumer
	ctx       context.Context // cancelled when the final flush runs out of time
	cancel    context.CancelFunc
	mu        sync.Mutex
	pending   []settlement
	closed    bool
	wake      chan struct{}
	finishing chan struct{}
	done      chan struct{}
}

func startSettler(c *consumer) *settler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &settler{
		c: c, ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), finishing: make(chan struct{}), done: make(chan struct{}),
	}
	go s.run()
	return s
}

// add queues a settlement; after finish it is dropped, leaving the entry
// pending for redelivery.
func (s *settler) add(x settlement) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.pending = append(s.pending, x)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// finish stops taking settlements, flushes those queued until deadline and
// returns when done.
func (s *settler) finish(deadline time.Time) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	timer := time.AfterFunc(time.Until(deadline), s.cancel)
	defer timer.Stop()
	close(s.finishing)
	<-s.done
	s.cancel()
}

func (s *settler) run() {
	defer close(s.done)
	for {
		select {
		case <-s.wake:
		case <-s.finishing:
		}
		for batch := s.take(); len(batch) > 0; batch = s.take() {
			s.flush(batch)
		}
		s.mu.Lock()
		over := s.closed && len(s.pending) == 0
		s.mu.Unlock()
		if over {
			return
		}
	}
}

// take removes up to maxSettleBatch queued settlements.
func (s *settler) take() []settlement {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(len(s.pending), maxSettleBatch)
	batch := append([]settlement(nil), s.pending[:n]...)
	s.pending = append(s.pending[:0], s.pending[n:]...)
	return batch
}

// flush sends batch, retrying what failed to reach Redis until it succeeds
// or the final deadline passes.
func (s *settler) flush(batch []settlement) {
	var pause backoff
	for {
		batch = s.exec(batch)
		if len(batch) == 0 {
			return
		}
		if s.ctx.Err() != nil {
			s.c.log.Warn("redis queue: results not recorded; their messages will be redelivered", "count", len(batch))
			return
		}
		pause.wait(s.ctx)
	}
}

// exec sends batch in one script call and returns it if it must be sent
// again. The script is idempotent per entry, so resending a batch that
// failed part-way through does no harm.
func (s *settler) exec(batch []settlement) []settlement {
	ctx, k, q := s.ctx, s.c.k, s.c.q
	keys := make([]string, 0, 3+len(batch))
	keys = append(keys, k.stream, k.delayed, k.dead)
	args := make([]any, 0, 3+4*len(batch))
	args = append(args, group, max(1, q.opts.DedupeWindow.Milliseconds()), q.opts.MaxDeadLetters)
	for _, x := range batch {
		keys = append(keys, x.mark)
		args = append(args, x.entry, x.action, x.x, x.y)
	}
	err := settleScript.EvalSha(ctx, q.client, keys, args...).Err()
	if isNoScript(err) {
		if err = settleScript.Load(ctx, q.client).Err(); err == nil {
			err = settleScript.EvalSha(ctx, q.client, keys, args...).Err()
		}
	}
	switch {
	case err == nil:
		return nil
	case isReply(err): // Redis refused it (e.g. the group is gone): resending cannot help
		s.c.log.Error("redis queue: results rejected", "count", len(batch), "err", err)
		return nil
	case ctx.Err() == nil:
		s.c.log.Warn("redis queue: recording results failed, retrying", "count", len(batch), "err", err)
	}
	return batch
}
