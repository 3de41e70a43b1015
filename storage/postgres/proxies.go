package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"cardflow/flows"
)

const proxyColumns = `id, user_id, by_user, from_at, until_at, flows, source`

// Proxies returns every leave proxy rule, ordered by from, then id.
func (s *Store) Proxies(ctx context.Context) ([]flows.Proxy, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+proxyColumns+` FROM proxies ORDER BY from_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: proxies: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (flows.Proxy, error) {
		var p flows.Proxy
		err := r.Scan(&p.ID, &p.User, &p.By, &p.From, &p.Until, &p.Flows, &p.Source)
		p.From, p.Until = p.From.UTC(), p.Until.UTC()
		if len(p.Flows) == 0 {
			p.Flows = nil
		}
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: proxies: %w", err)
	}
	return out, nil
}

// ReplaceProxies replaces the rules of one source in one transaction.
func (s *Store) ReplaceProxies(ctx context.Context, source string, rules []flows.Proxy) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM proxies WHERE source = $1`, source); err != nil {
			return fmt.Errorf("clear: %w", err)
		}
		for _, p := range rules {
			p.Source = source
			if err := putProxy(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: replace %s proxies: %w", source, err)
	}
	return nil
}

// PutProxy stores one rule, replacing one with the same id.
func (s *Store) PutProxy(ctx context.Context, p flows.Proxy) error {
	if err := putProxy(ctx, s.pool, p); err != nil {
		return fmt.Errorf("postgres: put proxy: %w", err)
	}
	return nil
}

// execer is what putProxy writes with: the pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func putProxy(ctx context.Context, db execer, p flows.Proxy) error {
	flowIDs := p.Flows
	if flowIDs == nil {
		flowIDs = []string{}
	}
	_, err := db.Exec(ctx, `INSERT INTO proxies (`+proxyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, by_user = EXCLUDED.by_user, from_at = EXCLUDED.from_at,
			until_at = EXCLUDED.until_at, flows = EXCLUDED.flows, source = EXCLUDED.source`,
		p.ID, p.User, p.By, p.From, p.Until, flowIDs, p.Source)
	if err != nil {
		return fmt.Errorf("insert proxy %s: %w", p.ID, err)
	}
	return nil
}

// DeleteProxy removes one rule; flows.ErrNotFound if there is none.
func (s *Store) DeleteProxy(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM proxies WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: delete proxy %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete proxy %s: %w", id, flows.ErrNotFound)
	}
	return nil
}
