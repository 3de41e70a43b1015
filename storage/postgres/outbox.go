package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"cardflow/flows"
)

// PendingOutbox returns up to limit unsent messages in ascending Seq, which
// is commit order per instance.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]flows.OutboxMessage, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT seq, COALESCE(key, ''), instance_id, topic, payload, created_at
		FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1`, limit)
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (flows.OutboxMessage, error) {
		var m flows.OutboxMessage
		err := row.Scan(&m.Seq, &m.Key, &m.InstanceID, &m.Topic, &m.Payload, &m.CreatedAt)
		return m, err
	})
	if err != nil {
		return nil, fail(err, "pending outbox")
	}
	return list, nil
}

// MarkOutboxSent marks messages sent. Sent rows are kept (they are the
// history of what was notified) but leave the partial index the relay reads.
func (s *Store) MarkOutboxSent(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE outbox SET sent_at = now() WHERE seq = ANY($1) AND sent_at IS NULL`, seqs)
	if err != nil {
		return fail(err, "mark outbox sent")
	}
	return nil
}

// OutboxBacklog reports how many messages are unsent and when the oldest of
// them was committed (the zero time when none are).
func (s *Store) OutboxBacklog(ctx context.Context) (int64, time.Time, error) {
	var (
		count  int64
		oldest pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL`).
		Scan(&count, &oldest)
	if err != nil {
		return 0, time.Time{}, fail(err, "outbox backlog")
	}
	return count, timeOrZero(oldest), nil
}
