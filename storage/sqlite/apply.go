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
	if err := w.insertTasks(c.NewTasks); err != nil {
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
	for rows := range slices.Chunk(c.Audit, maxRowsPerInsert) {
		args := make([]any, 0, 7*len(rows))
		for _, e := range rows {
			args = append(args, e.InstanceID, e.TaskID, e.Actor, e.OnBehalfOf, e.Action, jsonArg(e.Detail), timeArg(e.At))
		}
		seqs, err := w.insertReturning(qInsertAudits[len(rows)-1], args)
		if err != nil {
			return a, fmt.Errorf("insert audit rows of %s: %w", rows[0].InstanceID, err)
		}
		a.AuditSeqs = append(a.AuditSeqs, seqs...)
	}
	for rows := range slices.Chunk(c.Outbox, maxRowsPerInsert) {
		args := make([]any, 0, 5*len(rows))
		for _, m := range rows {
			args = append(args, m.Key, m.InstanceID, m.Topic, jsonArg(m.Payload), timeArg(m.CreatedAt))
		}
		seqs, err := w.insertReturning(qInsertOutboxes[len(rows)-1], args)
		if err != nil {
			return a, fmt.Errorf("insert outbox messages %s: %w", outboxKeys(rows), err)
		}
		a.OutboxSeqs = append(a.OutboxSeqs, seqs...)
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

// insertTasks inserts the new tasks, maxRowsPerInsert to a statement.
func (w applier) insertTasks(tasks []flows.Task) error {
	for rows := range slices.Chunk(tasks, maxRowsPerInsert) {
		args := make([]any, 0, 15*len(rows))
		ids := make([]string, len(rows))
		for i, t := range rows {
			args = append(args, t.ID, t.InstanceID, t.StepID, t.Kind, t.Assignee, t.OwnerID, t.Status, t.Outcome,
				t.Comment, jsonArg(t.Result), t.DecidedBy, t.Seq, timeArg(t.DueAt), timeArg(t.CreatedAt), timeArg(t.DecidedAt))
			ids[i] = t.ID
		}
		if _, err := w.exec(qInsertTasks[len(rows)-1], args...); err != nil {
			return fmt.Errorf("insert tasks %s: %w", strings.Join(ids, ", "), err)
		}
	}
	return nil
}

// insertReturning runs a multi-row INSERT … RETURNING seq and returns the
// seqs in the order of its rows: ascending, as AUTOINCREMENT gave them.
func (w applier) insertReturning(query string, args []any) ([]int64, error) {
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(seqs)
	return seqs, nil
}

// outboxKeys names messages in an error.
func outboxKeys(msgs []flows.OutboxMessage) string {
	keys := make([]string, len(msgs))
	for i, m := range msgs {
		keys[i] = m.Key
	}
	return strings.Join(keys, ", ")
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

// writeTimers cancels, then upserts, maxRowsPerInsert timers to a
// statement. A replaced timer loses any lease the old one had: it is a new
// deadline, due to fire again.
func (w applier) writeTimers(c flows.Change) error {
	for ids := range slices.Chunk(c.CancelTimers, maxRowsPerInsert) {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		if _, err := w.exec(qCancelTimers[len(ids)-1], args...); err != nil {
			return fmt.Errorf("cancel timers %s: %w", strings.Join(ids, ", "), err)
		}
	}
	for rows := range slices.Chunk(c.NewTimers, maxRowsPerInsert) {
		args := make([]any, 0, 6*len(rows))
		ids := make([]string, len(rows))
		for i, t := range rows {
			args = append(args, t.ID, t.InstanceID, t.TaskID, t.Kind, t.DueAt.UnixMicro(), jsonArg(t.Payload))
			ids[i] = t.ID
		}
		if _, err := w.exec(qUpsertTimers[len(rows)-1], args...); err != nil {
			return fmt.Errorf("add timers %s: %w", strings.Join(ids, ", "), err)
		}
	}
	return nil
}
