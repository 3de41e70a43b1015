package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The statements of Apply, prepared once on the write connection: parsing
// SQL costs about as much as running it in SQLite, and Apply is the hot path.
const (
	qCheckKey       = `SELECT key, result FROM idempotency WHERE key = ?`
	qInsertInstance = `INSERT INTO instances
		(id, flow_id, flow_version, status, applicant, title, form, state, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`
	// The indexed columns are written by qUpdateInstanceKeys only when they
	// change: SQLite rewrites an index entry whenever its column is SET, even
	// to the same value, and most transitions change none of them.
	qUpdateInstance = `UPDATE instances SET
		flow_version = ?, title = ?, form = ?, state = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?
		RETURNING flow_id, status, applicant, created_at`
	qUpdateInstanceKeys = `UPDATE instances SET flow_id = ?, status = ?, applicant = ?, created_at = ? WHERE id = ?`
	qInstanceVersion    = `SELECT version FROM instances WHERE id = ?`
	// An empty assignee keeps the current one; the other fields are set.
	qUpdateTask = `UPDATE tasks SET
		status = ?, assignee = COALESCE(NULLIF(?, ''), assignee), outcome = ?, comment = ?, result = ?,
		decided_by = ?, decided_at = ?
		WHERE id = ? AND status = ?`
	qTaskStatus = `SELECT status FROM tasks WHERE id = ?`
	qRecordKey  = `INSERT INTO idempotency (key, result, created_at) VALUES (?, ?, ?)`
	// Each write of a group commit runs in a savepoint (group.go).
	qSavepoint  = `SAVEPOINT change`
	qRelease    = `RELEASE change`
	qRollbackTo = `ROLLBACK TO change`
)

// A change's new tasks, audit rows, outbox messages and timers go in
// multi-row statements, up to maxRowsPerStatement rows each (writeRows): a
// statement costs about as much to run through database/sql as a few rows
// cost to write, and an approval writes a dozen such rows. Element n-1 of
// each list writes n rows.
const maxRowsPerStatement = 8

var (
	qInsertTasks = multiRow(`INSERT INTO tasks
		(id, instance_id, step_id, kind, assignee, owner_id, status, outcome, comment, result, decided_by,
		seq, due_at, created_at, decided_at) VALUES `, 15, ``)
	qInsertAudits = multiRow(`INSERT INTO audit
		(instance_id, task_id, actor, on_behalf_of, action, detail, at) VALUES `, 7, ` RETURNING seq`)
	qInsertOutboxes = multiRow(`INSERT INTO outbox
		(key, instance_id, topic, payload, created_at) VALUES `, 5, ` RETURNING seq`)
	qCancelTimers = multiRow(`DELETE FROM timers WHERE id IN (VALUES `, 1, `)`)
	// A replaced timer is a new deadline: it loses the old one's lease.
	// Of two rows with one id, the second replaces the first, as if one
	// after the other.
	qUpsertTimers = multiRow(`INSERT INTO timers (id, instance_id, task_id, kind, due_at, payload) VALUES `, 6,
		` ON CONFLICT (id) DO UPDATE SET instance_id = excluded.instance_id, task_id = excluded.task_id,
		kind = excluded.kind, due_at = excluded.due_at, payload = excluded.payload,
		holder = NULL, lease_until = NULL`)
)

// multiRow returns the statements head (?, …), … tail inserting 1 to
// maxRowsPerStatement rows of cols columns.
func multiRow(head string, cols int, tail string) []string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	qs := make([]string, maxRowsPerStatement)
	for n := range qs {
		qs[n] = head + strings.Repeat(row+", ", n) + row + tail
	}
	return qs
}

var applyQueries = slices.Concat([]string{
	qCheckKey, qInsertInstance, qUpdateInstance, qUpdateInstanceKeys, qInstanceVersion, qUpdateTask, qTaskStatus,
	qRecordKey, qPutCard, qSavepoint, qRelease, qRollbackTo,
}, qInsertTasks, qInsertAudits, qInsertOutboxes, qCancelTimers, qUpsertTimers)

// prepare prepares applyQueries on the write pool. It runs in Open, before
// any transaction holds the pool's one connection.
func prepare(ctx context.Context, db *sql.DB) (map[string]*sql.Stmt, error) {
	stmts := make(map[string]*sql.Stmt, len(applyQueries))
	for _, q := range applyQueries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("sqlite: prepare %q: %w", q, err), closeStmts(stmts))
		}
		stmts[q] = st
	}
	return stmts, nil
}

func closeStmts(stmts map[string]*sql.Stmt) error {
	var errs []error
	for _, st := range stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// stmt returns the prepared query bound to tx; the transaction closes it.
// The write pool has one connection, so database/sql reuses the statement
// prepared on it instead of parsing the SQL again.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	return tx.StmtContext(ctx, s.prepared[query])
}
