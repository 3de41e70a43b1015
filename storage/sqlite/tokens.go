package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"cardflow/server/apitoken"
)

var _ apitoken.Store = (*Store)(nil)

const tokenColumns = `id, name, scope, secret_hash, created_at, created_by, last_used_at, expires_at, revoked_at`

// CreateAPIToken stores t; apitoken.ErrDuplicate if its id is taken.
func (s *Store) CreateAPIToken(ctx context.Context, t apitoken.Token) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, string(t.Scope), t.Hash, timeArg(t.CreatedAt), t.CreatedBy,
		timeArg(t.LastUsedAt), timeArg(t.ExpiresAt), timeArg(t.RevokedAt))
	if se, ok := errors.AsType[*msqlite.Error](err); ok && se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		err = apitoken.ErrDuplicate
	}
	if err != nil {
		return s.fail(err, "create api token %s", t.ID)
	}
	return nil
}

// APIToken returns the token with id; apitoken.ErrNotFound if there is none.
func (s *Store) APIToken(ctx context.Context, id string) (apitoken.Token, error) {
	t, err := scanToken(s.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = apitoken.ErrNotFound
	}
	if err != nil {
		return apitoken.Token{}, s.fail(err, "api token %s", id)
	}
	return t, nil
}

// APITokens returns every token, by creation time, then id.
func (s *Store) APITokens(ctx context.Context) ([]apitoken.Token, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, s.fail(err, "api tokens")
	}
	defer rows.Close()
	var out []apitoken.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, s.fail(err, "api tokens")
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err, "api tokens")
	}
	return out, nil
}

// RevokeAPIToken sets the token's revocation time unless it has one, and
// returns the token as stored.
func (s *Store) RevokeAPIToken(ctx context.Context, id string, at time.Time) (apitoken.Token, error) {
	t, err := scanToken(s.write.QueryRowContext(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?)
		WHERE id = ? RETURNING `+tokenColumns, timeArg(at), id))
	if errors.Is(err, sql.ErrNoRows) {
		err = apitoken.ErrNotFound
	}
	if err != nil {
		return apitoken.Token{}, s.fail(err, "revoke api token %s", id)
	}
	return t, nil
}

// TouchAPIToken sets the token's last use to at unless one was recorded
// less than every before at.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time, every time.Duration) (bool, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`, timeArg(at), id, timeArg(at.Add(-every)))
	if err != nil {
		return false, s.fail(err, "touch api token %s", id)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail(err, "touch api token %s", id)
	}
	return n > 0, nil
}

// scanToken reads one row of tokenColumns.
func scanToken(row interface{ Scan(dest ...any) error }) (apitoken.Token, error) {
	var t apitoken.Token
	var scope string
	err := row.Scan(&t.ID, &t.Name, &scope, &t.Hash, microTime{&t.CreatedAt}, &t.CreatedBy,
		microTime{&t.LastUsedAt}, microTime{&t.ExpiresAt}, microTime{&t.RevokedAt})
	t.Scope = apitoken.Scope(scope)
	return t, err
}
