package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"cardflow/flows"
)

// PendingOutbox returns up to limit unsent messages by ascending Seq, which
// is commit order: there is one writer, so seqs are handed out in the order
// transactions commit.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]flows.OutboxMessage, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT seq, key, instance_id, topic, payload, created_at
		FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, s.fail(err, "pending outbox")
	}
	out, err := collect(rows, func(r scanner) (flows.OutboxMessage, error) {
		var m flows.OutboxMessage
		err := r.Scan(&m.Seq, &m.Key, &m.InstanceID, &m.Topic, rawJSON{&m.Payload}, microTime{&m.CreatedAt})
		return m, err
	})
	if err != nil {
		return nil, s.fail(err, "pending outbox")
	}
	return out, nil
}

// MarkOutboxSent marks messages sent; already sent or unknown seqs are
// skipped. The seqs travel as one JSON array so any number fits in one
// statement, written in a group commit (group.go) beside the changes.
func (s *Store) MarkOutboxSent(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	list, err := json.Marshal(seqs)
	if err != nil {
		return s.fail(err, "mark outbox sent")
	}
	err = s.inGroup(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET sent_at = ?
			WHERE sent_at IS NULL AND seq IN (SELECT value FROM json_each(?))`, s.now().UnixMicro(), string(list))
		return err
	})
	if err != nil {
		return s.fail(err, "mark outbox sent")
	}
	return nil
}

// OutboxBacklog reports how many messages are unsent and the commit time of
// the oldest of them (zero when none).
func (s *Store) OutboxBacklog(ctx context.Context) (int64, time.Time, error) {
	var count int64
	var oldest time.Time
	// The oldest unsent message is the one with the lowest seq, since seqs
	// follow commit order; reading it by seq keeps the backlog query on the
	// unsent index without a second index every commit would have to update.
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*),
		(SELECT created_at FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT 1)
		FROM outbox WHERE sent_at IS NULL`).Scan(&count, microTime{&oldest})
	if err != nil {
		return 0, time.Time{}, s.fail(err, "outbox backlog")
	}
	return count, oldest, nil
}

// ClaimTimers leases to holder, until now+lease, up to limit timers due at
// or before now whose lease is free or expired, earliest due first.
func (s *Store) ClaimTimers(ctx context.Context, now time.Time, holder string, lease time.Duration, limit int) ([]flows.Timer, error) {
	if limit <= 0 {
		return nil, nil
	}
	// One statement, so it is atomic without a transaction of its own.
	rows, err := s.write.QueryContext(ctx, `UPDATE timers SET holder = ?1, lease_until = ?2
		WHERE id IN (SELECT id FROM timers WHERE due_at <= ?3 AND (lease_until IS NULL OR lease_until <= ?3)
			ORDER BY due_at, id LIMIT ?4)
		RETURNING id, instance_id, task_id, kind, due_at, payload`,
		holder, now.Add(lease).UnixMicro(), now.UnixMicro(), limit)
	if err != nil {
		return nil, s.fail(err, "claim timers for %s", holder)
	}
	out, err := collect(rows, func(r scanner) (flows.Timer, error) {
		var t flows.Timer
		err := r.Scan(&t.ID, &t.InstanceID, &t.TaskID, &t.Kind, microTime{&t.DueAt}, rawJSON{&t.Payload})
		return t, err
	})
	if err != nil {
		return nil, s.fail(err, "claim timers for %s", holder)
	}
	// RETURNING gives no order.
	slices.SortFunc(out, func(a, b flows.Timer) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// AcquireLease takes the named lease for holder until now+ttl when it is
// free, expired or already holder's; it reports false when another holder's
// lease is still running.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	res, err := s.write.ExecContext(ctx, `INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
		WHERE leases.holder = excluded.holder OR leases.until <= ?`,
		name, holder, now.Add(ttl).UnixMicro(), now.UnixMicro())
	if err != nil {
		return false, s.fail(err, "acquire lease %s", name)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail(err, "acquire lease %s", name)
	}
	return n == 1, nil
}

// ReleaseLease gives the lease up if holder holds it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return s.fail(err, "release lease %s", name)
	}
	return nil
}
