package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"cardflow/flows"
)

// SQLSTATEs raised by cardflow_raise (see migrations/00001_init.sql). The
// "CF" class is not used by PostgreSQL.
const (
	codeStaleVersion = "CF001"
	codeTaskConflict = "CF002"
	codeNotFound     = "CF003"
	codeUniqueViol   = "23505"
)

// Constraint names (PostgreSQL's defaults) Apply tells apart.
const (
	constraintIdempotency = "idempotency_pkey"
	constraintInstance    = "instances_pkey"
)

const sqlInsertIdempotency = `INSERT INTO idempotency (key, result) VALUES ($1, $2)`

const sqlCreateInstance = `
INSERT INTO instances (id, flow_id, flow_version, status, applicant, title, form, state, version, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10)`

// sqlUpdateInstance overwrites the whole row, as the contract says, but
// only from the expected version. When no row matched it fails the
// statement, and so the whole batch, instead of reporting zero rows: the
// later statements of the batch must not commit.
const sqlUpdateInstance = `
WITH u AS (
	UPDATE instances SET flow_id = $3, flow_version = $4, status = $5, applicant = $6, title = $7,
		form = $8, state = $9, version = version + 1, created_at = $10, updated_at = $11
	WHERE id = $1 AND version = $2
	RETURNING version
)
SELECT COALESCE((SELECT version FROM u), CASE
	WHEN EXISTS (SELECT 1 FROM instances WHERE id = $1)
	THEN cardflow_raise('CF001', format('instance %s is no longer at version %s', $1, $2))
	ELSE cardflow_raise('CF003', format('instance %s does not exist', $1))
END)`

// sqlUpdateTask is guarded by the task's From status the way
// sqlUpdateInstance is by the version.
const sqlUpdateTask = `
WITH u AS (
	UPDATE tasks SET status = $3, assignee = COALESCE(NULLIF($4, ''), assignee), outcome = $5,
		comment = $6, result = $7, decided_by = $8, decided_at = $9
	WHERE id = $1 AND status = $2
	RETURNING 1
)
SELECT CASE
	WHEN EXISTS (SELECT 1 FROM u) THEN 0
	WHEN EXISTS (SELECT 1 FROM tasks WHERE id = $1)
	THEN cardflow_raise('CF002', format('task %s is no longer %s', $1, $2))
	ELSE cardflow_raise('CF003', format('task %s does not exist', $1))
END`

// sqlCancelTimer deletes one timer, by its key: a statement per timer,
// since PostgreSQL plans `id = ANY($1)` for ten ids and, while the table
// is a few pages, caches a sequential scan for it that every later cancel
// runs as the table grows (measured: 1–8 ms a cancel after 10 s of
// cardflow bench on a new database, against an index scan's 20 µs).
const sqlCancelTimer = `DELETE FROM timers WHERE id = $1`

// A change's new tasks, timers and audit rows go in multi-row statements,
// up to maxRowsPerStatement rows each: each statement of a batch costs the
// database a plan and an executor start, and pgx its messages, whatever its
// rows; an approval writes a dozen such rows. Every parameter is cast to
// its column's type (the lists of types below, in column order), which a
// VALUES list of several rows does not take from the column.
const maxRowsPerStatement = 8

var (
	sqlInsertTasks = multiRow(`INSERT INTO tasks (id, instance_id, step_id, kind, assignee, owner_id, status, outcome,
	comment, result, decided_by, seq, due_at, created_at, decided_at) VALUES `,
		[]string{"text", "text", "text", "text", "text", "text", "text", "text", "text", "json", "text", "int",
			"timestamptz", "timestamptz", "timestamptz"}, ``)
	// sqlPutTimers replaces a timer of the same id and drops its lease,
	// which is how a repeating reminder is rescheduled. One statement may
	// not update a row twice: lastOfEachID keeps the last timer of an id.
	sqlPutTimers = multiRow(`INSERT INTO timers (id, instance_id, task_id, kind, due_at, payload) VALUES `,
		[]string{"text", "text", "text", "text", "timestamptz", "json"}, ` ON CONFLICT (id) DO UPDATE SET instance_id = EXCLUDED.instance_id, task_id = EXCLUDED.task_id,
	kind = EXCLUDED.kind, due_at = EXCLUDED.due_at, payload = EXCLUDED.payload,
	lease_holder = NULL, lease_until = NULL`)
	sqlInsertAudits = multiRow(`INSERT INTO audit (instance_id, task_id, actor, on_behalf_of, action, detail, at) VALUES `,
		[]string{"text", "text", "text", "text", "text", "json", "timestamptz"}, ` RETURNING seq`)
)

// rowStatements are one multi-row statement written for 1 to
// maxRowsPerStatement rows: texts[n-1] writes n rows of cols columns.
type rowStatements struct {
	texts []string
	cols  int
}

// multiRow returns the statements head ($1::type, …), … tail writing 1 to
// maxRowsPerStatement rows of the columns whose types are given.
func multiRow(head string, types []string, tail string) rowStatements {
	qs := rowStatements{texts: make([]string, maxRowsPerStatement), cols: len(types)}
	var b strings.Builder
	for n := range qs.texts {
		b.Reset()
		b.WriteString(head)
		for row := range n + 1 {
			if row > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for col, typ := range types {
				if col > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d::%s", row*len(types)+col+1, typ)
			}
			b.WriteByte(')')
		}
		b.WriteString(tail)
		qs.texts[n] = b.String()
	}
	return qs
}

// queueRows queues rows in the statements qs, maxRowsPerStatement rows to
// a statement, each row's values appended by values; then, when not nil, is given each statement's query
// and its count of rows, to read what it returns.
func queueRows[T any](b *pgx.Batch, qs rowStatements, rows []T, values func([]any, T) []any,
	then func(q *pgx.QueuedQuery, n int)) {
	for chunk := range slices.Chunk(rows, maxRowsPerStatement) {
		args := make([]any, 0, len(chunk)*qs.cols)
		for _, r := range chunk {
			args = values(args, r)
		}
		q := b.Queue(qs.texts[len(chunk)-1], args...)
		if then != nil {
			then(q, len(chunk))
		}
	}
}

// lastOfEachID returns timers without the ones a later timer of the same
// id replaces, in their order: as if each were put after the one before.
func lastOfEachID(timers []flows.Timer) []flows.Timer {
	if len(timers) < 2 {
		return timers
	}
	last := make(map[string]int, len(timers))
	for i, t := range timers {
		last[t.ID] = i
	}
	if len(last) == len(timers) {
		return timers
	}
	kept := make([]flows.Timer, 0, len(last))
	for i, t := range timers {
		if last[t.ID] == i {
			kept = append(kept, t)
		}
	}
	return kept
}

// sqlInsertOutbox stores the messages of one commit for one instance and
// topic as one row (see outbox.go), and claims their keys ($6, those set)
// in outbox_keys: a key used before fails the change on outbox_keys_pkey.
const sqlInsertOutbox = `
WITH claimed AS (INSERT INTO outbox_keys (key) SELECT unnest($6::text[]))
INSERT INTO outbox (keys, instance_id, topic, payload, created_at)
VALUES ($1, $2, $3, $4, $5)
RETURNING seq`

// Apply commits c in one round trip (see the package comment) and answers
// once it is committed. Changes that arrive together share one transaction
// (see apply_group.go). Only a replayed idempotency key costs a second
// round trip, to read the stored answer.
func (s *Store) Apply(ctx context.Context, c flows.Change) (flows.Applied, error) {
	var (
		applied flows.Applied
		err     error
	)
	if s.applyAlone {
		applied, err = s.applyAloneTx(ctx, c)
	} else {
		applied, err = s.applyGrouped(ctx, c)
	}
	return s.applyOutcome(ctx, c, applied, err)
}

// applyOutcome maps the database's answer to a change to the contract's:
// a replayed idempotency key reads the first answer.
func (s *Store) applyOutcome(ctx context.Context, c flows.Change, applied flows.Applied, err error) (flows.Applied, error) {
	if err == nil {
		return applied, nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == codeUniqueViol && pgErr.ConstraintName == constraintIdempotency {
		result, rerr := s.idempotent(ctx, c.IdempotencyKey)
		if rerr != nil {
			return flows.Applied{}, fail(rerr, "apply change: read the first answer of replayed key %s", c.IdempotencyKey)
		}
		return flows.Applied{}, &flows.DuplicateError{Key: c.IdempotencyKey, Result: result}
	}
	return flows.Applied{}, applyError(err)
}

// applyAloneTx commits c in a transaction of its own.
func (s *Store) applyAloneTx(ctx context.Context, c flows.Change) (flows.Applied, error) {
	var applied flows.Applied
	b := &pgx.Batch{}
	queueChange(b, c, &applied)
	if b.Len() == 0 {
		return applied, nil
	}
	return applied, s.pool.SendBatch(ctx, b).Close()
}

// queueChange queues c's statements in the order the contract gives; the
// idempotency key goes first so a replay fails before it can report a stale
// version. Results land in applied as the batch is read.
//
// The instance's version row is updated before the audit and outbox rows
// are inserted, so its row lock serialises the Applies of one instance and
// their Seqs ascend in commit order; a Change without Instance takes no such
// lock, which is why the engine always sets it.
func queueChange(b *pgx.Batch, c flows.Change, applied *flows.Applied) {
	if c.IdempotencyKey != "" {
		b.Queue(sqlInsertIdempotency, c.IdempotencyKey, nullJSON(c.Result))
	}
	if in := c.Instance; in != nil {
		if c.Create {
			b.Queue(sqlCreateInstance, in.ID, in.FlowID, in.FlowVersion, string(in.Status), in.Applicant,
				in.Title, nullJSON(in.Form), nullJSON(in.State), in.CreatedAt, in.UpdatedAt)
			applied.InstanceVersion = 1
		} else {
			b.Queue(sqlUpdateInstance, in.ID, c.ExpectVersion, in.FlowID, in.FlowVersion, string(in.Status),
				in.Applicant, in.Title, nullJSON(in.Form), nullJSON(in.State), in.CreatedAt, in.UpdatedAt,
			).QueryRow(func(row pgx.Row) error { return row.Scan(&applied.InstanceVersion) })
		}
	}
	queueRows(b, sqlInsertTasks, c.NewTasks, func(args []any, t flows.Task) []any {
		return append(args, t.ID, t.InstanceID, t.StepID, t.Kind, t.Assignee, t.OwnerID, string(t.Status),
			t.Outcome, t.Comment, nullJSON(t.Result), t.DecidedBy, t.Seq, nullTime(t.DueAt),
			t.CreatedAt, nullTime(t.DecidedAt))
	}, nil)
	for _, u := range c.TaskUpdates {
		b.Queue(sqlUpdateTask, u.ID, string(u.From), string(u.Status), u.Assignee, u.Outcome, u.Comment,
			nullJSON(u.Result), u.DecidedBy, nullTime(u.DecidedAt))
	}
	for _, id := range c.CancelTimers {
		b.Queue(sqlCancelTimer, id)
	}
	queueRows(b, sqlPutTimers, lastOfEachID(c.NewTimers), func(args []any, t flows.Timer) []any {
		return append(args, t.ID, t.InstanceID, t.TaskID, t.Kind, t.DueAt, nullJSON(t.Payload))
	}, nil)
	if len(c.Audit) > 0 {
		applied.AuditSeqs = make([]int64, 0, len(c.Audit))
	}
	queueRows(b, sqlInsertAudits, c.Audit, func(args []any, a flows.AuditEntry) []any {
		return append(args, a.InstanceID, a.TaskID, a.Actor, a.OnBehalfOf, a.Action, nullJSON(a.Detail), a.At)
	}, func(q *pgx.QueuedQuery, n int) {
		q.Query(func(rows pgx.Rows) error {
			seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			if len(seqs) != n {
				return fmt.Errorf("inserted %d audit rows, %d seqs returned", n, len(seqs))
			}
			// nextval numbered the rows in the order of VALUES; RETURNING
			// need not list them in that order.
			slices.Sort(seqs)
			applied.AuditSeqs = append(applied.AuditSeqs, seqs...)
			return nil
		})
	})
	if len(c.Outbox) > 0 {
		applied.OutboxSeqs = make([]int64, len(c.Outbox))
	}
	for start := 0; start < len(c.Outbox); {
		end := packEnd(c.Outbox, start)
		seqs := applied.OutboxSeqs[start:end]
		m := c.Outbox[start]
		keys, payload := pack(c.Outbox[start:end])
		b.Queue(sqlInsertOutbox, keys, m.InstanceID, m.Topic, payload, m.CreatedAt, setKeys(keys)).QueryRow(func(row pgx.Row) error {
			var seq int64
			if err := row.Scan(&seq); err != nil {
				return err
			}
			for i := range seqs {
				seqs[i] = messageSeq(seq, i)
			}
			return nil
		})
		start = end
	}
}

// applyError maps the error that failed an Apply batch to the contract's
// sentinels, keeping the database's message, which names the row.
func applyError(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return fail(err, "apply change")
	}
	var sentinel error
	switch {
	case pgErr.Code == codeStaleVersion:
		sentinel = flows.ErrStaleVersion
	case pgErr.Code == codeTaskConflict:
		sentinel = flows.ErrTaskConflict
	case pgErr.Code == codeNotFound:
		sentinel = flows.ErrNotFound
	case pgErr.Code == codeUniqueViol && pgErr.ConstraintName == constraintInstance:
		// Creating an instance that exists means the caller's view (no
		// instance yet) is stale, like any other lost race on the instance.
		return fmt.Errorf("postgres: apply change: instance already exists: %w", flows.ErrStaleVersion)
	default:
		return fail(err, "apply change")
	}
	return fmt.Errorf("postgres: apply change: %s: %w", pgErr.Message, sentinel)
}

// nullJSON stores an absent document as NULL; an empty one is not JSON.
func nullJSON(m json.RawMessage) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

// nullTime stores an optional time that is unset (no deadline, not decided
// yet) as NULL. Times every row has are stored as given, the zero time too,
// so they read back as written.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
