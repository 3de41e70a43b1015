package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"cardflow/adapters/orders"
	"cardflow/storage/internal/orderdoc"
)

// LinkOrderInstance records that the instance was started for the order,
// unless that was recorded before (see orders.Store).
func (s *Store) LinkOrderInstance(ctx context.Context, l orders.InstanceLink) error {
	if err := orders.CheckLink(l); err != nil {
		return fmt.Errorf("postgres: link order instance: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO order_instances (platform, shop, no, instance_id, flow_id, started_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		l.Platform, l.Shop, l.No, l.InstanceID, l.FlowID, l.StartedAt)
	if err != nil {
		return fail(err, "link order %s/%s/%s to instance %s", l.Platform, l.Shop, l.No, l.InstanceID)
	}
	return nil
}

// OrderInstances returns up to limit links of the order, latest started
// first, ties by instance id in byte order.
func (s *Store) OrderInstances(ctx context.Context, platform, shop, no string, limit int) ([]orders.InstanceLink, error) {
	if limit <= 0 || !orderdoc.Storable(platform, shop, no) {
		return nil, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT instance_id, flow_id, started_at FROM order_instances
		WHERE platform = $1 AND shop = $2 AND no = $3
		ORDER BY started_at DESC, instance_id COLLATE "C" LIMIT $4`, platform, shop, no, limit)
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (orders.InstanceLink, error) {
		l := orders.InstanceLink{Platform: platform, Shop: shop, No: no}
		err := row.Scan(&l.InstanceID, &l.FlowID, &l.StartedAt)
		l.StartedAt = l.StartedAt.UTC()
		return l, err
	})
	if err != nil {
		return nil, fail(err, "instances of order %s/%s/%s", platform, shop, no)
	}
	return list, nil
}
