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
// orders.Store). Events arriving together share one transaction of two
// round trips (see ingestGroup in orders_group.go): an advisory lock on
// each order's key (platform, shop, number), taken before anything is
// read, makes the events of one order merge one after the other, the order
// not stored yet included, and makes exactly one of two racing calls with
// one event id first: the reads that follow the lock (new statements,
// hence new snapshots) see whatever the previous holder committed.
func (s *Store) IngestOrderEvent(ctx context.Context, source string, e orders.Event) (bool, orders.Order, error) {
	p, err := orderdoc.Prepare(source, e)
	if err != nil {
		return false, orders.Order{}, fmt.Errorf("postgres: ingest order event %s/%s: %w", source, e.ID, err)
	}
	ingest := s.ingestGrouped
	if s.alone {
		ingest = s.ingestAlone
	}
	first, after, err := ingest(ctx, source, p)
	if err != nil {
		return false, orders.Order{}, fail(err, "ingest order event %s/%s", source, p.Event.ID)
	}
	return first, after, nil
}

// orderLockClass is the first key of the advisory locks on orders, the
// second being the hash of the order's key; two-key advisory locks do not
// share a space with the one-key lock of the migrations.
const orderLockClass = 0x6f726472 // "ordr"

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
