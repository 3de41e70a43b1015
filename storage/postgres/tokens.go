package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"cardflow/server/apitoken"
)

var _ apitoken.Store = (*Store)(nil)

const tokenColumns = `id, name, scope, secret_hash, created_at, created_by, last_used_at, expires_at, revoked_at`

// CreateAPIToken stores t; apitoken.ErrDuplicate if its id is taken.
func (s *Store) CreateAPIToken(ctx context.Context, t apitoken.Token) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO api_tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.ID, t.Name, string(t.Scope), t.Hash, t.CreatedAt, t.CreatedBy,
		nullTime(t.LastUsedAt), nullTime(t.ExpiresAt), nullTime(t.RevokedAt))
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == codeUniqueViol {
		err = apitoken.ErrDuplicate
	}
	if err != nil {
		return fail(err, "create api token %s", t.ID)
	}
	return nil
}

// APIToken returns the token with id; apitoken.ErrNotFound if there is none.
func (s *Store) APIToken(ctx context.Context, id string) (apitoken.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = apitoken.ErrNotFound
	}
	if err != nil {
		return apitoken.Token{}, fail(err, "api token %s", id)
	}
	return t, nil
}

// APITokens returns every token, by creation time, then id.
func (s *Store) APITokens(ctx context.Context) ([]apitoken.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fail(err, "api tokens")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (apitoken.Token, error) { return scanToken(r) })
	if err != nil {
		return nil, fail(err, "api tokens")
	}
	return out, nil
}

// RevokeAPIToken sets the token's revocation time unless it has one, and
// returns the token as stored.
func (s *Store) RevokeAPIToken(ctx context.Context, id string, at time.Time) (apitoken.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $2)
		WHERE id = $1 RETURNING `+tokenColumns, id, at))
	if errors.Is(err, pgx.ErrNoRows) {
		err = apitoken.ErrNotFound
	}
	if err != nil {
		return apitoken.Token{}, fail(err, "revoke api token %s", id)
	}
	return t, nil
}

// TouchAPIToken sets the token's last use to at unless one was recorded
// less than every before at. The condition is in the UPDATE, so instances
// racing on one token write once.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time, every time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $2
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`, id, at, at.Add(-every))
	if err != nil {
		return false, fail(err, "touch api token %s", id)
	}
	return tag.RowsAffected() > 0, nil
}

// scanToken reads one row of tokenColumns, times in UTC and NULL as zero.
func scanToken(row pgx.Row) (apitoken.Token, error) {
	var t apitoken.Token
	var scope string
	var lastUsed, expires, revoked *time.Time
	err := row.Scan(&t.ID, &t.Name, &scope, &t.Hash, &t.CreatedAt, &t.CreatedBy, &lastUsed, &expires, &revoked)
	t.Scope = apitoken.Scope(scope)
	t.CreatedAt = t.CreatedAt.UTC()
	t.LastUsedAt, t.ExpiresAt, t.RevokedAt = utcOrZero(lastUsed), utcOrZero(expires), utcOrZero(revoked)
	return t, err
}

func utcOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
