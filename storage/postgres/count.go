package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"cardflow/flows"
)

// CountInstances counts the instances in each status, for the console's
// dashboard; a status without instances is absent.
func (s *Store) CountInstances(ctx context.Context) (map[flows.InstanceStatus]int64, error) {
	rows, _ := s.pool.Query(ctx, `SELECT status, count(*) FROM instances GROUP BY status`)
	out := map[flows.InstanceStatus]int64{}
	var (
		status string
		n      int64
	)
	_, err := pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		out[flows.InstanceStatus(status)] = n
		return nil
	})
	if err != nil {
		return nil, fail(err, "count instances")
	}
	return out, nil
}
