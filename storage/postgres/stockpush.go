package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"cardflow/adapters/stock"
)

var _ stock.PushStore = (*Store)(nil)

// upsertPushes marks the SKU changed for every registered target, inside
// the movement's transaction: the version goes up, and a row not in
// backoff is due now. The sellable sum is read by a second statement,
// after the first has locked the SKU's push rows: a concurrent movement
// of the SKU in another warehouse either committed before (and the
// statement's fresh snapshot sees it) or waits for this one and sums
// after it. No target registered, nothing is written.
func upsertPushes(ctx context.Context, tx pgx.Tx, sku string) error {
	tag, err := tx.Exec(ctx, `INSERT INTO stock_pushes (target, sku, sellable, version, changed_at, next_at)
		SELECT name, $1, 0, 1, now(), now() FROM stock_push_targets ORDER BY name
		ON CONFLICT (target, sku) DO UPDATE SET version = stock_pushes.version + 1, changed_at = now(),
			next_at = CASE WHEN stock_pushes.attempts = 0 THEN LEAST(stock_pushes.next_at, now())
				ELSE stock_pushes.next_at END`, sku)
	if err != nil {
		return fmt.Errorf("upsert the stock pushes: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE stock_pushes SET sellable =
			(SELECT COALESCE(sum(on_hand - reserved), 0) FROM stock_levels WHERE sku = $1)
		WHERE sku = $1`, sku); err != nil {
		return fmt.Errorf("sum the sellable stock: %w", err)
	}
	return nil
}

// RegisterPushTargets records the targets. New ones are inserted while
// stock_levels is locked in SHARE mode (movements wait, briefly, once per
// new target): every movement committed before is in the seed of their
// rows, and every movement after sees the target.
func (s *Store) RegisterPushTargets(ctx context.Context, targets []string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT name FROM stock_push_targets WHERE name = ANY($1)`, targets)
		known, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("read the targets: %w", err)
		}
		var fresh []string
		for _, t := range targets {
			if !slices.Contains(known, t) && !slices.Contains(fresh, t) {
				fresh = append(fresh, t)
			}
		}
		if len(fresh) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE stock_levels IN SHARE MODE`); err != nil {
			return fmt.Errorf("lock the ledger: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO stock_push_targets (name) SELECT unnest($1::text[])
			ON CONFLICT (name) DO NOTHING`, fresh); err != nil {
			return fmt.Errorf("insert the targets: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO stock_pushes (target, sku, sellable, version, changed_at, next_at)
			SELECT t, l.sku, l.sellable, 1, now(), now()
			FROM unnest($1::text[]) AS t,
				(SELECT sku, sum(on_hand - reserved) AS sellable FROM stock_levels GROUP BY sku) AS l
			ON CONFLICT (target, sku) DO NOTHING`, fresh); err != nil {
			return fmt.Errorf("seed the pushes: %w", err)
		}
		return nil
	})
	if err != nil {
		return fail(err, "register stock push targets")
	}
	return nil
}

// ClaimPushes leases due rows with FOR UPDATE SKIP LOCKED, so concurrent
// claims of several instances never take one row twice; the lease keeps it
// theirs after the statement's lock is gone.
func (s *Store) ClaimPushes(ctx context.Context, p stock.ClaimPushParams) ([]stock.Push, error) {
	rows, _ := s.pool.Query(ctx, `UPDATE stock_pushes AS p SET lease_token = $2, lease_until = $4
		FROM (SELECT target, sku FROM stock_pushes
			WHERE target = $1 AND version > pushed AND next_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
			ORDER BY next_at, sku LIMIT $5 FOR UPDATE SKIP LOCKED) AS c
		WHERE p.target = c.target AND p.sku = c.sku
		RETURNING p.sku, p.sellable, p.version, p.changed_at, p.attempts, p.next_at`,
		p.Target, p.Token, p.Now, p.Now.Add(p.Lease), p.Limit)
	type claimed struct {
		push stock.Push
		next time.Time
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (claimed, error) {
		c := claimed{push: stock.Push{Target: p.Target}}
		err := row.Scan(&c.push.SKU, &c.push.Sellable, &c.push.Version, &c.push.ChangedAt, &c.push.Attempts, &c.next)
		c.push.ChangedAt = c.push.ChangedAt.UTC()
		return c, err
	})
	if err != nil {
		return nil, fail(err, "claim stock pushes of %s", p.Target)
	}
	// RETURNING keeps no order: the longest due first, as claimed.
	out := make([]stock.Push, len(list))
	slices.SortFunc(list, func(a, b claimed) int {
		if c := a.next.Compare(b.next); c != 0 {
			return c
		}
		return strings.Compare(a.push.SKU, b.push.SKU)
	})
	for i, c := range list {
		out[i] = c.push
	}
	return out, nil
}

// CompletePush records the delivered version; the lease is released only
// if it is still the caller's.
func (s *Store) CompletePush(ctx context.Context, p stock.CompletePushParams) (bool, error) {
	var pending bool
	err := s.pool.QueryRow(ctx, `UPDATE stock_pushes SET pushed = GREATEST(pushed, $3), attempts = 0,
			next_at = CASE WHEN version > GREATEST(pushed, $3) THEN $5 ELSE next_at END,
			lease_token = CASE WHEN lease_token = $4 THEN NULL ELSE lease_token END,
			lease_until = CASE WHEN lease_token = $4 THEN NULL ELSE lease_until END
		WHERE target = $1 AND sku = $2 RETURNING version > pushed`,
		p.Target, p.SKU, p.Version, p.Token, p.Now).Scan(&pending)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("postgres: complete stock push %s/%s: no such push", p.Target, p.SKU)
	}
	if err != nil {
		return false, fail(err, "complete stock push %s/%s", p.Target, p.SKU)
	}
	return pending, nil
}

// RetryPush puts a row back if the caller's lease still holds it.
func (s *Store) RetryPush(ctx context.Context, p stock.RetryPushParams) error {
	if _, err := s.pool.Exec(ctx, `UPDATE stock_pushes SET attempts = $4, next_at = $5, lease_token = NULL,
			lease_until = NULL WHERE target = $1 AND sku = $2 AND lease_token = $3`,
		p.Target, p.SKU, p.Token, p.Attempts, p.NextAt); err != nil {
		return fail(err, "retry stock push %s/%s", p.Target, p.SKU)
	}
	return nil
}

// PushTargetFailed counts one failure of the target.
func (s *Store) PushTargetFailed(ctx context.Context, target string, now time.Time) (stock.PushOutage, error) {
	var o stock.PushOutage
	err := s.pool.QueryRow(ctx, `INSERT INTO stock_push_targets AS t (name, failures, since) VALUES ($1, 1, $2)
		ON CONFLICT (name) DO UPDATE SET failures = t.failures + 1, since = COALESCE(t.since, $2)
		RETURNING failures, since`, target, now).Scan(&o.Failures, &o.Since)
	if err != nil {
		return stock.PushOutage{}, fail(err, "count a failed stock push to %s", target)
	}
	o.Since = o.Since.UTC()
	return o, nil
}

// PushTargetRecovered ends the target's outage, returning it as it was.
func (s *Store) PushTargetRecovered(ctx context.Context, target string) (stock.PushOutage, error) {
	var o stock.PushOutage
	var since *time.Time
	err := s.pool.QueryRow(ctx, `WITH old AS (
			SELECT name, failures, since FROM stock_push_targets WHERE name = $1 AND failures > 0 FOR UPDATE)
		UPDATE stock_push_targets AS t SET failures = 0, since = NULL FROM old WHERE t.name = old.name
		RETURNING old.failures, old.since`, target).Scan(&o.Failures, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		return stock.PushOutage{}, nil
	}
	if err != nil {
		return stock.PushOutage{}, fail(err, "end the stock push outage of %s", target)
	}
	if since != nil {
		o.Since = since.UTC()
	}
	return o, nil
}
