package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"cardflow/adapters/orders"
	"cardflow/storage/internal/orderdoc"
)

var _ orders.Store = (*Store)(nil)

// IngestOrderEvent records e unless source already recorded its id, and
// applies it to the stored order in the same transaction (see
// orders.Store). It costs two round trips: the transaction is two
// pipelined batches on one connection, the second ending in its COMMIT.
//
// The event's insert comes first: a racing insert of the same id waits for
// the first to commit and then skips the row, so exactly one call is first.
// Then an advisory lock on the order's key (platform, shop, number) makes
// the events of one order merge one after the other, the order not stored
// yet included: the read that follows the lock (a new statement, hence a
// new snapshot) sees whatever the previous holder committed, so no change
// is lost and an order is inserted once.
func (s *Store) IngestOrderEvent(ctx context.Context, source string, e orders.Event) (bool, orders.Order, error) {
	p, err := orderdoc.Prepare(source, e)
	if err != nil {
		return false, orders.Order{}, fmt.Errorf("postgres: ingest order event %s/%s: %w", source, e.ID, err)
	}
	first, after, err := s.ingest(ctx, source, p)
	if err != nil {
		return false, orders.Order{}, fail(err, "ingest order event %s/%s", source, p.Event.ID)
	}
	return first, after, nil
}

// orderLockClass is the first key of the advisory locks on orders, the
// second being the hash of the order's key; two-key advisory locks do not
// share a space with the one-key lock of the migrations.
const orderLockClass = 0x6f726472 // "ordr"

// ingest runs IngestOrderEvent's transaction. A connection left inside a
// transaction by a failure is discarded by the pool when released.
func (s *Store) ingest(ctx context.Context, source string, p orderdoc.Prepared) (bool, orders.Order, error) {
	e, k := p.Event, p.Event.Order
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, orders.Order{}, err
	}
	defer conn.Release()
	rollback := func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK") }

	b := &pgx.Batch{}
	b.Queue("BEGIN")
	var seq int64
	inserted := true
	b.Queue(`INSERT INTO order_events (source, event_id, kind, platform, shop, no, event, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, now())
		ON CONFLICT (source, event_id) DO NOTHING RETURNING seq`,
		source, e.ID, e.Kind, k.Platform, k.Shop, k.No, p.Doc).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			inserted = false
			return nil
		}
		return err
	})
	// Keys whose hashes collide only wait for each other.
	b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, orderLockClass, k.Platform+"/"+k.Shop+"/"+k.No)
	var stored *orders.Order
	b.Queue(`SELECT doc FROM orders WHERE platform = $1 AND shop = $2 AND no = $3`,
		k.Platform, k.Shop, k.No).QueryRow(func(row pgx.Row) error {
		var doc []byte
		err := row.Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the order: %w", err)
		}
		o, err := orderdoc.DecodeOrder(doc)
		stored = &o
		return err
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		rollback()
		return false, orders.Order{}, fmt.Errorf("record: %w", err)
	}
	if !inserted {
		// Recorded before: the order it was applied to, as it stands.
		var doc []byte
		err := conn.QueryRow(ctx, `SELECT o.doc FROM order_events e
			JOIN orders o ON o.platform = e.platform AND o.shop = e.shop AND o.no = e.no
			WHERE e.source = $1 AND e.event_id = $2`, source, e.ID).Scan(&doc)
		rollback()
		if err != nil {
			return false, orders.Order{}, fmt.Errorf("read the order of the recorded event: %w", err)
		}
		after, err := orderdoc.DecodeOrder(doc)
		return false, after, err
	}

	newDoc, merged, err := orderdoc.EncodeOrder(orders.Merge(stored, e))
	if err != nil {
		rollback()
		return false, orders.Order{}, err
	}
	b = &pgx.Batch{}
	args := []any{k.Platform, k.Shop, k.No, merged.Status, merged.Refund, int64(merged.Paid),
		nullTime(merged.UpdatedAt), newDoc, nullTime(merged.CreatedAt), nullTime(merged.PaidAt),
		int64(merged.Total), orderdoc.Units(merged)}
	if stored != nil {
		b.Queue(`UPDATE orders SET status = $4, refund = $5, paid_fen = $6, updated_at = $7, doc = $8,
				created_at = $9, paid_at = $10, total_fen = $11, units = $12
			WHERE platform = $1 AND shop = $2 AND no = $3`, args...)
	} else {
		// No ON CONFLICT: under the lock no other event inserts the order,
		// and were one to, the unique violation rolls this one back.
		b.Queue(`INSERT INTO orders (platform, shop, no, status, refund, paid_fen, updated_at, doc,
				created_at, paid_at, total_fen, units)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, args...)
	}
	b.Queue(`UPDATE order_events SET order_after = $2 WHERE seq = $1`, seq, newDoc)
	b.Queue("COMMIT")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		rollback()
		return false, orders.Order{}, fmt.Errorf("write the order: %w", err)
	}
	return true, merged, nil
}

// OrdersByNo returns the orders with this number on every platform and
// shop, most recently updated (Order.UpdatedAt) first, those without an
// update time last, ties by platform and shop in byte order.
func (s *Store) OrdersByNo(ctx context.Context, no string) ([]orders.Order, error) {
	if !orderdoc.Storable(no) {
		return nil, nil // never stored
	}
	rows, _ := s.pool.Query(ctx, `SELECT doc FROM orders WHERE no = $1
		ORDER BY updated_at DESC NULLS LAST, platform COLLATE "C", shop COLLATE "C"`, no)
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (orders.Order, error) {
		var doc []byte
		if err := row.Scan(&doc); err != nil {
			return orders.Order{}, err
		}
		return orderdoc.DecodeOrder(doc)
	})
	if err != nil {
		return nil, fail(err, "orders numbered %s", no)
	}
	return list, nil
}

// UnroutedOrderEvents returns up to limit events not yet routed, in the
// order they were recorded (seq); a limit of 0 or less returns none.
func (s *Store) UnroutedOrderEvents(ctx context.Context, limit int) ([]orders.StoredEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT source, event, order_after, recorded_at FROM order_events
		WHERE routed_at IS NULL ORDER BY seq LIMIT $1`, limit)
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (orders.StoredEvent, error) {
		var se orders.StoredEvent
		var event, after []byte
		if err := row.Scan(&se.Source, &event, &after, &se.RecordedAt); err != nil {
			return se, err
		}
		var err error
		if se.Event, err = orderdoc.DecodeEvent(event); err != nil {
			return se, err
		}
		se.Order, err = orderdoc.DecodeOrder(after)
		return se, err
	})
	if err != nil {
		return nil, fail(err, "unrouted order events")
	}
	return list, nil
}

// MarkOrderEventRouted records that the event was routed at at, unless it
// was marked before (the first time stays). An unknown event is skipped.
func (s *Store) MarkOrderEventRouted(ctx context.Context, source, id string, at time.Time) error {
	if !orderdoc.Storable(source, id) {
		return nil // never recorded
	}
	// at is stored as given, the zero time too, so that it still marks the
	// event routed (NULL is unrouted).
	_, err := s.pool.Exec(ctx, `UPDATE order_events SET routed_at = $3
		WHERE source = $1 AND event_id = $2 AND routed_at IS NULL`, source, id, at)
	if err != nil {
		return fail(err, "mark order event %s/%s routed", source, id)
	}
	return nil
}

// OrderCursor returns the poller's cursor of source in shop; "" for none.
func (s *Store) OrderCursor(ctx context.Context, source, shop string) (string, error) {
	if !orderdoc.Storable(source, shop) {
		return "", nil // never recorded
	}
	var cursor string
	err := s.pool.QueryRow(ctx, `SELECT cursor FROM order_cursors WHERE source = $1 AND shop = $2`, source, shop).Scan(&cursor)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fail(err, "order cursor %s/%s", source, shop)
	}
	return cursor, nil
}

// SetOrderCursor records the poller's cursor of source in shop.
func (s *Store) SetOrderCursor(ctx context.Context, source, shop, cursor string, at time.Time) error {
	if err := orders.CheckCursor(source, shop, cursor); err != nil {
		return fmt.Errorf("postgres: set order cursor: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO order_cursors (source, shop, cursor, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (source, shop) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
		source, shop, cursor, at)
	if err != nil {
		return fail(err, "set order cursor %s/%s", source, shop)
	}
	return nil
}
