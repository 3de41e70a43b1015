package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"cardflow/adapters/stock"
)

var _ stock.PushStore = (*Store)(nil)

// upsertPushes marks the SKU changed for every registered target, inside
// the movement's write transaction: the version goes up, the sellable sum
// over warehouses is rewritten, and a row not in backoff is due now.
func upsertPushes(ctx context.Context, tx *sql.Tx, sku string, now time.Time) error {
	at := now.UnixMicro()
	if _, err := tx.ExecContext(ctx, `INSERT INTO stock_pushes (target, sku, sellable, version, changed_at, next_at)
		SELECT name, ?1, (SELECT COALESCE(sum(on_hand - reserved), 0) FROM stock_levels WHERE sku = ?1), 1, ?2, ?2
		FROM stock_push_targets WHERE true
		ON CONFLICT (target, sku) DO UPDATE SET version = version + 1, sellable = excluded.sellable,
			changed_at = excluded.changed_at,
			next_at = CASE WHEN attempts = 0 THEN min(next_at, excluded.next_at) ELSE next_at END`,
		sku, at); err != nil {
		return fmt.Errorf("upsert the stock pushes: %w", err)
	}
	return nil
}

// RegisterPushTargets records the targets; a new one gets a row for every
// SKU of the ledger, in the same write transaction.
func (s *Store) RegisterPushTargets(ctx context.Context, targets []string) error {
	list, err := json.Marshal(targets)
	if err != nil {
		return fmt.Errorf("sqlite: register stock push targets: %w", err)
	}
	at := s.now().UnixMicro()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO stock_pushes (target, sku, sellable, version, changed_at, next_at)
			SELECT t.value, l.sku, l.sellable, 1, ?2, ?2
			FROM json_each(?1) AS t,
				(SELECT sku, sum(on_hand - reserved) AS sellable FROM stock_levels GROUP BY sku) AS l
			WHERE t.value NOT IN (SELECT name FROM stock_push_targets)
			ON CONFLICT (target, sku) DO NOTHING`, string(list), at); err != nil {
			return fmt.Errorf("seed the pushes: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stock_push_targets (name) SELECT value FROM json_each(?)
			WHERE true ON CONFLICT (name) DO NOTHING`, string(list)); err != nil {
			return fmt.Errorf("insert the targets: %w", err)
		}
		return nil
	})
	if err != nil {
		return s.fail(err, "register stock push targets")
	}
	return nil
}

// ClaimPushes leases due rows; the one write connection makes the select
// and the lease one step.
func (s *Store) ClaimPushes(ctx context.Context, p stock.ClaimPushParams) ([]stock.Push, error) {
	var out []stock.Push
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT sku, sellable, version, changed_at, attempts FROM stock_pushes
			WHERE target = ? AND version > pushed AND next_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
			ORDER BY next_at, sku LIMIT ?`, p.Target, p.Now.UnixMicro(), p.Now.UnixMicro(), p.Limit)
		if err != nil {
			return err
		}
		out, err = collect(rows, func(r scanner) (stock.Push, error) {
			x := stock.Push{Target: p.Target}
			err := r.Scan(&x.SKU, &x.Sellable, &x.Version, microTime{&x.ChangedAt}, &x.Attempts)
			return x, err
		})
		if err != nil {
			return err
		}
		for _, x := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE stock_pushes SET lease_token = ?, lease_until = ?
				WHERE target = ? AND sku = ?`, p.Token, p.Now.Add(p.Lease).UnixMicro(), p.Target, x.SKU); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(err, "claim stock pushes of %s", p.Target)
	}
	return out, nil
}

// CompletePush records the delivered version; the lease is released only
// if it is still the caller's.
func (s *Store) CompletePush(ctx context.Context, p stock.CompletePushParams) (bool, error) {
	var pending bool
	err := s.write.QueryRowContext(ctx, `UPDATE stock_pushes SET pushed = max(pushed, ?3), attempts = 0,
			next_at = CASE WHEN version > max(pushed, ?3) THEN ?5 ELSE next_at END,
			lease_token = CASE WHEN lease_token = ?4 THEN NULL ELSE lease_token END,
			lease_until = CASE WHEN lease_token = ?4 THEN NULL ELSE lease_until END
		WHERE target = ?1 AND sku = ?2 RETURNING version > pushed`,
		p.Target, p.SKU, p.Version, p.Token, p.Now.UnixMicro()).Scan(&pending)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("sqlite: complete stock push %s/%s: no such push", p.Target, p.SKU)
	}
	if err != nil {
		return false, s.fail(err, "complete stock push %s/%s", p.Target, p.SKU)
	}
	return pending, nil
}

// RetryPush puts a row back if the caller's lease still holds it.
func (s *Store) RetryPush(ctx context.Context, p stock.RetryPushParams) error {
	if _, err := s.write.ExecContext(ctx, `UPDATE stock_pushes SET attempts = ?, next_at = ?, lease_token = NULL,
			lease_until = NULL WHERE target = ? AND sku = ? AND lease_token = ?`,
		p.Attempts, p.NextAt.UnixMicro(), p.Target, p.SKU, p.Token); err != nil {
		return s.fail(err, "retry stock push %s/%s", p.Target, p.SKU)
	}
	return nil
}

// PushTargetFailed counts one failure of the target.
func (s *Store) PushTargetFailed(ctx context.Context, target string, now time.Time) (stock.PushOutage, error) {
	var o stock.PushOutage
	err := s.write.QueryRowContext(ctx, `INSERT INTO stock_push_targets (name, failures, since) VALUES (?1, 1, ?2)
		ON CONFLICT (name) DO UPDATE SET failures = failures + 1, since = COALESCE(since, ?2)
		RETURNING failures, since`, target, now.UnixMicro()).Scan(&o.Failures, microTime{&o.Since})
	if err != nil {
		return stock.PushOutage{}, s.fail(err, "count a failed stock push to %s", target)
	}
	return o, nil
}

// PushTargetRecovered ends the target's outage, returning it as it was.
func (s *Store) PushTargetRecovered(ctx context.Context, target string) (stock.PushOutage, error) {
	var o stock.PushOutage
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT failures, since FROM stock_push_targets WHERE name = ? AND failures > 0`,
			target).Scan(&o.Failures, microTime{&o.Since})
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE stock_push_targets SET failures = 0, since = NULL WHERE name = ?`, target)
		return err
	})
	if err != nil {
		return stock.PushOutage{}, s.fail(err, "end the stock push outage of %s", target)
	}
	return o, nil
}
