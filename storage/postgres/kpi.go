package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"cardflow/adapters/kpi"
)

var _ kpi.Store = (*Store)(nil)

// totalsQuery sums the orders paid in [$1, $2) and those placed in it,
// each from its own covering index (orders_paid_at, orders_created_at).
// An order closed after payment (status closed) was fully refunded.
const totalsQuery = `SELECT p.n, p.paid, p.units, p.rn, p.rpaid, c.n, c.gmv FROM
	(SELECT count(*) AS n, coalesce(sum(paid_fen), 0) AS paid, coalesce(sum(units), 0) AS units,
		count(*) FILTER (WHERE refund = 'refunded' OR status = 'closed') AS rn,
		coalesce(sum(paid_fen) FILTER (WHERE refund = 'refunded' OR status = 'closed'), 0) AS rpaid
	 FROM orders WHERE paid_at IS NOT NULL AND paid_at >= $1 AND paid_at < $2
		AND ($3 = '' OR platform = $3) AND ($4 = '' OR shop = $4)) p,
	(SELECT count(*) AS n, coalesce(sum(total_fen), 0) AS gmv
	 FROM orders WHERE created_at IS NOT NULL AND created_at >= $1 AND created_at < $2
		AND ($3 = '' OR platform = $3) AND ($4 = '' OR shop = $4)) c`

// OrderTotals sums the orders of f over [from, to) (see kpi.Store).
func (s *Store) OrderTotals(ctx context.Context, from, to time.Time, f kpi.Filter) (kpi.Totals, error) {
	var t kpi.Totals
	err := s.pool.QueryRow(ctx, totalsQuery, ceilMicro(from), ceilMicro(to), f.Platform, f.Shop).Scan(
		&t.Paid, &t.PaidFen, &t.Units, &t.Refunded, &t.RefundedFen, &t.Placed, &t.GMVFen)
	if err != nil {
		return kpi.Totals{}, fail(err, "order totals %s–%s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return t, nil
}

// ceilMicro is a range bound in the microseconds PostgreSQL keeps: the
// first kept instant at or after t (pgx would truncate it, and a bound
// with nanoseconds would take in an order before it).
func ceilMicro(t time.Time) time.Time {
	c := t.Truncate(time.Microsecond)
	if c.Before(t) {
		c = c.Add(time.Microsecond)
	}
	return c
}

// StockOnHand returns the pieces on hand at each instant of at: for each
// stock row, the on-hand after its latest movement at or before the
// instant, read backwards along the row's history index.
func (s *Store) StockOnHand(ctx context.Context, at []time.Time) ([]int64, error) {
	if len(at) == 0 {
		return nil, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT t.i, coalesce(sum((SELECT m.on_hand_after FROM stock_movements m
			WHERE m.sku = l.sku AND m.warehouse = l.warehouse AND m.at <= t.at ORDER BY m.seq DESC LIMIT 1)), 0)
		FROM unnest($1::timestamptz[]) WITH ORDINALITY AS t(at, i) CROSS JOIN stock_levels l
		GROUP BY t.i`, at)
	out := make([]int64, len(at))
	var i, n int64
	_, err := pgx.ForEachRow(rows, []any{&i, &n}, func() error {
		out[i-1] = n
		return nil
	})
	if err != nil {
		return nil, fail(err, "stock on hand")
	}
	return out, nil
}

// PutMetrics stores ms in one transaction, each replacing the value of its
// key (see kpi.Store).
func (s *Store) PutMetrics(ctx context.Context, ms []kpi.Metric) error {
	for _, m := range ms {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("postgres: put metric %s: %w", m.Name, err)
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, m := range ms {
			b.Queue(`INSERT INTO kpi_metrics (source, name, platform, shop, day, day_start, value, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, now())
				ON CONFLICT (source, name, platform, shop, day) DO UPDATE
				SET day_start = excluded.day_start, value = excluded.value, updated_at = excluded.updated_at`,
				m.Source, m.Name, m.Platform, m.Shop, m.DayKey(), m.Day, m.Value.String())
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fail(err, "put %d metrics", len(ms))
	}
	return nil
}

// SumMetric sums the named metric over the days starting in [from, to)
// (see kpi.Store), exactly, in numeric.
func (s *Store) SumMetric(ctx context.Context, name string, from, to time.Time, f kpi.Filter) (decimal.Decimal, bool, error) {
	var sum *string
	err := s.pool.QueryRow(ctx, `SELECT sum(value)::text FROM kpi_metrics
		WHERE name = $1 AND day_start >= $2 AND day_start < $3 AND ($4 = '' OR platform = $4) AND ($5 = '' OR shop = $5)`,
		name, ceilMicro(from), ceilMicro(to), f.Platform, f.Shop).Scan(&sum)
	if err != nil {
		return decimal.Decimal{}, false, fail(err, "sum metric %s", name)
	}
	if sum == nil {
		return decimal.Zero, false, nil
	}
	d, err := decimal.NewFromString(*sum)
	if err != nil {
		return decimal.Decimal{}, false, fmt.Errorf("postgres: sum metric %s: %w", name, err)
	}
	return d, true, nil
}
