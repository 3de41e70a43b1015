package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// qFinishedInstances picks one batch of finished instances, oldest first,
// through instances_created: a finished instance was created before it
// finished, so only the instances created before the cutoff are read.
const qFinishedInstances = `SELECT id FROM instances
	WHERE created_at < ? AND updated_at < ? AND status <> 'running'
	ORDER BY created_at, id LIMIT ?`

// qPruneCards deletes one batch of card records, oldest sent first (the
// bot_cards_sent index), that no update will need again: those of an
// instance finished before the cutoff, and those about no instance (a posted
// digest, whose InstanceID is its subject) last written before it.
const qPruneCards = `DELETE FROM bot_cards WHERE (platform, recipient, subject) IN (
	SELECT c.platform, c.recipient, c.subject FROM bot_cards c LEFT JOIN instances i ON i.id = c.instance_id
	WHERE c.sent_at < ?1 AND CASE WHEN i.id IS NULL THEN c.updated_at < ?1
		ELSE i.status <> 'running' AND i.updated_at < ?1 END
	ORDER BY c.sent_at LIMIT ?2)`

// PruneInstances deletes up to limit instances that finished (any status
// but running) before before, oldest first, with their tasks, audit trail,
// timers, sent outbox messages, card records and order links, in one
// transaction, and returns how many instances it deleted. A running
// instance is never deleted. Outbox messages sent after before are left to
// PruneSentOutbox, so the outbox_sent index finds the ones deleted here.
func (s *Store) PruneInstances(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cutoff := before.UnixMicro()
		rows, err := tx.QueryContext(ctx, qFinishedInstances, cutoff, cutoff, limit)
		if err != nil {
			return err
		}
		ids, err := collect(rows, func(r scanner) (any, error) {
			var id string
			return id, r.Scan(&id)
		})
		if err != nil || len(ids) == 0 {
			return err
		}
		in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")"
		for _, q := range []string{
			`DELETE FROM tasks WHERE instance_id IN ` + in,
			`DELETE FROM audit WHERE instance_id IN ` + in,
			`DELETE FROM timers WHERE instance_id IN ` + in,
			`DELETE FROM bot_cards WHERE instance_id IN ` + in,
			`DELETE FROM order_instances WHERE instance_id IN ` + in,
			`DELETE FROM instances WHERE id IN ` + in,
		} {
			if _, err := tx.ExecContext(ctx, q, ids...); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM outbox WHERE sent_at < ? AND instance_id IN `+in,
			append([]any{cutoff}, ids...)...)
		n = len(ids)
		return err
	})
	if err != nil {
		return 0, s.fail(err, "prune finished instances")
	}
	return n, nil
}

// PruneCards deletes up to limit card records of instances finished before
// before, and of posts (cards about no instance) last written before it,
// oldest sent first, and returns how many it deleted. A finished instance's
// cards no longer change, so nothing needs their records; a post recorded
// before before is past every catch-up that could send it again.
func (s *Store) PruneCards(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.prune(ctx, qPruneCards, before, limit)
	if err != nil {
		return 0, s.fail(err, "prune card records")
	}
	return n, nil
}
