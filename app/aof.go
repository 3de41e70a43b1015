package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cardflow/queue"
	redisq "cardflow/storage/redis"
)

// aofCheckTimeout bounds the start-up question to Redis about persistence.
const aofCheckTimeout = 5 * time.Second

// appendOnlyReporter is a queue that can tell whether its Redis persists.
type appendOnlyReporter interface {
	AppendOnly(ctx context.Context) (bool, error)
}

// checkAOF asks a Redis queue whether Redis writes an append-only file. The
// outbox relay marks a message sent once Redis holds it, so a Redis that
// restarts without persistence loses every notification not yet consumed.
// When Redis answers appendonly no, that is a loud warning, or with
// queue.require_aof an error that stops start-up. When CONFIG is disabled
// (managed Redis) it warns that nothing could be checked; when Redis cannot
// be reached it warns, or with queue.require_aof fails, so that an
// orchestrator retries the start once Redis answers.
func checkAOF(ctx context.Context, q queue.Queue, require bool, log *slog.Logger) error {
	r, ok := q.(appendOnlyReporter)
	if !ok {
		return nil // the in-process queue: nothing survives a restart anyway
	}
	ctx, cancel := context.WithTimeout(ctx, aofCheckTimeout)
	defer cancel()
	on, err := r.AppendOnly(ctx)
	switch {
	case err == nil && on:
		return nil
	case errors.Is(err, redisq.ErrCannotCheck):
		log.Warn("could not check that Redis persists the queue: make sure it runs with appendonly yes, "+
			"or a Redis restart loses the notifications the outbox relay has already marked sent", "err", err)
		return nil
	case err != nil && require:
		return fmt.Errorf("queue: queue.require_aof is set and Redis could not be asked whether it persists: %w", err)
	case err != nil:
		log.Warn("could not check that Redis persists the queue (appendonly): Redis did not answer", "err", err)
		return nil
	case require:
		return errors.New("queue: Redis runs with appendonly no, and queue.require_aof is set: " +
			"set appendonly yes (appendfsync everysec) in Redis, or queue.require_aof false to start anyway")
	}
	log.Warn("REDIS DOES NOT PERSIST THE QUEUE (appendonly no): a Redis restart loses every notification " +
		"the outbox relay has marked sent and nobody has consumed yet. Set appendonly yes (appendfsync everysec); " +
		"queue.require_aof true makes this an error that stops start-up")
	return nil
}
