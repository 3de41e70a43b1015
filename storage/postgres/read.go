package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"cardflow/flows"
)

// defaultLimit is the page size of a filter whose Limit is 0.
const defaultLimit = 100

const instanceColumns = `id, flow_id, flow_version, status, applicant, title, form, state, version, created_at, updated_at`

const taskColumns = `id, instance_id, step_id, kind, assignee, owner_id, status, outcome, comment,
	result, decided_by, seq, due_at, created_at, decided_at`

// Instances lists instances matching f, newest first.
func (s *Store) Instances(ctx context.Context, f flows.InstanceFilter) ([]flows.Instance, error) {
	var w where
	w.eq("flow_id", f.FlowID)
	if len(f.FlowIDs) > 0 {
		w.conds = append(w.conds, "flow_id = ANY("+w.arg(f.FlowIDs)+")")
	}
	w.eq("applicant", f.Applicant)
	w.eq("status", string(f.Status))
	if f.TitleContains != "" {
		// lower() of the C collation folds ASCII letters only, as SQLite's.
		w.conds = append(w.conds, `strpos(lower(title COLLATE "C"), `+w.arg(flows.FoldASCII(f.TitleContains))+`) > 0`)
	}
	w.timeRange("created_at", f.From, f.To)
	if !f.After.IsZero() {
		w.conds = append(w.conds, "(created_at, id) < ("+w.arg(f.After.CreatedAt)+", "+w.arg(f.After.ID)+")")
	}
	// Only the filters in use appear in the SQL, so each combination gets a
	// plan that can use its index rather than one generic "$1 = '' OR" plan.
	q := `SELECT ` + instanceColumns + ` FROM instances` + w.sql() +
		` ORDER BY created_at DESC, id DESC LIMIT ` + w.arg(limit(f.Limit))
	rows, _ := s.pool.Query(ctx, q, w.args...)
	list, err := pgx.CollectRows(rows, scanInstance)
	if err != nil {
		return nil, fail(err, "list instances")
	}
	return list, nil
}

// Task returns one task; flows.ErrNotFound if there is none.
func (s *Store) Task(ctx context.Context, id string) (flows.Task, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = $1`, id)
	t, err := pgx.CollectExactlyOneRow(rows, scanTask)
	if err != nil {
		return flows.Task{}, fail(notFound(err), "task %s", id)
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
		w.conds = append(w.conds, "owner_id <> ''")
	}
	if f.FlowID != "" {
		w.conds = append(w.conds, "instance_id IN (SELECT id FROM instances WHERE flow_id = "+w.arg(f.FlowID)+")")
	}
	w.timeRange("created_at", f.From, f.To)
	if !f.After.IsZero() {
		w.conds = append(w.conds, "(created_at, id) > ("+w.arg(f.After.CreatedAt)+", "+w.arg(f.After.ID)+")")
	}
	q := `SELECT ` + taskColumns + ` FROM tasks` + w.sql() +
		` ORDER BY created_at, id LIMIT ` + w.arg(limit(f.Limit))
	rows, _ := s.pool.Query(ctx, q, w.args...)
	list, err := pgx.CollectRows(rows, scanTask)
	if err != nil {
		return nil, fail(err, "list tasks")
	}
	return list, nil
}

var _ flows.ViewReader = (*Store)(nil)

// InstanceView reads an instance, its tasks (oldest first, at most
// taskLimit) and its audit trail in one batch: one round trip.
func (s *Store) InstanceView(ctx context.Context, id string, taskLimit int) (flows.Instance, []flows.Task, []flows.AuditEntry, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT `+instanceColumns+` FROM instances WHERE id = $1`, id)
	b.Queue(`SELECT `+taskColumns+` FROM tasks WHERE instance_id = $1 ORDER BY created_at, id LIMIT $2`, id, limit(taskLimit))
	b.Queue(sqlAudit, id)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, _ := br.Query()
	inst, err := pgx.CollectExactlyOneRow(rows, scanInstance)
	if err != nil {
		return flows.Instance{}, nil, nil, fail(notFound(err), "instance %s", id)
	}
	rows, _ = br.Query()
	tasks, err := pgx.CollectRows(rows, scanTask)
	if err != nil {
		return flows.Instance{}, nil, nil, fail(err, "tasks of %s", id)
	}
	rows, _ = br.Query()
	audit, err := pgx.CollectRows(rows, scanAudit)
	if err != nil {
		return flows.Instance{}, nil, nil, fail(err, "audit of %s", id)
	}
	return inst, tasks, audit, nil
}

const sqlAudit = `
		SELECT seq, instance_id, task_id, actor, on_behalf_of, action, detail, at
		FROM audit WHERE instance_id = $1 ORDER BY seq`

func scanAudit(row pgx.CollectableRow) (flows.AuditEntry, error) {
	var a flows.AuditEntry
	err := row.Scan(&a.Seq, &a.InstanceID, &a.TaskID, &a.Actor, &a.OnBehalfOf, &a.Action, &a.Detail, &a.At)
	return a, err
}

// Audit returns an instance's audit trail in the order it was written.
func (s *Store) Audit(ctx context.Context, instanceID string) ([]flows.AuditEntry, error) {
	rows, _ := s.pool.Query(ctx, sqlAudit, instanceID)
	list, err := pgx.CollectRows(rows, scanAudit)
	if err != nil {
		return nil, fail(err, "audit of %s", instanceID)
	}
	return list, nil
}

// Idempotent returns the answer stored with an applied idempotency key;
// flows.ErrNotFound if the key is unknown.
func (s *Store) Idempotent(ctx context.Context, key string) (json.RawMessage, error) {
	result, err := s.idempotent(ctx, key)
	if err != nil {
		return nil, fail(err, "idempotency key %s", key)
	}
	return result, nil
}

// idempotent is Idempotent with the error left for its caller to wrap.
func (s *Store) idempotent(ctx context.Context, key string) (json.RawMessage, error) {
	var result json.RawMessage
	err := s.pool.QueryRow(ctx, `SELECT result FROM idempotency WHERE key = $1`, key).Scan(&result)
	return result, notFound(err)
}

func scanInstance(row pgx.CollectableRow) (flows.Instance, error) {
	var in flows.Instance
	err := row.Scan(&in.ID, &in.FlowID, &in.FlowVersion, &in.Status, &in.Applicant, &in.Title,
		&in.Form, &in.State, &in.Version, &in.CreatedAt, &in.UpdatedAt)
	return in, err
}

func scanTask(row pgx.CollectableRow) (flows.Task, error) {
	var t flows.Task
	var due, decided pgtype.Timestamptz
	err := row.Scan(&t.ID, &t.InstanceID, &t.StepID, &t.Kind, &t.Assignee, &t.OwnerID, &t.Status,
		&t.Outcome, &t.Comment, &t.Result, &t.DecidedBy, &t.Seq, &due, &t.CreatedAt, &decided)
	t.DueAt, t.DecidedAt = timeOrZero(due), timeOrZero(decided)
	return t, err
}

// timeOrZero reads a nullable timestamptz back into the contract's "zero
// means none".
func timeOrZero(ts pgtype.Timestamptz) time.Time {
	if !ts.Valid {
		return time.Time{}
	}
	return ts.Time
}

// notFound turns pgx's "no rows" into the contract's sentinel.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return flows.ErrNotFound
	}
	return err
}

func limit(n int) int {
	if n <= 0 {
		return defaultLimit
	}
	return n
}

// where builds the WHERE clause of a list query from the filters in use.
type where struct {
	conds []string
	args  []any
}

// eq adds "column = value" unless value is empty (a zero filter field).
func (w *where) eq(column, value string) {
	if value != "" {
		w.conds = append(w.conds, column+" = "+w.arg(value))
	}
}

// arg adds a parameter and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

// timeRange keeps the rows whose column is at or after from and before
// to; a zero bound does not filter.
func (w *where) timeRange(column string, from, to time.Time) {
	if !from.IsZero() {
		w.conds = append(w.conds, column+" >= "+w.arg(ceilMicro(from)))
	}
	if !to.IsZero() {
		w.conds = append(w.conds, column+" < "+w.arg(ceilMicro(to)))
	}
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}
