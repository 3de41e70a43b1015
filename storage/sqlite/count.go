package sqlite

import (
	"context"

	"cardflow/flows"
)

// CountInstances counts the instances in each status, for the console's
// dashboard; a status without instances is absent.
func (s *Store) CountInstances(ctx context.Context) (map[flows.InstanceStatus]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT status, count(*) FROM instances GROUP BY status`)
	if err != nil {
		return nil, s.fail(err, "count instances")
	}
	defer rows.Close()
	out := map[flows.InstanceStatus]int64{}
	for rows.Next() {
		var (
			status string
			n      int64
		)
		if err := rows.Scan(&status, &n); err != nil {
			return nil, s.fail(err, "count instances")
		}
		out[flows.InstanceStatus(status)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err, "count instances")
	}
	return out, nil
}
