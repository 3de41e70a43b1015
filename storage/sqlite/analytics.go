package sqlite

import (
	"context"

	"cardflow/flows"
)

// InstanceCounts counts the instances created in [p.From, p.To) per flow
// and status, with the tasks returned in them (flows.AnalyticsReader).
func (s *Store) InstanceCounts(ctx context.Context, p flows.AnalyticsParams) ([]flows.InstanceCount, error) {
	var w where
	w.timeRange("i.created_at", p.From, p.To)
	w.eq("i.flow_id", p.FlowID)
	q := `SELECT i.flow_id, i.status, count(*),
		coalesce(sum((SELECT count(*) FROM tasks t WHERE t.instance_id = i.id AND t.status = 'returned')), 0)
		FROM instances i` + w.sql() + ` GROUP BY i.flow_id, i.status ORDER BY i.flow_id, i.status`
	rows, err := s.read.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, s.fail(err, "count instances")
	}
	defer rows.Close()
	var out []flows.InstanceCount
	for rows.Next() {
		var c flows.InstanceCount
		if err := rows.Scan(&c.FlowID, &c.Status, &c.Count, &c.Returns); err != nil {
			return nil, s.fail(err, "count instances")
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err, "count instances")
	}
	return out, nil
}

// AnalyticsTasks streams the period's decided tasks and the tasks open
// before its end to each (flows.AnalyticsReader), each half through its
// own index (00015).
func (s *Store) AnalyticsTasks(ctx context.Context, p flows.AnalyticsParams, each func(flows.AnalyticsTask) error) error {
	from, to := ceilMicro(p.From), ceilMicro(p.To)
	flow, decidedArgs, openArgs := "", []any{from, to, flows.TaskKindResubmit, flows.SystemActor}, []any{to, flows.TaskKindResubmit}
	if p.FlowID != "" {
		flow = ` AND i.flow_id = ?`
		decidedArgs, openArgs = append(decidedArgs, p.FlowID), append(openArgs, p.FlowID)
	}
	const cols = `SELECT i.flow_id, t.step_id, t.assignee, t.status, t.created_at, t.due_at, t.decided_at
		FROM tasks t JOIN instances i ON i.id = t.instance_id`
	q := cols + ` WHERE t.decided_at >= ? AND t.decided_at < ?
			AND t.status IN ('approved', 'rejected', 'returned', 'done') AND t.kind <> ?
			AND NOT (t.decided_by = ? AND t.decided_at = t.created_at)` + flow + `
		UNION ALL ` + cols + ` WHERE t.status = 'open' AND t.created_at < ? AND t.kind <> ?` + flow
	rows, err := s.read.QueryContext(ctx, q, append(decidedArgs, openArgs...)...)
	if err != nil {
		return s.fail(err, "read analytics tasks")
	}
	defer rows.Close()
	for rows.Next() {
		var t flows.AnalyticsTask
		if err := rows.Scan(&t.FlowID, &t.StepID, &t.Assignee, &t.Status, microTime{&t.CreatedAt},
			microTime{&t.DueAt}, microTime{&t.DecidedAt}); err != nil {
			return s.fail(err, "read analytics tasks")
		}
		if err := each(t); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.fail(err, "read analytics tasks")
	}
	return nil
}
