package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"cardflow/adapters/stock"
)

var _ stock.Store = (*Store)(nil)

// errRacedRepeat rolls back a movement whose id another transaction
// recorded between this one's check and its insert; the call then reads
// the recorded one.
var errRacedRepeat = errors.New("movement recorded meanwhile")

// ApplyMovement records m and applies it to its row in one transaction,
// unless its source and id were recorded before (see stock.Store).
//
// A repeat is found by its key first, so a retry reads two rows and writes
// nothing. Otherwise the row is inserted if new and then locked (FOR
// UPDATE): concurrent movements on one row are applied one after the
// other, each on the row the one before left, and none is lost. A racing
// repeat of the same id waits at the movement's insert for the first to
// commit and skips; its transaction is rolled back and the call answers as
// a repeat. The SKU's stock pushes are upserted in the same transaction
// (upsertPushes).
func (s *Store) ApplyMovement(ctx context.Context, m stock.Movement) (stock.Record, stock.Level, bool, error) {
	p, err := stock.Prepare(m)
	if err != nil {
		return stock.Record{}, stock.Level{}, false, fmt.Errorf("postgres: apply stock movement %s/%s: %w", m.Source, m.EventID, err)
	}
	m = p
	for range 2 {
		rec, now, first, err := s.applyMovement(ctx, m)
		if errors.Is(err, errRacedRepeat) {
			continue
		}
		if errors.Is(err, stock.ErrInvalid) {
			return stock.Record{}, stock.Level{}, false, fmt.Errorf("postgres: apply stock movement %s/%s: %w", m.Source, m.EventID, err)
		}
		if err != nil {
			return stock.Record{}, stock.Level{}, false, fail(err, "apply stock movement %s/%s", m.Source, m.EventID)
		}
		return rec, now, first, nil
	}
	return stock.Record{}, stock.Level{}, false, fmt.Errorf("postgres: apply stock movement %s/%s: recorded by another call yet not found", m.Source, m.EventID)
}

func (s *Store) applyMovement(ctx context.Context, m stock.Movement) (rec stock.Record, now stock.Level, first bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var found bool
		rec, found, err = readMovement(ctx, tx, m.Source, m.EventID)
		if err != nil || found {
			if found {
				now, err = readLevel(ctx, tx, rec.SKU, rec.Warehouse, "")
			}
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO stock_levels (sku, warehouse, on_hand, reserved)
			VALUES ($1, $2, 0, 0) ON CONFLICT (sku, warehouse) DO NOTHING`, m.SKU, m.Warehouse); err != nil {
			return fmt.Errorf("insert the row: %w", err)
		}
		row, err := readLevel(ctx, tx, m.SKU, m.Warehouse, " FOR UPDATE")
		if err != nil {
			return err
		}
		rec, err = stock.Apply(row, m)
		if err != nil {
			return err
		}
		a := rec.After
		err = tx.QueryRow(ctx, `INSERT INTO stock_movements (source, event_id, sku, warehouse, kind, qty, from_reserved, at,
				order_no, platform, on_hand_delta, reserved_delta, on_hand_after, reserved_after, updated_after, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, now())
			ON CONFLICT (source, event_id) DO NOTHING RETURNING recorded_at`,
			m.Source, m.EventID, m.SKU, m.Warehouse, string(m.Kind), m.Qty, m.FromReserved, m.At, m.OrderNo, m.Platform,
			rec.OnHandDelta, rec.ReservedDelta, a.OnHand, a.Reserved, a.UpdatedAt).Scan(&rec.RecordedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return errRacedRepeat
		}
		if err != nil {
			return fmt.Errorf("record: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE stock_levels SET on_hand = $3, reserved = $4, updated_at = $5
			WHERE sku = $1 AND warehouse = $2`, m.SKU, m.Warehouse, a.OnHand, a.Reserved, a.UpdatedAt); err != nil {
			return fmt.Errorf("update the row: %w", err)
		}
		if err := upsertPushes(ctx, tx, m.SKU); err != nil {
			return err
		}
		first, now = true, a
		return nil
	})
	if err != nil {
		return stock.Record{}, stock.Level{}, false, err
	}
	return rec, now, first, nil
}

// readMovement reads a recorded movement by its key.
func readMovement(ctx context.Context, tx pgx.Tx, source, id string) (stock.Record, bool, error) {
	r := stock.Record{Movement: stock.Movement{Source: source, EventID: id}}
	var kind string
	err := tx.QueryRow(ctx, `SELECT sku, warehouse, kind, qty, from_reserved, at, order_no, platform,
			on_hand_delta, reserved_delta, on_hand_after, reserved_after, updated_after, recorded_at
		FROM stock_movements WHERE source = $1 AND event_id = $2`, source, id).Scan(
		&r.SKU, &r.Warehouse, &kind, &r.Qty, &r.FromReserved, &r.At, &r.OrderNo, &r.Platform,
		&r.OnHandDelta, &r.ReservedDelta, &r.After.OnHand, &r.After.Reserved, &r.After.UpdatedAt, &r.RecordedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return stock.Record{}, false, nil
	}
	if err != nil {
		return stock.Record{}, false, fmt.Errorf("read the recorded movement: %w", err)
	}
	r.Kind = stock.Kind(kind)
	r.After.SKU, r.After.Warehouse = r.SKU, r.Warehouse
	return r, true, nil
}

// readLevel reads one row, locked when lock is " FOR UPDATE".
func readLevel(ctx context.Context, tx pgx.Tx, sku, warehouse, lock string) (stock.Level, error) {
	l := stock.Level{SKU: sku, Warehouse: warehouse}
	var updated *time.Time
	err := tx.QueryRow(ctx, `SELECT on_hand, reserved, updated_at FROM stock_levels
		WHERE sku = $1 AND warehouse = $2`+lock, sku, warehouse).Scan(&l.OnHand, &l.Reserved, &updated)
	if err != nil {
		return stock.Level{}, fmt.Errorf("read the row: %w", err)
	}
	if updated != nil {
		l.UpdatedAt = *updated
	}
	return l, nil
}

// StockOf returns a SKU's rows, by warehouse in byte order.
func (s *Store) StockOf(ctx context.Context, sku string) ([]stock.Level, error) {
	if !stock.Storable(sku) {
		return nil, nil // never stored
	}
	rows, _ := s.pool.Query(ctx, `SELECT warehouse, on_hand, reserved, updated_at FROM stock_levels
		WHERE sku = $1 ORDER BY warehouse COLLATE "C"`, sku)
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (stock.Level, error) {
		l := stock.Level{SKU: sku}
		var updated *time.Time
		if err := row.Scan(&l.Warehouse, &l.OnHand, &l.Reserved, &updated); err != nil {
			return l, err
		}
		if updated != nil {
			l.UpdatedAt = *updated
		}
		return l, nil
	})
	if err != nil {
		return nil, fail(err, "stock of %s", sku)
	}
	return list, nil
}
