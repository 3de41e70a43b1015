package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"cardflow/flows"
)

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

const instanceColumns = `id, flow_id, flow_version, status, applicant, title, form, state, version, created_at, updated_at`

func scanInstance(r scanner) (flows.Instance, error) {
	var in flows.Instance
	err := r.Scan(&in.ID, &in.FlowID, &in.FlowVersion, &in.Status, &in.Applicant, &in.Title,
		rawJSON{&in.Form}, rawJSON{&in.State}, &in.Version, microTime{&in.CreatedAt}, microTime{&in.UpdatedAt})
	return in, err
}

const taskColumns = `id, instance_id, step_id, kind, assignee, owner_id, status, outcome, comment, result,
	decided_by, seq, due_at, created_at, decided_at`

func scanTask(r scanner) (flows.Task, error) {
	var t flows.Task
	err := r.Scan(&t.ID, &t.InstanceID, &t.StepID, &t.Kind, &t.Assignee, &t.OwnerID, &t.Status, &t.Outcome,
		&t.Comment, rawJSON{&t.Result}, &t.DecidedBy, &t.Seq, microTime{&t.DueAt}, microTime{&t.CreatedAt},
		microTime{&t.DecidedAt})
	return t, err
}

// Instance returns one instance; flows.ErrNotFound if there is none.
func (s *Store) Instance(ctx context.Context, id string) (flows.Instance, error) {
	in, err := scanInstance(s.read.QueryRowContext(ctx, `SELECT `+instanceColumns+` FROM instances WHERE id = ?`, id))
	if err != nil {
		return flows.Instance{}, s.fail(notFound(err), "instance %s", id)
	}
	return in, nil
}

// Instances lists instances matching f, newest first.
func (s *Store) Instances(ctx context.Context, f flows.InstanceFilter) ([]flows.Instance, error) {
	var w where
	w.eq("flow_id", f.FlowID)
	if len(f.FlowIDs) > 0 {
		args := make([]any, len(f.FlowIDs))
		for i, id := range f.FlowIDs {
			args[i] = id
		}
		w.cond("flow_id IN (?"+strings.Repeat(", ?", len(args)-1)+")", args...)
	}
	w.eq("applicant", f.Applicant)
	w.eq("status", string(f.Status))
	if f.TitleContains != "" {
		// SQLite's lower() folds ASCII letters only.
		w.cond("instr(lower(title), ?) > 0", flows.FoldASCII(f.TitleContains))
	}
	w.timeRange("created_at", f.From, f.To)
	if !f.After.IsZero() {
		w.cond("(created_at, id) < (?, ?)", f.After.CreatedAt.UnixMicro(), f.After.ID)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+instanceColumns+` FROM instances`+w.sql()+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, append(w.args, limitOr100(f.Limit))...)
	if err != nil {
		return nil, s.fail(err, "list instances")
	}
	out, err := collect(rows, scanInstance)
	if err != nil {
		return nil, s.fail(err, "list instances")
	}
	return out, nil
}

// Task returns one task; flows.ErrNotFound if there is none.
func (s *Store) Task(ctx context.Context, id string) (flows.Task, error) {
	t, err := scanTask(s.read.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = ?`, id))
	if err != nil {
		return flows.Task{}, s.fail(notFound(err), "task %s", id)
	}
	return t, nil
}

// Tasks lists tasks matching f, oldest first (by CreatedAt, then ID).
func (s *Store) Tasks(ctx context.Context, f flows.TaskFilter) ([]flows.Task, error) {
	var w where
	w.eq("assignee", f.Assignee)
	w.eq("instance_id", f.InstanceID)
	w.eq("status", string(f.Status))
	w.eq("kind", f.Kind)
	if f.Delegated {
		w.cond("owner_id <> ''")
	}
	if f.FlowID != "" {
		w.cond("instance_id IN (SELECT id FROM instances WHERE flow_id = ?)", f.FlowID)
	}
	w.timeRange("created_at", f.From, f.To)
	if !f.After.IsZero() {
		w.cond("(created_at, id) > (?, ?)", f.After.CreatedAt.UnixMicro(), f.After.ID)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks`+w.sql()+
		` ORDER BY created_at, id LIMIT ?`, append(w.args, limitOr100(f.Limit))...)
	if err != nil {
		return nil, s.fail(err, "list tasks")
	}
	out, err := collect(rows, scanTask)
	if err != nil {
		return nil, s.fail(err, "list tasks")
	}
	return out, nil
}

// Audit returns an instance's audit trail in the order it was written.
func (s *Store) Audit(ctx context.Context, instanceID string) ([]flows.AuditEntry, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT seq, instance_id, task_id, actor, on_behalf_of, action, detail, at
		FROM audit WHERE instance_id = ? ORDER BY seq`, instanceID)
	if err != nil {
		return nil, s.fail(err, "audit of %s", instanceID)
	}
	out, err := collect(rows, func(r scanner) (flows.AuditEntry, error) {
		var e flows.AuditEntry
		err := r.Scan(&e.Seq, &e.InstanceID, &e.TaskID, &e.Actor, &e.OnBehalfOf, &e.Action,
			rawJSON{&e.Detail}, microTime{&e.At})
		return e, err
	})
	if err != nil {
		return nil, s.fail(err, "audit of %s", instanceID)
	}
	return out, nil
}

// Idempotent returns the answer stored with an applied idempotency key;
// flows.ErrNotFound if the key is unknown.
func (s *Store) Idempotent(ctx context.Context, key string) (json.RawMessage, error) {
	var result json.RawMessage
	err := s.read.QueryRowContext(ctx, `SELECT result FROM idempotency WHERE key = ?`, key).Scan(rawJSON{&result})
	if err != nil {
		return nil, s.fail(notFound(err), "idempotency key %s", key)
	}
	return result, nil
}

// notFound turns "no row" into the contract's flows.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return flows.ErrNotFound
	}
	return err
}

// collect scans every row and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// where builds the optional equality filters of the list queries; an empty
// value does not filter.
type where struct {
	conds []string
	args  []any
}

func (w *where) eq(column, value string) {
	if value != "" {
		w.conds = append(w.conds, column+" = ?")
		w.args = append(w.args, value)
	}
}

// cond adds a condition with its own placeholders.
func (w *where) cond(sql string, args ...any) {
	w.conds = append(w.conds, sql)
	w.args = append(w.args, args...)
}

// timeRange keeps the rows whose column is at or after from and before
// to; a zero bound does not filter.
func (w *where) timeRange(column string, from, to time.Time) {
	if !from.IsZero() {
		w.cond(column+" >= ?", ceilMicro(from))
	}
	if !to.IsZero() {
		w.cond(column+" < ?", ceilMicro(to))
	}
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}
