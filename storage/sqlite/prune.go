package sqlite

import (
	"context"
	"time"
)

// Each prune statement deletes one bounded batch, oldest first, in a
// transaction of its own on the write connection, so a commit waits for one
// batch at most. EXPLAIN QUERY PLAN: the batch is a search of its covering
// index (migrations/00003_prune.sql), each row deleted by its key.
const (
	qPruneSentOutbox = `DELETE FROM outbox WHERE seq IN (
		SELECT seq FROM outbox WHERE sent_at < ? ORDER BY sent_at LIMIT ?)`
	qPruneIdempotency = `DELETE FROM idempotency WHERE key IN (
		SELECT key FROM idempotency WHERE created_at < ? ORDER BY created_at LIMIT ?)`
)

// PruneSentOutbox deletes up to limit outbox messages marked sent before
// before, oldest first, and returns how many it deleted. Unsent messages are
// never deleted.
func (s *Store) PruneSentOutbox(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.prune(ctx, qPruneSentOutbox, before, limit)
	if err != nil {
		return 0, s.fail(err, "prune sent outbox")
	}
	return n, nil
}

// PruneIdempotency deletes up to limit idempotency keys recorded before
// before, oldest first, and returns how many it deleted. A replay of a
// deleted key is applied as a new change.
func (s *Store) PruneIdempotency(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.prune(ctx, qPruneIdempotency, before, limit)
	if err != nil {
		return 0, s.fail(err, "prune idempotency keys")
	}
	return n, nil
}

func (s *Store) prune(ctx context.Context, query string, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	res, err := s.write.ExecContext(ctx, query, before.UnixMicro(), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
