package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"cardflow/flows"
)

// ReplaceOrg replaces the whole org directory in one transaction. A
// duplicate user or department id, or a platform user id given to two
// users, fails it and keeps the old directory.
func (s *Store) ReplaceOrg(ctx context.Context, o flows.Org) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"users", "user_roles", "user_platform_ids", "departments"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table); err != nil {
				return fmt.Errorf("clear %s: %w", table, err)
			}
		}
		for _, u := range o.Users {
			if err := insertUser(ctx, tx, u); err != nil {
				return err
			}
		}
		for _, d := range o.Departments {
			if _, err := tx.ExecContext(ctx, `INSERT INTO departments (id, name, parent, head) VALUES (?, ?, ?, ?)`,
				d.ID, d.Name, d.Parent, d.Head); err != nil {
				return fmt.Errorf("insert department %s: %w", d.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return s.fail(err, "replace org")
	}
	return nil
}

func insertUser(ctx context.Context, tx *sql.Tx, u flows.User) error {
	roles, err := json.Marshal(u.Roles)
	if err != nil {
		return fmt.Errorf("encode roles of user %s: %w", u.ID, err)
	}
	platformIDs, err := json.Marshal(u.PlatformIDs)
	if err != nil {
		return fmt.Errorf("encode platform ids of user %s: %w", u.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, name, department, manager, roles, platform_ids, locale, time_zone)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.ID, u.Name, u.Department, u.Manager, string(roles), string(platformIDs),
		u.Locale, u.TimeZone); err != nil {
		return fmt.Errorf("insert user %s: %w", u.ID, err)
	}
	for _, role := range u.Roles {
		// OR IGNORE: a role listed twice is still one role.
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO user_roles (role, user_id) VALUES (?, ?)`,
			role, u.ID); err != nil {
			return fmt.Errorf("insert role %s of user %s: %w", role, u.ID, err)
		}
	}
	for platform, pid := range u.PlatformIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_platform_ids (platform, platform_user_id, user_id)
			VALUES (?, ?, ?)`, platform, pid, u.ID); err != nil {
			return fmt.Errorf("insert %s id %s of user %s: %w", platform, pid, u.ID, err)
		}
	}
	return nil
}

const userColumns = `u.id, u.name, u.department, u.manager, u.roles, u.platform_ids, u.locale, u.time_zone`

func scanUser(r scanner) (flows.User, error) {
	var u flows.User
	var roles, platformIDs string
	if err := r.Scan(&u.ID, &u.Name, &u.Department, &u.Manager, &roles, &platformIDs, &u.Locale, &u.TimeZone); err != nil {
		return u, err
	}
	if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
		return u, fmt.Errorf("decode roles of user %s: %w", u.ID, err)
	}
	if err := json.Unmarshal([]byte(platformIDs), &u.PlatformIDs); err != nil {
		return u, fmt.Errorf("decode platform ids of user %s: %w", u.ID, err)
	}
	return u, nil
}

// User returns one user; flows.ErrNotFound if there is none.
func (s *Store) User(ctx context.Context, id string) (flows.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id))
	if err != nil {
		return flows.User{}, s.fail(notFound(err), "user %s", id)
	}
	return u, nil
}

// UserByPlatformID maps a chat platform's user id to the internal user;
// flows.ErrNotFound if unmapped.
func (s *Store) UserByPlatformID(ctx context.Context, platform, platformUserID string) (flows.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+`
		FROM user_platform_ids p JOIN users u ON u.id = p.user_id
		WHERE p.platform = ? AND p.platform_user_id = ?`, platform, platformUserID))
	if err != nil {
		return flows.User{}, s.fail(notFound(err), "%s user %s", platform, platformUserID)
	}
	return u, nil
}

// UsersWithRole returns the users holding role, ordered by id.
func (s *Store) UsersWithRole(ctx context.Context, role string) ([]flows.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+`
		FROM user_roles r JOIN users u ON u.id = r.user_id WHERE r.role = ? ORDER BY u.id`, role)
	if err != nil {
		return nil, s.fail(err, "users with role %s", role)
	}
	out, err := collect(rows, scanUser)
	if err != nil {
		return nil, s.fail(err, "users with role %s", role)
	}
	return out, nil
}

// Users returns every user of the directory, ordered by id.
func (s *Store) Users(ctx context.Context) ([]flows.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	out, err := collect(rows, scanUser)
	if err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	return out, nil
}

// Department returns one department; flows.ErrNotFound if there is none.
func (s *Store) Department(ctx context.Context, id string) (flows.Department, error) {
	var d flows.Department
	err := s.read.QueryRowContext(ctx, `SELECT id, name, parent, head FROM departments WHERE id = ?`, id).
		Scan(&d.ID, &d.Name, &d.Parent, &d.Head)
	if err != nil {
		return flows.Department{}, s.fail(notFound(err), "department %s", id)
	}
	return d, nil
}
