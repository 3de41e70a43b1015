package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"cardflow/adapters/orders"
	"cardflow/storage/internal/orderdoc"
)

// Order events arriving together (a shop's burst of webhooks) are recorded
// in one transaction per group: one commit, hence one WAL flush, for up to
// maxIngestGroup events instead of one each. A group is what waits while
// the previous group of its worker commits, so a lone event goes at once
// and a burst batches by itself. Each caller is answered only after the
// group's COMMIT, so "202 once durably stored" holds for every event.
const (
	maxIngestGroup = 128
	ingestWorkers  = 2
	// ingestTimeout bounds one group's transaction, whatever the callers'
	// contexts (a caller that gives up is not waited for, nor aborts the
	// others).
	ingestTimeout = 30 * time.Second
)

// ingestReq is one IngestOrderEvent waiting for its group.
type ingestReq struct {
	source string
	p      orderdoc.Prepared
	done   chan ingestResult // buffered: the worker never blocks on it
}

type ingestResult struct {
	first bool
	order orders.Order
	err   error
}

// ingestGrouped records one prepared event through a group.
func (s *Store) ingestGrouped(ctx context.Context, source string, p orderdoc.Prepared) (bool, orders.Order, error) {
	r := &ingestReq{source: source, p: p, done: make(chan ingestResult, 1)}
	sent, err := s.ingests.Send(ctx, r)
	switch {
	case err != nil:
		return false, orders.Order{}, err
	case !sent:
		// Closed: alone, the event meets the closed pool's error.
		return s.ingestAlone(ctx, source, p)
	}
	select {
	case res := <-r.done:
		return res.first, res.order, res.err
	case <-ctx.Done():
		// The group may still commit the event: a retry finds it recorded.
		return false, orders.Order{}, ctx.Err()
	}
}

// ingestAlone records one event in a transaction of its own.
func (s *Store) ingestAlone(ctx context.Context, source string, p orderdoc.Prepared) (bool, orders.Order, error) {
	res, err := s.ingestGroup(ctx, []*ingestReq{{source: source, p: p}})
	if err != nil {
		return false, orders.Order{}, err
	}
	return res[0].first, res[0].order, res[0].err
}

// recordGroup records a group's events together and answers each.
func (s *Store) recordGroup(ctx context.Context, group []*ingestReq) {
	results, err := s.ingestGroup(ctx, group)
	if err != nil && len(group) > 1 {
		// One event can spoil a group (a constraint it breaks): each
		// goes alone, so the others are recorded.
		for i, r := range group {
			res, err := s.ingestGroup(ctx, []*ingestReq{r})
			results[i] = res[0]
			if err != nil {
				results[i].err = err
			}
		}
	} else if err != nil {
		results[0].err = err
	}
	for i, r := range group {
		r.done <- results[i]
	}
}

// orderKey names an order: its advisory lock's text.
func orderKey(o orders.Order) string { return o.Platform + "/" + o.Shop + "/" + o.No }

// sqlStoredOrders reads the orders stored under a list of keys and
// sqlRecordedEvents which of a list of events are recorded, one index scan
// per key (see the package comment).
const (
	sqlStoredOrders = `SELECT o.doc FROM unnest($1::text[], $2::text[], $3::text[]) AS k(platform, shop, no)
	CROSS JOIN LATERAL (SELECT doc FROM orders WHERE platform = k.platform AND shop = k.shop AND no = k.no OFFSET 0) AS o`
	sqlRecordedEvents = `SELECT k.source, k.event_id FROM unnest($1::text[], $2::text[]) AS k(source, event_id)
	CROSS JOIN LATERAL (SELECT FROM order_events WHERE source = k.source AND event_id = k.event_id OFFSET 0) AS e`
)

// ingestGroup records a group's events in one transaction of two
// pipelined batches, whatever the group's size:
//
//  1. lock the group's orders (advisory locks, in key order, so two groups
//     never deadlock), then read them and which of the group's events are
//     recorded already. Every writer of an order's events holds its lock,
//     so what the reads see is final until this transaction ends. Each key
//     is looked up by its own index scan (see the package comment);
//  2. in Go, merge the new events into their orders, in arrival order;
//  3. insert the new events with the order as it stood after each, and
//     upsert the changed orders, then COMMIT.
//
// A repeat (recorded before, or earlier in the group) is answered with its
// order as it stands after the group.
func (s *Store) ingestGroup(ctx context.Context, group []*ingestReq) ([]ingestResult, error) {
	results := make([]ingestResult, len(group))
	keys := map[string]orders.Order{}
	var srcs, ids []string
	for _, r := range group {
		keys[orderKey(r.p.Event.Order)] = r.p.Event.Order
		srcs, ids = append(srcs, r.source), append(ids, r.p.Event.ID)
	}
	sortedKeys := slices.Sorted(maps.Keys(keys))
	var plats, shops, nos []string
	for _, k := range sortedKeys {
		o := keys[k]
		plats, shops, nos = append(plats, o.Platform), append(shops, o.Shop), append(nos, o.No)
	}

	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return results, err
	}
	defer conn.Release()
	rollback := func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK") }

	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(`SELECT count(pg_advisory_xact_lock($1, hashtext(k))) FROM (SELECT k FROM unnest($2::text[]) AS u(k) ORDER BY k) AS l`,
		orderLockClass, sortedKeys)
	stored := map[string]*orders.Order{}
	b.Queue(sqlStoredOrders, plats, shops, nos).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var doc []byte
			if err := rows.Scan(&doc); err != nil {
				return err
			}
			o, err := orderdoc.DecodeOrder(doc)
			if err != nil {
				return err
			}
			stored[orderKey(o)] = &o
		}
		return rows.Err()
	})
	recorded := map[[2]string]bool{}
	b.Queue(sqlRecordedEvents, srcs, ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var src, id string
			if err := rows.Scan(&src, &id); err != nil {
				return err
			}
			recorded[[2]string{src, id}] = true
		}
		return rows.Err()
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		rollback()
		return results, fmt.Errorf("read: %w", err)
	}

	current := map[string]*orders.Order{}
	for k, o := range stored {
		current[k] = o
	}
	// changed holds each changed order's document as its last event left
	// it: what the order's row is written with.
	changed := map[string]string{}
	var ev struct {
		src, id, kind, plat, shop, no, doc, after []string
	}
	for i, r := range group {
		id := [2]string{r.source, r.p.Event.ID}
		if recorded[id] {
			continue
		}
		recorded[id] = true // a repeat later in the group
		key := orderKey(r.p.Event.Order)
		after, merged, err := orderdoc.EncodeOrder(orders.Merge(current[key], r.p.Event))
		if err != nil {
			rollback()
			return results, err
		}
		current[key], changed[key] = &merged, string(after)
		results[i] = ingestResult{first: true, order: merged}
		e, k := r.p.Event, r.p.Event.Order
		ev.src, ev.id, ev.kind = append(ev.src, r.source), append(ev.id, e.ID), append(ev.kind, string(e.Kind))
		ev.plat, ev.shop, ev.no = append(ev.plat, k.Platform), append(ev.shop, k.Shop), append(ev.no, k.No)
		ev.doc, ev.after = append(ev.doc, string(r.p.Doc)), append(ev.after, changed[key])
	}
	var ord struct {
		plat, shop, no, status, refund, doc []string
		paid, total, units                  []int64
		updated, created, paidAt            []pgtype.Timestamptz
	}
	for _, key := range sortedKeys {
		doc, ok := changed[key]
		if !ok {
			continue
		}
		o := *current[key]
		ord.plat, ord.shop, ord.no = append(ord.plat, o.Platform), append(ord.shop, o.Shop), append(ord.no, o.No)
		ord.status, ord.refund, ord.doc = append(ord.status, string(o.Status)), append(ord.refund, string(o.Refund)), append(ord.doc, doc)
		ord.paid, ord.total, ord.units = append(ord.paid, int64(o.Paid)), append(ord.total, int64(o.Total)), append(ord.units, orderdoc.Units(o))
		ord.updated, ord.created, ord.paidAt = append(ord.updated, tstz(o.UpdatedAt)), append(ord.created, tstz(o.CreatedAt)),
			append(ord.paidAt, tstz(o.PaidAt))
	}
	b = &pgx.Batch{}
	if len(ev.id) > 0 {
		b.Queue(`INSERT INTO order_events (source, event_id, kind, platform, shop, no, event, order_after, recorded_at)
			SELECT source, event_id, kind, platform, shop, no, event::json, order_after::json, now()
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
				AS e(source, event_id, kind, platform, shop, no, event, order_after)
			ON CONFLICT (source, event_id) DO NOTHING`,
			ev.src, ev.id, ev.kind, ev.plat, ev.shop, ev.no, ev.doc, ev.after)
		b.Queue(`INSERT INTO orders (platform, shop, no, status, refund, paid_fen, updated_at, doc, created_at, paid_at, total_fen, units)
			SELECT platform, shop, no, status, refund, paid_fen, updated_at, doc::json, created_at, paid_at, total_fen, units
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[], $8::text[],
				$9::timestamptz[], $10::timestamptz[], $11::bigint[], $12::bigint[])
				AS o(platform, shop, no, status, refund, paid_fen, updated_at, doc, created_at, paid_at, total_fen, units)
			ON CONFLICT (platform, shop, no) DO UPDATE SET status = excluded.status, refund = excluded.refund,
				paid_fen = excluded.paid_fen, updated_at = excluded.updated_at, doc = excluded.doc,
				created_at = excluded.created_at, paid_at = excluded.paid_at, total_fen = excluded.total_fen,
				units = excluded.units`,
			ord.plat, ord.shop, ord.no, ord.status, ord.refund, ord.paid, ord.updated, ord.doc, ord.created, ord.paidAt,
			ord.total, ord.units)
	}
	b.Queue("COMMIT")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		rollback()
		return results, fmt.Errorf("write: %w", err)
	}
	for i, r := range group {
		if !results[i].first {
			if o := current[orderKey(r.p.Event.Order)]; o != nil {
				results[i] = ingestResult{order: *o}
			}
		}
	}
	return results, nil
}

// tstz is t as a nullable timestamptz: NULL when zero.
func tstz(t time.Time) pgtype.Timestamptz { return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()} }
