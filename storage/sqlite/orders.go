package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"cardflow/adapters/orders"
	"cardflow/storage/internal/orderdoc"
)

var _ orders.Store = (*Store)(nil)

// IngestOrderEvent records e unless source already recorded its id, and
// applies it to the stored order in the same transaction (see
// orders.Store). The write transaction (BEGIN IMMEDIATE on the one write
// connection) makes recording, reading the order, merging and writing it
// one step, so racing calls are applied one after the other: one is first,
// and no event's change to an order is lost.
func (s *Store) IngestOrderEvent(ctx context.Context, source string, e orders.Event) (bool, orders.Order, error) {
	p, err := orderdoc.Prepare(source, e)
	if err != nil {
		return false, orders.Order{}, fmt.Errorf("sqlite: ingest order event %s/%s: %w", source, e.ID, err)
	}
	e = p.Event
	var (
		first bool
		after orders.Order
	)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var seq int64
		err := tx.QueryRowContext(ctx, `INSERT INTO order_events (source, event_id, kind, platform, shop, no, event, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (source, event_id) DO NOTHING RETURNING seq`,
			source, e.ID, string(e.Kind), e.Order.Platform, e.Order.Shop, e.Order.No, string(p.Doc), s.now().UnixMicro()).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			// Recorded before: the order it was applied to, as it stands.
			var doc string
			err := tx.QueryRowContext(ctx, `SELECT o.doc FROM order_events e
				JOIN orders o ON o.platform = e.platform AND o.shop = e.shop AND o.no = e.no
				WHERE e.source = ? AND e.event_id = ?`, source, e.ID).Scan(&doc)
			if err != nil {
				return fmt.Errorf("read the order of the recorded event: %w", err)
			}
			after, err = orderdoc.DecodeOrder([]byte(doc))
			return err
		}
		if err != nil {
			return fmt.Errorf("record: %w", err)
		}
		first = true
		k := e.Order
		var stored *orders.Order
		var doc string
		err = tx.QueryRowContext(ctx, `SELECT doc FROM orders WHERE platform = ? AND shop = ? AND no = ?`,
			k.Platform, k.Shop, k.No).Scan(&doc)
		switch {
		case err == nil:
			o, err := orderdoc.DecodeOrder([]byte(doc))
			if err != nil {
				return err
			}
			stored = &o
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read the order: %w", err)
		}
		newDoc, merged, err := orderdoc.EncodeOrder(orders.Merge(stored, e))
		if err != nil {
			return err
		}
		after = merged
		if _, err := tx.ExecContext(ctx, `INSERT INTO orders (platform, shop, no, status, refund, paid_fen, updated_at, doc,
				created_at, paid_at, total_fen, units)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (platform, shop, no) DO UPDATE SET status = excluded.status, refund = excluded.refund,
				paid_fen = excluded.paid_fen, updated_at = excluded.updated_at, doc = excluded.doc,
				created_at = excluded.created_at, paid_at = excluded.paid_at, total_fen = excluded.total_fen,
				units = excluded.units`,
			k.Platform, k.Shop, k.No, string(merged.Status), string(merged.Refund), int64(merged.Paid),
			timeArg(merged.UpdatedAt), string(newDoc), timeArg(merged.CreatedAt), timeArg(merged.PaidAt),
			int64(merged.Total), orderdoc.Units(merged)); err != nil {
			return fmt.Errorf("write the order: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE order_events SET order_after = ? WHERE seq = ?`, string(newDoc), seq); err != nil {
			return fmt.Errorf("keep the order after: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, orders.Order{}, s.fail(err, "ingest order event %s/%s", source, e.ID)
	}
	return first, after, nil
}

// OrdersByNo returns the orders with this number on every platform and
// shop, most recently updated (Order.UpdatedAt) first, those without an
// update time last, ties by platform and shop in byte order.
func (s *Store) OrdersByNo(ctx context.Context, no string) ([]orders.Order, error) {
	if !orderdoc.Storable(no) {
		return nil, nil // never stored
	}
	rows, err := s.read.QueryContext(ctx, `SELECT doc FROM orders WHERE no = ?
		ORDER BY updated_at DESC NULLS LAST, platform, shop`, no)
	if err != nil {
		return nil, s.fail(err, "orders numbered %s", no)
	}
	list, err := collect(rows, func(r scanner) (orders.Order, error) {
		var doc string
		if err := r.Scan(&doc); err != nil {
			return orders.Order{}, err
		}
		return orderdoc.DecodeOrder([]byte(doc))
	})
	if err != nil {
		return nil, s.fail(err, "orders numbered %s", no)
	}
	return list, nil
}

// UnroutedOrderEvents returns up to limit events not yet routed, in the
// order they were recorded (seq); a limit of 0 or less returns none.
func (s *Store) UnroutedOrderEvents(ctx context.Context, limit int) ([]orders.StoredEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT source, event, order_after, recorded_at FROM order_events
		WHERE routed_at IS NULL ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, s.fail(err, "unrouted order events")
	}
	list, err := collect(rows, func(r scanner) (orders.StoredEvent, error) {
		var se orders.StoredEvent
		var event, after string
		if err := r.Scan(&se.Source, &event, &after, microTime{&se.RecordedAt}); err != nil {
			return se, err
		}
		var err error
		if se.Event, err = orderdoc.DecodeEvent([]byte(event)); err != nil {
			return se, err
		}
		se.Order, err = orderdoc.DecodeOrder([]byte(after))
		return se, err
	})
	if err != nil {
		return nil, s.fail(err, "unrouted order events")
	}
	return list, nil
}

// MarkOrderEventRouted records that the event was routed at at, unless it
// was marked before (the first time stays). An unknown event is skipped.
func (s *Store) MarkOrderEventRouted(ctx context.Context, source, id string, at time.Time) error {
	if !orderdoc.Storable(source, id) {
		return nil // never recorded
	}
	// at.UnixMicro, not timeArg: the zero time must still mark the event
	// routed, and NULL is unrouted.
	_, err := s.write.ExecContext(ctx, `UPDATE order_events SET routed_at = ?
		WHERE source = ? AND event_id = ? AND routed_at IS NULL`, at.UnixMicro(), source, id)
	if err != nil {
		return s.fail(err, "mark order event %s/%s routed", source, id)
	}
	return nil
}

// OrderCursor returns the poller's cursor of source in shop; "" for none.
func (s *Store) OrderCursor(ctx context.Context, source, shop string) (string, error) {
	var cursor string
	err := s.read.QueryRowContext(ctx, `SELECT cursor FROM order_cursors WHERE source = ? AND shop = ?`, source, shop).Scan(&cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", s.fail(err, "order cursor %s/%s", source, shop)
	}
	return cursor, nil
}

// SetOrderCursor records the poller's cursor of source in shop.
func (s *Store) SetOrderCursor(ctx context.Context, source, shop, cursor string, at time.Time) error {
	if err := orders.CheckCursor(source, shop, cursor); err != nil {
		return fmt.Errorf("sqlite: set order cursor: %w", err)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO order_cursors (source, shop, cursor, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (source, shop) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
		source, shop, cursor, at.UnixMicro())
	if err != nil {
		return s.fail(err, "set order cursor %s/%s", source, shop)
	}
	return nil
}
