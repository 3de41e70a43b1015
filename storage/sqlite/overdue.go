package sqlite

import (
	"context"
	"time"

	"cardflow/flows"
)

// OverdueTasks counts the open tasks past their due time at now and lists
// the first limit of them, the longest overdue first, for the console's
// dashboard.
func (s *Store) OverdueTasks(ctx context.Context, now time.Time, limit int) (int64, []flows.Task, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM tasks WHERE status = 'open' AND due_at < ?`,
		now.UnixMicro()).Scan(&n)
	if err != nil {
		return 0, nil, s.fail(err, "count overdue tasks")
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE status = 'open' AND due_at < ?
		ORDER BY due_at, id LIMIT ?`, now.UnixMicro(), max(limit, 0))
	if err != nil {
		return 0, nil, s.fail(err, "list overdue tasks")
	}
	list, err := collect(rows, scanTask)
	if err != nil {
		return 0, nil, s.fail(err, "list overdue tasks")
	}
	return n, list, nil
}
