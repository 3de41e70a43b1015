package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi"
	"cardflow/storage/sqlite"
)

// TestKPIMigrationFillsExistingOrders upgrades a database holding orders
// written before 00009 and finds them in the totals: their times, goods
// value and units come from their documents.
func TestKPIMigrationFillsExistingOrders(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cardflow.db")
	require.NoError(t, sqlite.MigrateTo(ctx, path, 8,
		`INSERT INTO orders (platform, shop, no, status, refund, paid_fen, updated_at, doc) VALUES
		('jd', 's1', 'A', 'paid', '', 9000, NULL, '{"platform":"jd","shop":"s1","no":"A","status":"paid","total":10000,"paid":9000,`+
			`"lines":[{"sku":"x","qty":2,"price":1},{"sku":"y","qty":3,"price":1}],`+
			`"created_at":"2026-11-28T16:00:00.123456789Z","paid_at":"2026-11-28T16:00:00Z"}'),
		('jd', 's1', 'B', 'unpaid', '', 0, NULL, '{"platform":"jd","shop":"s1","no":"B","status":"unpaid","total":500,"paid":0,`+
			`"lines":[{"sku":"x","qty":1,"price":1}],"created_at":"2026-11-29T15:59:59.999999999Z"}'),
		('jd', 's1', 'C', 'paid', 'refunded', 100, NULL, '{"platform":"jd","shop":"s1","no":"C","status":"paid","refund":"refunded",`+
			`"total":0,"paid":100,"lines":null,"created_at":"0001-01-01T00:00:00Z","paid_at":"2026-11-29T15:59:59.999999Z"}')`))
	s, err := sqlite.Open(ctx, path)
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
