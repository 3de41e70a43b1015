package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"cardflow/flows"
)

// Apply commits c in one write transaction. The idempotency key is looked up
// first, so a replay is answered with the first result even when the
// instance has moved on since; the key is recorded last, in the same
// transaction, so a change that fails leaves it unrecorded.
//
// Changes are committed in groups (see group.go): under load one commit
// carries many changes, each in its own savepoint.
func (s *Store) Apply(ctx context.Context, c flows.Change) (flows.Applied, error) {
	applied, err := s.submit(ctx, func(ctx context.Context, tx *sql.Tx) (flows.Applied, error) {
		return applier{s: s, ctx: ctx, tx: tx}.apply(c)
	})
	if err != nil {
		return flows.Applied{}, s.fail(err, "apply change")
	}
	return applied, nil
}

// applier runs one Change's statements in its transaction.
type applier struct {
	s   *Store
	ctx context.Context
	tx  *sql.Tx
}

func (w applier) exec(query string, args ...any) (sql.Result, error) {
	return w.s.stmt(w.ctx, w.tx, query).ExecContext(w.ctx, args...)
}

func (w applier) queryRow(query string, args ...any) *sql.Row {
	return w.s.stmt(w.ctx, w.tx, query).QueryRowContext(w.ctx, args...)
}

func (w applier) apply(c flows.Change) (flows.Applied, error) {
	var a flows.Applied
	if c.IdempotencyKey != "" {
		if err := w.checkKey(c.IdempotencyKey); err != nil {
			return a, err
		}
	}
	if c.Instance != nil {
		v, err := w.writeInstance(c)
		if err != nil {
			return a, err
		}
		a.InstanceVersion = v
	}
	if _, err := writeRows(w, qInsertTasks, c.NewTasks, "insert tasks", func(t flows.Task) string { return t.ID },
		func(args []any, t flows.Task) []any {
			return append(args, t.ID, t.InstanceID, t.StepID, t.Kind, t.Assignee, t.OwnerID, t.Status, t.Outcome,
				t.Comment, jsonArg(t.Result), t.DecidedBy, t.Seq, timeArg(t.DueAt), timeArg(t.CreatedAt), timeArg(t.DecidedAt))
		}); err != nil {
		return a, err
	}
	for _, u := range c.TaskUpdates {
		if err := w.updateTask(u); err != nil {
			return a, err
		}
	}
	if err := w.writeTimers(c); err != nil {
		return a, err
	}
	seqs, err := writeRows(w, qInsertAudits, c.Audit, "insert audit rows", func(e flows.AuditEntry) string { return e.Action },
		func(args []any, e flows.AuditEntry) []any {
			return append(args, e.InstanceID, e.TaskID, e.Actor, e.OnBehalfOf, e.Action, jsonArg(e.Detail), timeArg(e.At))
		})
	if err != nil {
		return a, err
	}
	a.AuditSeqs = seqs
	if a.OutboxSeqs, err = writeRows(w, qInsertOutboxes, c.Outbox, "insert outbox messages", func(m flows.OutboxMessage) string { return m.Key },
		func(args []any, m flows.OutboxMessage) []any {
			return append(args, m.Key, m.InstanceID, m.Topic, jsonArg(m.Payload), timeArg(m.CreatedAt))
		}); err != nil {
		return a, err
	}
	if c.IdempotencyKey != "" {
		if _, err := w.exec(qRecordKey,
			c.IdempotencyKey, jsonArg(c.Result), w.s.now().UnixMicro()); err != nil {
			return a, fmt.Errorf("record idempotency key %s: %w", c.IdempotencyKey, err)
		}
	}
	return a, nil
}

// checkKey returns a *flows.DuplicateError when key was applied before.
func (w applier) checkKey(key string) error {
	var dup flows.DuplicateError
	err := w.queryRow(qCheckKey, key).
		Scan(&dup.Key, rawJSON{&dup.Result})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("look up idempotency key %s: %w", key, err)
	}
	return &dup
}

// writeInstance inserts (Create) or version-checks and overwrites the
// instance and returns its new version.
func (w applier) writeInstance(c flows.Change) (int64, error) {
	in := c.Instance
	if c.Create {
		_, err := w.exec(qInsertInstance,
			in.ID, in.FlowID, in.FlowVersion, in.Status, in.Applicant, in.Title,
			jsonArg(in.Form), jsonArg(in.State), timeArg(in.CreatedAt), timeArg(in.UpdatedAt))
		if isConstraint(err) {
			return 0, fmt.Errorf("create instance %s: it already exists: %w", in.ID, flows.ErrStaleVersion)
		}
		if err != nil {
			return 0, fmt.Errorf("create instance %s: %w", in.ID, err)
		}
		return 1, nil
	}
	var stored struct {
		flowID, status, applicant string
		createdAt                 sql.NullInt64
	}
	err := w.queryRow(qUpdateInstance, in.FlowVersion, in.Title, jsonArg(in.Form), jsonArg(in.State),
		timeArg(in.UpdatedAt), in.ID, c.ExpectVersion).
		Scan(&stored.flowID, &stored.status, &stored.applicant, &stored.createdAt)
	switch {
	case err == nil:
		if stored.flowID != in.FlowID || stored.status != string(in.Status) || stored.applicant != in.Applicant ||
			stored.createdAt != timeColumn(in.CreatedAt) {
			if _, err := w.exec(qUpdateInstanceKeys, in.FlowID, in.Status, in.Applicant, timeArg(in.CreatedAt), in.ID); err != nil {
				return 0, fmt.Errorf("update instance %s: %w", in.ID, err)
			}
		}
		return c.ExpectVersion + 1, nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("update instance %s: %w", in.ID, err)
	}
	var version int64
	err = w.queryRow(qInstanceVersion, in.ID).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("update instance %s: %w", in.ID, flows.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("update instance %s: %w", in.ID, err)
	}
	return 0, fmt.Errorf("update instance %s: at version %d, expected %d: %w", in.ID, version, c.ExpectVersion, flows.ErrStaleVersion)
}

// writeRows writes rows with the multi-row statements qs (qs[n-1] writes
// n rows), maxRowsPerStatement rows at a time, each row's values appended
// by values; name names a row in an error, which says what failed. When
// qs return seq, writeRows returns the rows' seqs in their order:
// ascending, as AUTOINCREMENT gave them; RETURNING may list them in any
// order.
func writeRows[T any](w applier, qs []string, rows []T, what string, name func(T) string,
	values func([]any, T) []any) ([]int64, error) {
	var seqs []int64
	for chunk := range slices.Chunk(rows, maxRowsPerStatement) {
		var args []any
		for _, r := range chunk {
			args = values(args, r)
		}
		got, err := w.querySeqs(qs[len(chunk)-1], args)
		if err != nil {
			names := make([]string, len(chunk))
			for i, r := range chunk {
				names[i] = name(r)
			}
			return nil, fmt.Errorf("%s %s: %w", what, strings.Join(names, ", "), err)
		}
		seqs = append(seqs, got...)
	}
	slices.Sort(seqs)
	return seqs, nil
}

// querySeqs runs query and returns the seq of each row it returns (none
// for a statement without RETURNING).
func (w applier) querySeqs(query string, args []any) ([]int64, error) {
	rows, err := w.s.stmt(w.ctx, w.tx, query).QueryContext(w.ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var seqs []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, err
		}
		seqs = append(seqs, seq)
	}
	return seqs, rows.Err()
}

// updateTask applies u when the task is in u.From. An empty Assignee keeps
// the current one; every other decision field is overwritten.
func (w applier) updateTask(u flows.TaskUpdate) error {
	res, err := w.exec(qUpdateTask,
		u.Status, u.Assignee, u.Outcome, u.Comment, jsonArg(u.Result), u.DecidedBy, timeArg(u.DecidedAt),
		u.ID, u.From)
	if err != nil {
		return fmt.Errorf("update task %s: %w", u.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var status string
	err = w.queryRow(qTaskStatus, u.ID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("update task %s: %w", u.ID, flows.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("update task %s: %w", u.ID, err)
	}
	return fmt.Errorf("update task %s: is %s, expected %s: %w", u.ID, status, u.From, flows.ErrTaskConflict)
}

// writeTimers cancels, then upserts, maxRowsPerStatement timers to a
// statement. A replaced timer loses any lease the old one had: it is a new
// deadline, due to fire again.
func (w applier) writeTimers(c flows.Change) error {
	id := func(id string) string { return id }
	if _, err := writeRows(w, qCancelTimers, c.CancelTimers, "cancel timers", id,
		func(args []any, id string) []any { return append(args, id) }); err != nil {
		return err
	}
	_, err := writeRows(w, qUpsertTimers, c.NewTimers, "add timers", func(t flows.Timer) string { return t.ID },
		func(args []any, t flows.Timer) []any {
			return append(args, t.ID, t.InstanceID, t.TaskID, t.Kind, t.DueAt.UnixMicro(), jsonArg(t.Payload))
		})
	return err
}
