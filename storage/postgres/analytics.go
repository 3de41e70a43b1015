package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"cardflow/flows"
)

// InstanceCounts counts the instances created in [p.From, p.To) per flow
// and status, with the tasks returned in them (flows.AnalyticsReader).
func (s *Store) InstanceCounts(ctx context.Context, p flows.AnalyticsParams) ([]flows.InstanceCount, error) {
	var w where
	w.timeRange("i.created_at", p.From, p.To)
	w.eq("i.flow_id", p.FlowID)
	q := `SELECT i.flow_id, i.status, count(*),
		coalesce(sum((SELECT count(*) FROM tasks t WHERE t.instance_id = i.id AND t.status = 'returned')), 0)::bigint
		FROM instances i` + w.sql() + ` GROUP BY i.flow_id, i.status ORDER BY i.flow_id, i.status`
	rows, err := s.pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, fail(err, "count instances")
	}
	defer rows.Close()
	var out []flows.InstanceCount
	for rows.Next() {
		var c flows.InstanceCount
		if err := rows.Scan(&c.FlowID, &c.Status, &c.Count, &c.Returns); err != nil {
			return nil, fail(err, "count instances")
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(err, "count instances")
	}
	return out, nil
}

// AnalyticsTasks streams the period's decided tasks and the tasks open
// before its end to each (flows.AnalyticsReader). The two halves are read
// through their own indexes (00015): tasks_decided and tasks_open.
func (s *Store) AnalyticsTasks(ctx context.Context, p flows.AnalyticsParams, each func(flows.AnalyticsTask) error) error {
	args := []any{ceilMicro(p.From), ceilMicro(p.To), flows.TaskKindResubmit, flows.SystemActor}
	flow := ""
	if p.FlowID != "" {
		args = append(args, p.FlowID)
		flow = ` AND i.flow_id = $5`
	}
	const cols = `SELECT i.flow_id, t.step_id, t.assignee, t.status, t.created_at, t.due_at, t.decided_at
		FROM tasks t JOIN instances i ON i.id = t.instance_id`
	q := cols + ` WHERE t.decided_at >= $1 AND t.decided_at < $2
			AND t.status IN ('approved', 'rejected', 'returned', 'done') AND t.kind <> $3
			AND NOT (t.decided_by = $4 AND t.decided_at = t.created_at)` + flow + `
		UNION ALL ` + cols + ` WHERE t.status = 'open' AND t.created_at < $2 AND t.kind <> $3` + flow
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return fail(err, "read analytics tasks")
	}
	defer rows.Close()
	for rows.Next() {
		var t flows.AnalyticsTask
		var due, decided pgtype.Timestamptz
		if err := rows.Scan(&t.FlowID, &t.StepID, &t.Assignee, &t.Status, &t.CreatedAt, &due, &decided); err != nil {
			return fail(err, "read analytics tasks")
		}
		t.DueAt, t.DecidedAt = timeOrZero(due), timeOrZero(decided)
		if err := each(t); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err, "read analytics tasks")
	}
	return nil
}
