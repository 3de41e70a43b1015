package postgres

import (
	"context"
	"time"
)

// sqlPruneInstances deletes one batch of finished instances and everything
// keyed by their ids in one statement, and so in one short transaction. The
// batch is walked oldest first through instances_created: a finished
// instance was created before it finished, so only the instances created
// before the cutoff are read, and of those only the running ones and the
// ones still within their retention are passed over. FOR UPDATE SKIP LOCKED
// leaves alone an instance a commit holds right now (and re-checks the
// status of one that changed before the lock was taken). Outbox messages are
// deleted only once sent, and only those sent before the cutoff, which the
// outbox_sent index finds, with their keys; a later one is left to
// PruneSentOutbox.
const sqlPruneInstances = `
WITH victims AS (
	SELECT id FROM instances
	WHERE created_at < $1 AND updated_at < $1 AND status <> 'running'
	ORDER BY created_at, id LIMIT $2
	FOR UPDATE SKIP LOCKED),
d_tasks AS (DELETE FROM tasks WHERE instance_id = ANY(ARRAY(SELECT id FROM victims))),
d_audit AS (DELETE FROM audit WHERE instance_id = ANY(ARRAY(SELECT id FROM victims))),
d_timers AS (DELETE FROM timers WHERE instance_id = ANY(ARRAY(SELECT id FROM victims))),
gone_outbox AS (DELETE FROM outbox WHERE sent_at < $1 AND instance_id = ANY(ARRAY(SELECT id FROM victims))
	RETURNING key, keys),
` + sqlFreeKeys + `,
d_cards AS (DELETE FROM bot_cards WHERE instance_id = ANY(ARRAY(SELECT id FROM victims))),
d_links AS (DELETE FROM order_instances WHERE instance_id = ANY(ARRAY(SELECT id FROM victims))),
d_instances AS (DELETE FROM instances WHERE id = ANY(ARRAY(SELECT id FROM victims)) RETURNING 1)
SELECT count(*) FROM d_instances`

// sqlPruneCards deletes one batch of card records, oldest sent first (the
// bot_cards_sent index), that no update will need again: those of an
// instance finished before the cutoff, and those about no instance (a posted
// digest, whose InstanceID is its subject) last written before it. A card
// about a running instance is kept however old.
const sqlPruneCards = `
DELETE FROM bot_cards WHERE ctid = ANY(ARRAY(
	SELECT c.ctid FROM bot_cards c LEFT JOIN instances i ON i.id = c.instance_id
	WHERE c.sent_at < $1 AND CASE WHEN i.id IS NULL THEN c.updated_at < $1
		ELSE i.status <> 'running' AND i.updated_at < $1 END
	ORDER BY c.sent_at LIMIT $2))`

// PruneInstances deletes up to limit instances that finished (any status
// but running) before before, oldest first, with their tasks, audit trail,
// timers, sent outbox messages, card records and order links, and returns
// how many instances it deleted. A running instance is never deleted.
func (s *Store) PruneInstances(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var n int
	if err := s.pool.QueryRow(ctx, sqlPruneInstances, before, limit).Scan(&n); err != nil {
		return 0, fail(err, "prune finished instances")
	}
	return n, nil
}

// PruneCards deletes up to limit card records of instances finished before
// before, and of posts (cards about no instance) last written before it,
// oldest sent first, and returns how many it deleted. A finished instance's
// cards no longer change, so nothing needs their records; a post recorded
// before before is past every catch-up that could send it again.
func (s *Store) PruneCards(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.prune(ctx, sqlPruneCards, before, limit)
	if err != nil {
		return 0, fail(err, "prune card records")
	}
	return n, nil
}
