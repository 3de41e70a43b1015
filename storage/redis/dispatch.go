package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"cardflow/queue"
)

// dropHandled acknowledges entries whose message was already handled and
// returns the others. On an error the entries stay pending and are
// redelivered after the visibility timeout, when the check can be made.
func (c *consumer) dropHandled(ctx context.Context, entries []goredis.XMessage) ([]goredis.XMessage, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	marks := make([]string, len(entries))
	for i, e := range entries {
		id, _ := e.Values[fieldID].(string)
		marks[i] = c.k.mark(id)
	}
	handled, err := c.q.client.MGet(ctx, marks...).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: check dedupe marks of %s: %w", c.topic, err)
	}
	keep := entries[:0]
	for i, e := range entries {
		if handled[i] != nil {
			c.settler.add(settlement{entry: e.ID, mark: marks[i], action: actDrop})
			continue
		}
		keep = append(keep, e)
	}
	return keep, nil
}

// dispatch starts a handler for each entry, each holding one slot taken by
// fetch; an entry it cannot read is dead-lettered.
func (c *consumer) dispatch(entries []goredis.XMessage) {
	for _, e := range entries {
		m, limited, err := decodeEntry(e)
		if err != nil {
			c.settler.add(c.outcome(e.ID, m, 0, queue.Permanent(err)))
			c.release(1)
			continue
		}
		m.Limited = limited
		c.handlers.Add(1)
		go c.handle(e.ID, m, limited)
	}
}

// handle runs the handler on one message and queues its settlement, unless
// the consumer has abandoned it by then.
func (c *consumer) handle(entry string, m queue.Message, limited int) {
	defer c.handlers.Done()
	err := callHandler(c.hctx, c.h, m)
	if !c.abandoned.Load() {
		c.settler.add(c.outcome(entry, m, limited, err))
	}
	c.release(1)
}

// giveBack returns entries fetched after the consumer was told to stop.
func (c *consumer) giveBack(entries []goredis.XMessage) {
	for _, e := range entries {
		c.settler.add(settlement{entry: e.ID, mark: c.k.mark(""), action: actRelease})
	}
}

// leave removes this consumer from the group unless it still holds entries
// (those stay pending, to be reclaimed).
func (c *consumer) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), finalFlushMin)
	defer cancel()
	err := leaveScript.Run(ctx, c.q.client, []string{c.k.stream}, group, c.name).Err()
	if err != nil && !isNoGroup(err) {
		c.log.Warn("redis queue: leaving the consumer group failed", "consumer", c.name, "err", err)
	}
}

// callHandler runs h, turning a panic into an error so that one bad message
// is retried and dead-lettered instead of taking the process down.
func callHandler(ctx context.Context, h queue.Handler, m queue.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("redis: handler panicked: %v", r)
		}
	}()
	return h(ctx, m)
}
