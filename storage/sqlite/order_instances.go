package sqlite

import (
	"context"
	"fmt"

	"cardflow/adapters/orders"
	"cardflow/storage/internal/orderdoc"
)

// LinkOrderInstance records that the instance was started for the order,
// unless that was recorded before (see orders.Store).
func (s *Store) LinkOrderInstance(ctx context.Context, l orders.InstanceLink) error {
	if err := orders.CheckLink(l); err != nil {
		return fmt.Errorf("sqlite: link order instance: %w", err)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO order_instances (platform, shop, no, instance_id, flow_id, started_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		l.Platform, l.Shop, l.No, l.InstanceID, l.FlowID, l.StartedAt.UnixMicro())
	if err != nil {
		return s.fail(err, "link order %s/%s/%s to instance %s", l.Platform, l.Shop, l.No, l.InstanceID)
	}
	return nil
}

// OrderInstances returns up to limit links of the order, latest started
// first, ties by instance id in byte order.
func (s *Store) OrderInstances(ctx context.Context, platform, shop, no string, limit int) ([]orders.InstanceLink, error) {
	if limit <= 0 || !orderdoc.Storable(platform, shop, no) {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT instance_id, flow_id, started_at FROM order_instances
		WHERE platform = ? AND shop = ? AND no = ? ORDER BY started_at DESC, instance_id LIMIT ?`,
		platform, shop, no, limit)
	if err != nil {
		return nil, s.fail(err, "instances of order %s/%s/%s", platform, shop, no)
	}
	list, err := collect(rows, func(r scanner) (orders.InstanceLink, error) {
		l := orders.InstanceLink{Platform: platform, Shop: shop, No: no}
		err := r.Scan(&l.InstanceID, &l.FlowID, microTime{&l.StartedAt})
		return l, err
	})
	if err != nil {
		return nil, s.fail(err, "instances of order %s/%s/%s", platform, shop, no)
	}
	return list, nil
}
