package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"cardflow/queue"
)

// Publish adds msgs to the topic's stream in one pipeline. On an error some
// of them may have been added: the caller publishes them all again, and the
// copies of those already handled are dropped by ID.
func (q *Queue) Publish(ctx context.Context, topic string, msgs ...queue.Message) error {
	if err := q.check("publish", topic); err != nil {
		return err
	}
	if len(msgs) == 0 {
		return nil
	}
	stream := q.keys(topic).stream
	_, err := q.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, m := range msgs {
			if m.ID == "" {
				m.ID = queue.NewID()
			}
			p.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: streamValues(m, 1)})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: publish %d to %s: %w", len(msgs), topic, err)
	}
	return nil
}

// Depth counts the stream's entries (waiting or in flight: handled ones are
// deleted) and the retries waiting in the delayed set.
func (q *Queue) Depth(ctx context.Context, topic string) (int64, error) {
	if err := q.check("depth", topic); err != nil {
		return 0, err
	}
	k := q.keys(topic)
	var stream *goredis.IntCmd
	var delayed *goredis.IntCmd
	_, err := q.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		stream = p.XLen(ctx, k.stream)
		delayed = p.ZCard(ctx, k.delayed)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("redis: depth of %s: %w", topic, err)
	}
	return stream.Val() + delayed.Val(), nil
}

// DeadLetters lists up to limit of the topic's dead letters, newest first;
// limit <= 0 lists all that are kept.
func (q *Queue) DeadLetters(ctx context.Context, topic string, limit int) ([]queue.DeadLetter, error) {
	if err := q.check("dead letters", topic); err != nil {
		return nil, err
	}
	stop := int64(limit) - 1
	if limit <= 0 {
		stop = -1
	}
	elems, err := q.client.LRange(ctx, q.keys(topic).dead, 0, stop).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: dead letters of %s: %w", topic, err)
	}
	out := make([]queue.DeadLetter, 0, len(elems))
	for _, e := range elems {
		dl, err := decodeDeadLetter(e)
		if err != nil {
			return nil, fmt.Errorf("redis: dead letters of %s: %w", topic, err)
		}
		out = append(out, dl)
	}
	return out, nil
}

// Replay moves the newest dead letter with message id back to the topic as
// a first attempt; queue.ErrNotFound if there is none.
func (q *Queue) Replay(ctx context.Context, topic, id string) error {
	return q.takeDead(ctx, "replay", topic, id, func(k topicKeys, elem string, dl queue.DeadLetter) (bool, error) {
		moved, err := replayScript.Run(ctx, q.client, []string{k.dead, k.stream},
			elem, dl.Message.ID, dl.Message.Key, dl.Message.Payload).Int()
		return moved == 1, err
	})
}

// Discard deletes the newest dead letter with message id;
// queue.ErrNotFound if there is none.
func (q *Queue) Discard(ctx context.Context, topic, id string) error {
	return q.takeDead(ctx, "discard", topic, id, func(k topicKeys, elem string, _ queue.DeadLetter) (bool, error) {
		removed, err := q.client.LRem(ctx, k.dead, 1, elem).Result()
		return removed == 1, err
	})
}

// takeDead finds the newest dead letter with message id and hands it to
// remove, which takes that exact element off the list (and may do more
// with it) and says whether it was still there. The list may change
// between reading and removing (a concurrent replay or discard, a trim),
// so a lost race just means looking again.
func (q *Queue) takeDead(ctx context.Context, op, topic, id string,
	remove func(k topicKeys, elem string, dl queue.DeadLetter) (bool, error)) error {
	if err := q.check(op, topic); err != nil {
		return err
	}
	k := q.keys(topic)
	for range 3 {
		elems, err := q.client.LRange(ctx, k.dead, 0, -1).Result()
		if err != nil {
			return fmt.Errorf("redis: %s %s/%s: %w", op, topic, id, err)
		}
		elem, dl, found := findDeadLetter(elems, id)
		if !found {
			break
		}
		removed, err := remove(k, elem, dl)
		if err != nil {
			return fmt.Errorf("redis: %s %s/%s: %w", op, topic, id, err)
		}
		if removed {
			return nil
		}
	}
	return fmt.Errorf("redis: %s %s/%s: %w", op, topic, id, queue.ErrNotFound)
}

// PruneDeadLetters deletes up to limit of the topic's dead letters that
// died before before, oldest first, in one script call.
func (q *Queue) PruneDeadLetters(ctx context.Context, topic string, before time.Time, limit int) (int, error) {
	if err := q.check("prune dead letters", topic); err != nil {
		return 0, err
	}
	if limit < 1 {
		return 0, fmt.Errorf("redis: prune dead letters of %s: limit must be at least 1, got %d", topic, limit)
	}
	// Dead letters carry whole milliseconds: rounding the cutoff up makes
	// "died before" agree with the FailedAt that DeadLetters reads back.
	n, err := pruneDeadScript.Run(ctx, q.client, []string{q.keys(topic).dead}, dueMillis(before), limit).Int()
	if err != nil {
		return n, fmt.Errorf("redis: prune dead letters of %s: %w", topic, err)
	}
	return n, nil
}

// findDeadLetter returns the first (newest) element whose message has id.
func findDeadLetter(elems []string, id string) (string, queue.DeadLetter, bool) {
	for _, e := range elems {
		if dl, err := decodeDeadLetter(e); err == nil && dl.Message.ID == id {
			return e, dl, true
		}
	}
	return "", queue.DeadLetter{}, false
}

// Ping reports whether Redis answers.
func (q *Queue) Ping(ctx context.Context) error {
	if q.closed.Load() {
		return fmt.Errorf("redis: ping: %w", queue.ErrClosed)
	}
	if err := q.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// Close stops the queue: later calls return queue.ErrClosed, and a consumer
// still running stops as if cancelled and returns queue.ErrClosed. Messages
// stay in Redis. The client is closed only if Open made it.
func (q *Queue) Close() error {
	if q.closed.Swap(true) {
		return nil
	}
	close(q.done)
	if q.ownClient {
		if err := q.client.Close(); err != nil {
			return fmt.Errorf("redis: close client: %w", err)
		}
	}
	return nil
}
