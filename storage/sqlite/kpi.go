package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"cardflow/adapters/kpi"
)

var _ kpi.Store = (*Store)(nil)

// totalsQuery sums the orders paid in [?1, ?2) and those placed in it,
// each from its own covering index (orders_paid_at, orders_created_at).
// An order closed after payment (status closed) was fully refunded.
const totalsQuery = `SELECT p.n, p.paid, p.units, p.rn, p.rpaid, c.n, c.gmv FROM
	(SELECT count(*) AS n, coalesce(sum(paid_fen), 0) AS paid, coalesce(sum(units), 0) AS units,
		count(*) FILTER (WHERE refund = 'refunded' OR status = 'closed') AS rn,
		coalesce(sum(paid_fen) FILTER (WHERE refund = 'refunded' OR status = 'closed'), 0) AS rpaid
	 FROM orders WHERE paid_at IS NOT NULL AND paid_at >= ?1 AND paid_at < ?2
		AND (?3 = '' OR platform = ?3) AND (?4 = '' OR shop = ?4)) p,
	(SELECT count(*) AS n, coalesce(sum(total_fen), 0) AS gmv
	 FROM orders WHERE created_at IS NOT NULL AND created_at >= ?1 AND created_at < ?2
		AND (?3 = '' OR platform = ?3) AND (?4 = '' OR shop = ?4)) c`

// OrderTotals sums the orders of f over [from, to) (see kpi.Store).
func (s *Store) OrderTotals(ctx context.Context, from, to time.Time, f kpi.Filter) (kpi.Totals, error) {
	var t kpi.Totals
	err := s.read.QueryRowContext(ctx, totalsQuery, ceilMicro(from), ceilMicro(to), f.Platform, f.Shop).Scan(
		&t.Paid, &t.PaidFen, &t.Units, &t.Refunded, &t.RefundedFen, &t.Placed, &t.GMVFen)
	if err != nil {
		return kpi.Totals{}, s.fail(err, "order totals %s–%s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return t, nil
}

// ceilMicro is a range bound in the microseconds times are kept in: the
// first kept instant at or after t, so that [from, to) holds the same
// orders here as in PostgreSQL.
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if time.UnixMicro(us).Before(t) {
		us++
	}
	return us
}

// StockOnHand returns the pieces on hand at each instant of at: for each
// stock row, the on-hand after its latest movement at or before the
// instant, read backwards along the row's history index.
func (s *Store) StockOnHand(ctx context.Context, at []time.Time) ([]int64, error) {
	out := make([]int64, len(at))
	for i, t := range at {
		err := s.read.QueryRowContext(ctx, `SELECT coalesce(sum((SELECT m.on_hand_after FROM stock_movements m
				WHERE m.sku = l.sku AND m.warehouse = l.warehouse AND m.at <= ? ORDER BY m.seq DESC LIMIT 1)), 0)
			FROM stock_levels l`, t.UnixMicro()).Scan(&out[i])
		if err != nil {
			return nil, s.fail(err, "stock on hand at %s", t.Format(time.RFC3339))
		}
	}
	return out, nil
}

// PutMetrics stores ms in one transaction, each replacing the value of its
// key (see kpi.Store).
func (s *Store) PutMetrics(ctx context.Context, ms []kpi.Metric) error {
	for _, m := range ms {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("sqlite: put metric %s: %w", m.Name, err)
		}
	}
	now := s.now().UnixMicro()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, m := range ms {
			if _, err := tx.ExecContext(ctx, `INSERT INTO kpi_metrics (source, name, platform, shop, day, day_start, value, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (source, name, platform, shop, day) DO UPDATE
				SET day_start = excluded.day_start, value = excluded.value, updated_at = excluded.updated_at`,
				m.Source, m.Name, m.Platform, m.Shop, m.DayKey(), m.Day.UnixMicro(), m.Value.String(), now); err != nil {
				return fmt.Errorf("metric %s/%s: %w", m.Source, m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return s.fail(err, "put %d metrics", len(ms))
	}
	return nil
}

// SumMetric sums the named metric over the days starting in [from, to)
// (see kpi.Store). The values are TEXT and summed here in decimal: SQLite
// would sum them as floats.
func (s *Store) SumMetric(ctx context.Context, name string, from, to time.Time, f kpi.Filter) (decimal.Decimal, bool, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT value FROM kpi_metrics
		WHERE name = ? AND day_start >= ? AND day_start < ? AND (?4 = '' OR platform = ?4) AND (?5 = '' OR shop = ?5)`,
		name, ceilMicro(from), ceilMicro(to), f.Platform, f.Shop)
	if err != nil {
		return decimal.Decimal{}, false, s.fail(err, "sum metric %s", name)
	}
	values, err := collect(rows, func(r scanner) (decimal.Decimal, error) {
		var v string
		if err := r.Scan(&v); err != nil {
			return decimal.Decimal{}, err
		}
		return decimal.NewFromString(v)
	})
	if err != nil {
		return decimal.Decimal{}, false, s.fail(err, "sum metric %s", name)
	}
	sum := decimal.Zero
	for _, v := range values {
		sum = sum.Add(v)
	}
	return sum, len(values) > 0, nil
}
