package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"cardflow/flows"
)

// userSelect reads users with their platform ids folded into one JSON
// object, so a user costs one query whatever the number of platforms.
const userSelect = `
SELECT u.id, u.name, u.department, u.manager, u.roles, u.locale, u.time_zone,
	(SELECT json_object_agg(p.platform, p.platform_user_id) FROM user_platform_ids p WHERE p.user_id = u.id)
FROM users u`

// ReplaceOrg replaces the whole org directory in one transaction; readers
// see the old directory until it commits.
func (s *Store) ReplaceOrg(ctx context.Context, o flows.Org) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// DELETE rather than TRUNCATE: TRUNCATE's exclusive lock would stall
		// every callback resolving a user while the directory reloads.
		for _, table := range []string{"user_platform_ids", "users", "departments"} {
			if _, err := tx.Exec(ctx, "DELETE FROM "+table); err != nil {
				return fmt.Errorf("clear %s: %w", table, err)
			}
		}
		var users, ids, depts [][]any
		for _, u := range o.Users {
			roles := u.Roles
			if roles == nil {
				roles = []string{}
			}
			users = append(users, []any{u.ID, u.Name, u.Department, u.Manager, roles, u.Locale, u.TimeZone})
			for platform, id := range u.PlatformIDs {
				ids = append(ids, []any{platform, id, u.ID})
			}
		}
		for _, d := range o.Departments {
			depts = append(depts, []any{d.ID, d.Name, d.Parent, d.Head})
		}
		copies := []struct {
			table   string
			columns []string
			rows    [][]any
		}{
			{"users", []string{"id", "name", "department", "manager", "roles", "locale", "time_zone"}, users},
			{"user_platform_ids", []string{"platform", "platform_user_id", "user_id"}, ids},
			{"departments", []string{"id", "name", "parent", "head"}, depts},
		}
		for _, c := range copies {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.columns, pgx.CopyFromRows(c.rows)); err != nil {
				return fmt.Errorf("load %s: %w", c.table, err)
			}
		}
		return nil
	})
	if err != nil {
		return fail(err, "replace org")
	}
	return nil
}

// User returns one user; flows.ErrNotFound if there is none.
func (s *Store) User(ctx context.Context, id string) (flows.User, error) {
	rows, _ := s.pool.Query(ctx, userSelect+` WHERE u.id = $1`, id)
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if err != nil {
		return flows.User{}, fail(notFound(err), "user %s", id)
	}
	return u, nil
}

// UserByPlatformID maps a chat platform's user id to the internal user;
// flows.ErrNotFound if it is unmapped.
func (s *Store) UserByPlatformID(ctx context.Context, platform, platformUserID string) (flows.User, error) {
	rows, _ := s.pool.Query(ctx, userSelect+` WHERE u.id = (SELECT user_id FROM user_platform_ids
		WHERE platform = $1 AND platform_user_id = $2)`, platform, platformUserID)
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if err != nil {
		return flows.User{}, fail(notFound(err), "%s user %s", platform, platformUserID)
	}
	return u, nil
}

// UsersWithRole returns the users holding role, ordered by id.
func (s *Store) UsersWithRole(ctx context.Context, role string) ([]flows.User, error) {
	rows, _ := s.pool.Query(ctx, userSelect+` WHERE u.roles @> ARRAY[$1::text] ORDER BY u.id`, role)
	list, err := pgx.CollectRows(rows, scanUser)
	if err != nil {
		return nil, fail(err, "users with role %s", role)
	}
	return list, nil
}

// Users returns every user of the directory, ordered by id.
func (s *Store) Users(ctx context.Context) ([]flows.User, error) {
	rows, _ := s.pool.Query(ctx, userSelect+` ORDER BY u.id`)
	list, err := pgx.CollectRows(rows, scanUser)
	if err != nil {
		return nil, fmt.Errorf("postgres: users: %w", err)
	}
	return list, nil
}

// Department returns one department; flows.ErrNotFound if there is none.
func (s *Store) Department(ctx context.Context, id string) (flows.Department, error) {
	var d flows.Department
	err := s.pool.QueryRow(ctx, `SELECT id, name, parent, head FROM departments WHERE id = $1`, id).
		Scan(&d.ID, &d.Name, &d.Parent, &d.Head)
	if err != nil {
		return flows.Department{}, fail(notFound(err), "department %s", id)
	}
	return d, nil
}

func scanUser(row pgx.CollectableRow) (flows.User, error) {
	var u flows.User
	err := row.Scan(&u.ID, &u.Name, &u.Department, &u.Manager, &u.Roles, &u.Locale, &u.TimeZone, &u.PlatformIDs)
	if len(u.Roles) == 0 {
		u.Roles = nil // a user without roles reads back as it was written by the engine
	}
	return u, err
}
