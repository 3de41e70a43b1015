package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestHotStatementsUseIndexes: the statements that look a group's keys up,
// and the timers' claim, run on indexes even in the plan PostgreSQL caches
// for a prepared statement first run on empty, never analysed tables
// (forced here with plan_cache_mode): a join of the table with unnest, or
// with a CTE, is planned there as a hash join over a sequential scan, kept
// as the table grows.
func TestHotStatementsUseIndexes(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, Options{})
	conn, err := s.pool.Acquire(t.Context())
	require.NoError(t, err)
	defer conn.Release()
	c := conn.Conn()
	_, err = c.Exec(t.Context(), "SET plan_cache_mode = force_generic_plan")
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = c.Exec(t.Context(), "RESET plan_cache_mode") })
	for name, q := range map[string]struct{ sql, args string }{
		"cards":     {sqlCards, `'{feishu}', '{u_qian}', '{i-1.t0001}'`},
		"orders":    {sqlStoredOrders, `'{taobao}', '{云栖旗舰店}', '{1001}'`},
		"recorded":  {sqlRecordedEvents, `'{tmall-main}', '{e-1}'`},
		"timers":    {sqlClaimTimers, `'2026-12-01 09:00:00+00', 'server-1', '2026-12-01 09:00:30+00', 100`},
		"cancel":    {sqlCancelTimer, `'i-1.t0001/sla'`},
		"instances": {sqlInstances, `'{i-1}'`},
		"mark":      {sqlMarkOutboxSent, `'{1024,1025,2048}', 10, 1023`},
	} {
		_, err := c.Exec(t.Context(), "PREPARE lookup_"+name+" AS "+q.sql, pgx.QueryExecModeSimpleProtocol)
		require.NoError(t, err, name)
		rows, err := c.Query(t.Context(), "EXPLAIN EXECUTE lookup_"+name+"("+q.args+")", pgx.QueryExecModeSimpleProtocol)
		require.NoError(t, err, name)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err, name)
		plan := strings.Join(lines, "\n")
		require.Contains(t, plan, "Index", "%s:\n%s", name, plan)
		require.NotContains(t, plan, "Seq Scan", "%s:\n%s", name, plan)
		require.NotRegexp(t, `Hash (\w+ )?Join`, plan, "%s:\n%s", name, plan)
	}
}
