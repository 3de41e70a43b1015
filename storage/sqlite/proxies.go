package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"cardflow/flows"
)

const proxyColumns = `id, user_id, by_user, from_at, until_at, flows, source`

// Proxies returns every leave proxy rule, ordered by from, then id.
func (s *Store) Proxies(ctx context.Context) ([]flows.Proxy, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+proxyColumns+` FROM proxies ORDER BY from_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: proxies: %w", err)
	}
	defer rows.Close()
	var out []flows.Proxy
	for rows.Next() {
		var p flows.Proxy
		var list string
		if err := rows.Scan(&p.ID, &p.User, &p.By, microTime{&p.From}, microTime{&p.Until}, &list, &p.Source); err != nil {
			return nil, fmt.Errorf("sqlite: proxies: %w", err)
		}
		if err := json.Unmarshal([]byte(list), &p.Flows); err != nil {
			return nil, fmt.Errorf("sqlite: proxies: flows of %s: %w", p.ID, err)
		}
		if len(p.Flows) == 0 {
			p.Flows = nil
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: proxies: %w", err)
	}
	return out, nil
}

// ReplaceProxies replaces the rules of one source in one transaction.
func (s *Store) ReplaceProxies(ctx context.Context, source string, rules []flows.Proxy) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM proxies WHERE source = ?`, source); err != nil {
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
		return fmt.Errorf("sqlite: replace %s proxies: %w", source, err)
	}
	return nil
}

// PutProxy stores one rule, replacing one with the same id.
func (s *Store) PutProxy(ctx context.Context, p flows.Proxy) error {
	if err := s.inTx(ctx, func(tx *sql.Tx) error { return putProxy(ctx, tx, p) }); err != nil {
		return fmt.Errorf("sqlite: put proxy: %w", err)
	}
	return nil
}

func putProxy(ctx context.Context, tx *sql.Tx, p flows.Proxy) error {
	list, err := json.Marshal(nonNil(p.Flows))
	if err != nil {
		return fmt.Errorf("encode flows of proxy %s: %w", p.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO proxies (`+proxyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.User, p.By, timeArg(p.From), timeArg(p.Until), string(list), p.Source); err != nil {
		return fmt.Errorf("insert proxy %s: %w", p.ID, err)
	}
	return nil
}

// DeleteProxy removes one rule; flows.ErrNotFound if there is none.
func (s *Store) DeleteProxy(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM proxies WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("proxy %s: %w", id, flows.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, flows.ErrNotFound) {
			return fmt.Errorf("sqlite: delete %w", err)
		}
		return fmt.Errorf("sqlite: delete proxy %s: %w", id, err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
