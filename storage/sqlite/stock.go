package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"cardflow/adapters/stock"
)

var _ stock.Store = (*Store)(nil)

// ApplyMovement records m and applies it to its row in one transaction,
// unless its source and id were recorded before (see stock.Store). The
// write transaction (BEGIN IMMEDIATE on the one write connection) makes
// the check, the read of the row, the movement's record and the row's
// update one step, so concurrent movements are applied one after the
// other and none is lost. The SKU's stock pushes are upserted in the same
// transaction (upsertPushes).
func (s *Store) ApplyMovement(ctx context.Context, m stock.Movement) (stock.Record, stock.Level, bool, error) {
	p, err := stock.Prepare(m)
	if err != nil {
		return stock.Record{}, stock.Level{}, false, fmt.Errorf("sqlite: apply stock movement %s/%s: %w", m.Source, m.EventID, err)
	}
	m = p
	var (
		rec   stock.Record
		now   stock.Level
		first bool
	)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var found bool
		var err error
		rec, found, err = s.readMovement(ctx, tx, m.Source, m.EventID)
		if err != nil || found {
			if found {
				now, err = readLevel(ctx, tx, rec.SKU, rec.Warehouse)
			}
			return err
		}
		row, err := readLevel(ctx, tx, m.SKU, m.Warehouse)
		if err != nil {
			return err
		}
		rec, err = stock.Apply(row, m)
		if err != nil {
			return err
		}
		a := rec.After
		rec.RecordedAt = storedTime(s.now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO stock_movements (source, event_id, sku, warehouse, kind, qty,
				from_reserved, at, order_no, platform, on_hand_delta, reserved_delta, on_hand_after, reserved_after,
				updated_after, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.Source, m.EventID, m.SKU, m.Warehouse, string(m.Kind), m.Qty, m.FromReserved, m.At.UnixMicro(), m.OrderNo,
			m.Platform, rec.OnHandDelta, rec.ReservedDelta, a.OnHand, a.Reserved, a.UpdatedAt.UnixMicro(),
			rec.RecordedAt.UnixMicro()); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stock_levels (sku, warehouse, on_hand, reserved, updated_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (sku, warehouse) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved,
				updated_at = excluded.updated_at`,
			m.SKU, m.Warehouse, a.OnHand, a.Reserved, a.UpdatedAt.UnixMicro()); err != nil {
			return fmt.Errorf("write the row: %w", err)
		}
		if err := upsertPushes(ctx, tx, m.SKU, rec.RecordedAt); err != nil {
			return err
		}
		first, now = true, a
		return nil
	})
	if errors.Is(err, stock.ErrInvalid) {
		return stock.Record{}, stock.Level{}, false, fmt.Errorf("sqlite: apply stock movement %s/%s: %w", m.Source, m.EventID, err)
	}
	if err != nil {
		return stock.Record{}, stock.Level{}, false, s.fail(err, "apply stock movement %s/%s", m.Source, m.EventID)
	}
	return rec, now, first, nil
}

// readMovement reads a recorded movement by its key.
func (s *Store) readMovement(ctx context.Context, tx *sql.Tx, source, id string) (stock.Record, bool, error) {
	r := stock.Record{Movement: stock.Movement{Source: source, EventID: id}}
	var kind string
	err := tx.QueryRowContext(ctx, `SELECT sku, warehouse, kind, qty, from_reserved, at, order_no, platform,
			on_hand_delta, reserved_delta, on_hand_after, reserved_after, updated_after, recorded_at
		FROM stock_movements WHERE source = ? AND event_id = ?`, source, id).Scan(
		&r.SKU, &r.Warehouse, &kind, &r.Qty, &r.FromReserved, microTime{&r.At}, &r.OrderNo, &r.Platform,
		&r.OnHandDelta, &r.ReservedDelta, &r.After.OnHand, &r.After.Reserved, microTime{&r.After.UpdatedAt},
		microTime{&r.RecordedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return stock.Record{}, false, nil
	}
	if err != nil {
		return stock.Record{}, false, fmt.Errorf("read the recorded movement: %w", err)
	}
	r.Kind = stock.Kind(kind)
	r.After.SKU, r.After.Warehouse = r.SKU, r.Warehouse
	return r, true, nil
}

// readLevel reads one row; a row not stored yet is the zero row.
func readLevel(ctx context.Context, tx *sql.Tx, sku, warehouse string) (stock.Level, error) {
	l := stock.Level{SKU: sku, Warehouse: warehouse}
	err := tx.QueryRowContext(ctx, `SELECT on_hand, reserved, updated_at FROM stock_levels
		WHERE sku = ? AND warehouse = ?`, sku, warehouse).Scan(&l.OnHand, &l.Reserved, microTime{&l.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return l, nil
	}
	if err != nil {
		return stock.Level{}, fmt.Errorf("read the row: %w", err)
	}
	return l, nil
}

// StockOf returns a SKU's rows, by warehouse in byte order (SQLite's
// default BINARY collation).
func (s *Store) StockOf(ctx context.Context, sku string) ([]stock.Level, error) {
	if !stock.Storable(sku) {
		return nil, nil // never stored
	}
	rows, err := s.read.QueryContext(ctx, `SELECT warehouse, on_hand, reserved, updated_at FROM stock_levels
		WHERE sku = ? ORDER BY warehouse`, sku)
	if err != nil {
		return nil, s.fail(err, "stock of %s", sku)
	}
	list, err := collect(rows, func(r scanner) (stock.Level, error) {
		l := stock.Level{SKU: sku}
		err := r.Scan(&l.Warehouse, &l.OnHand, &l.Reserved, microTime{&l.UpdatedAt})
		return l, err
	})
	if err != nil {
		return nil, s.fail(err, "stock of %s", sku)
	}
	return list, nil
}
