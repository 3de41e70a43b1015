package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"cardflow/flows"
)

// OverdueTasks counts the open tasks past their due time at now and lists
// the first limit of them, the longest overdue first, for the console's
// dashboard.
func (s *Store) OverdueTasks(ctx context.Context, now time.Time, limit int) (int64, []flows.Task, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT count(*) FROM tasks WHERE status = 'open' AND due_at < $1`, now)
	b.Queue(`SELECT `+taskColumns+` FROM tasks WHERE status = 'open' AND due_at < $1 ORDER BY due_at, id LIMIT $2`,
		now, max(limit, 0))
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	var n int64
	if err := br.QueryRow().Scan(&n); err != nil {
		return 0, nil, fail(err, "count overdue tasks")
	}
	rows, _ := br.Query()
	list, err := pgx.CollectRows(rows, scanTask)
	if err != nil {
		return 0, nil, fail(err, "list overdue tasks")
	}
	return n, list, nil
}
