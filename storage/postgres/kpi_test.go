package postgres

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi"
)

// TestKPIMigrationFillsExistingOrders upgrades a schema holding orders
// written before 00009 and finds them in the totals: their times, goods
// value and units come from their documents.
func TestKPIMigrationFillsExistingOrders(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn, db := migratedUpTo(t, 8)
	_, err := db.ExecContext(ctx, `INSERT INTO orders (platform, shop, no, status, refund, paid_fen, updated_at, doc) VALUES
		('jd', 's1', 'A', 'paid', '', 9000, NULL, '{"platform":"jd","shop":"s1","no":"A","status":"paid","total":10000,"paid":9000,`+
		`"lines":[{"sku":"x","qty":2,"price":1},{"sku":"y","qty":3,"price":1}],`+
		`"created_at":"2026-11-28T16:00:00.123456789Z","paid_at":"2026-11-28T16:00:00Z"}'),
		('jd', 's1', 'B', 'unpaid', '', 0, NULL, '{"platform":"jd","shop":"s1","no":"B","status":"unpaid","total":500,"paid":0,`+
		`"lines":[{"sku":"x","qty":1,"price":1}],"created_at":"2026-11-29T15:59:59.999999999Z"}'),
		('jd', 's1', 'C', 'paid', 'refunded', 100, NULL, '{"platform":"jd","shop":"s1","no":"C","status":"paid","refund":"refunded",`+
		`"total":0,"paid":100,"lines":null,"created_at":"0001-01-01T00:00:00Z","paid_at":"2026-11-29T15:59:59.999999Z"}')`)
	require.NoError(t, err)

	s, err := Open(ctx, dsn, Options{Migrate: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	day := time.Date(2026, 11, 29, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	got, err := s.OrderTotals(ctx, day, day.AddDate(0, 0, 1), kpi.Filter{})
	require.NoError(t, err)
	require.Equal(t, kpi.Totals{Paid: 2, PaidFen: 9100, Units: 5, Refunded: 1, RefundedFen: 100, Placed: 2, GMVFen: 10500}, got)
	got, err = s.OrderTotals(ctx, day.Add(time.Microsecond), day.Add(24*time.Hour-time.Microsecond), kpi.Filter{})
	require.NoError(t, err)
	require.Equal(t, kpi.Totals{Placed: 1, GMVFen: 10000}, got, "times are kept to the microsecond, cut not rounded")
}

// BenchmarkOrderTotals reads a day's totals among 1,000,000 orders
// spread over a year (about 2,700 a day), every platform and one of
// four: what a /kpi answer or a digest reads per window.
func BenchmarkOrderTotals(b *testing.B) {
	s := openTestStore(b, Options{})
	ctx := b.Context()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	_, err := s.pool.Exec(ctx, `INSERT INTO orders (platform, shop, no, status, refund, paid_fen, doc,
			created_at, paid_at, total_fen, units)
		SELECT (ARRAY['taobao','jd','pdd','douyin'])[1 + i % 4], 's' || (i % 10), 'N' || i, 'paid',
			CASE WHEN i % 20 = 0 THEN 'refunded' ELSE '' END, 1000 + i % 50000, '{}'::json,
			$1::timestamptz + make_interval(secs => i * 31.536) - interval '1 minute',
			$1::timestamptz + make_interval(secs => i * 31.536), 1200 + i % 50000, 1 + i % 3
		FROM generate_series(1, 1000000) AS i`, start)
	require.NoError(b, err)
	_, err = s.pool.Exec(ctx, `VACUUM ANALYZE orders`)
	require.NoError(b, err)
	for _, bc := range []struct {
		name   string
		filter kpi.Filter
	}{{name: "every platform"}, {name: "one platform", filter: kpi.Filter{Platform: "jd"}}} {
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				from := start.AddDate(0, 0, n%365)
				t, err := s.OrderTotals(ctx, from, from.AddDate(0, 0, 1), bc.filter)
				require.NoError(b, err)
				require.NotZero(b, t.Paid)
				n++
			}
		})
	}
}
