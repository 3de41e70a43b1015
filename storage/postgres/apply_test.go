package postgres

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/storage/storetest"
)

// TestBatchIsOneImplicitTransaction checks the claim Apply rests on: the
// statements of one pipelined batch, sent without BEGIN, commit or roll back
// together, so a failure in the last statement undoes the earlier ones.
func TestBatchIsOneImplicitTransaction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		last     string
		wantCode string // "" when the batch must commit
		wantRows int
	}{
		{name: "all succeed", last: `SELECT 1`, wantRows: 2},
		{name: "last raises", last: `SELECT cardflow_raise('CF001', 'boom')`, wantCode: codeStaleVersion},
		{name: "last divides by zero", last: `SELECT 1 / 0`, wantCode: "22012"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openTestStore(t, Options{MaxConns: 2})
			ctx := t.Context()
			b := &pgx.Batch{}
			b.Queue(`INSERT INTO audit (instance_id, task_id, actor, on_behalf_of, action, at)
				VALUES ('i-1', '', 'u', '', 'start', now())`)
			b.Queue(`INSERT INTO outbox (key, instance_id, topic, created_at) VALUES ('k', 'i-1', 'notify', now())`)
			b.Queue(tc.last)
			err := s.pool.SendBatch(ctx, b).Close()
			if tc.wantCode == "" {
				require.NoError(t, err)
			} else {
				var pgErr *pgconn.PgError
				require.True(t, errors.As(err, &pgErr), "want a PgError, got %v", err)
				require.Equal(t, tc.wantCode, pgErr.Code)
			}
			var rows int
			require.NoError(t, s.pool.QueryRow(ctx,
				`SELECT (SELECT count(*) FROM audit) + (SELECT count(*) FROM outbox)`).Scan(&rows))
			require.Equal(t, tc.wantRows, rows)
		})
	}
}

// TestApplyErrorsNameTheRow checks that the errors raised inside the batch
// reach the caller as the contract's sentinels with the row they concern.
func TestApplyErrorsNameTheRow(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, Options{MaxConns: 2})
	inst := storetest.Seed(t, s, "i-1")
	decided := storetest.DecideChange(inst, "i-1-t1", "u-bob")
	decided.IdempotencyKey, decided.Result = "click-1", json.RawMessage(`{"n":1}`)
	storetest.MustApply(t, s, decided)
	inst.Version = 2

	missing := storetest.NewInstance("i-404")
	tests := []struct {
		name     string
		change   flows.Change
		sentinel error
		wantMsg  string
	}{
		{name: "stale version", change: flows.Change{Instance: &inst, ExpectVersion: 1},
			sentinel: flows.ErrStaleVersion, wantMsg: "instance i-1 is no longer at version 1"},
		{name: "missing instance", change: flows.Change{Instance: &missing, ExpectVersion: 1},
			sentinel: flows.ErrNotFound, wantMsg: "instance i-404 does not exist"},
		{name: "task conflict", change: flows.Change{TaskUpdates: []flows.TaskUpdate{
			{ID: "i-1-t1", From: flows.TaskOpen, Status: flows.TaskRejected}}},
			sentinel: flows.ErrTaskConflict, wantMsg: "task i-1-t1 is no longer open"},
		{name: "missing task", change: flows.Change{TaskUpdates: []flows.TaskUpdate{
			{ID: "t-404", From: flows.TaskOpen, Status: flows.TaskRejected}}},
			sentinel: flows.ErrNotFound, wantMsg: "task t-404 does not exist"},
		{name: "create existing", change: flows.Change{Instance: &inst, Create: true},
			sentinel: flows.ErrStaleVersion, wantMsg: "instance already exists"},
		{name: "replayed key", change: decided,
			sentinel: flows.ErrDuplicate, wantMsg: "idempotency key click-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Apply(t.Context(), tc.change)
			require.ErrorIs(t, err, tc.sentinel)
			require.ErrorContains(t, err, tc.wantMsg)
		})
	}
}

func TestApplyErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      *pgconn.PgError
		sentinel error // nil: no sentinel, the PgError itself is wrapped
	}{
		{name: "stale version", err: &pgconn.PgError{Code: codeStaleVersion, Message: "m"}, sentinel: flows.ErrStaleVersion},
		{name: "task conflict", err: &pgconn.PgError{Code: codeTaskConflict, Message: "m"}, sentinel: flows.ErrTaskConflict},
		{name: "not found", err: &pgconn.PgError{Code: codeNotFound, Message: "m"}, sentinel: flows.ErrNotFound},
		{name: "instance exists", err: &pgconn.PgError{Code: codeUniqueViol, ConstraintName: constraintInstance}, sentinel: flows.ErrStaleVersion},
		{name: "outbox key exists", err: &pgconn.PgError{Code: codeUniqueViol, ConstraintName: "outbox_key_key"}},
		{name: "other failure", err: &pgconn.PgError{Code: "40P01"}},
	}
	sentinels := []error{flows.ErrStaleVersion, flows.ErrTaskConflict, flows.ErrNotFound, flows.ErrDuplicate}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := applyError(tc.err)
			require.ErrorContains(t, got, "postgres: apply change")
			for _, s := range sentinels {
				require.Equal(t, s == tc.sentinel, errors.Is(got, s), "errors.Is(%v, %v)", got, s)
			}
			if tc.sentinel == nil {
				require.ErrorIs(t, got, tc.err, "an unmapped failure keeps the PgError")
			}
		})
	}
}
