package postgres

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"cardflow/flows"
	"cardflow/storage/storetest"
)

// benchConns matches the pgbench run of scripts/bench-vs-pgbench.sh (`-c
// 8`), so both sides keep the same number of transactions in flight; the
// storetest.BenchConcurrency (16) deciders share these connections.
const benchConns = 8

// BenchmarkApplyClaimTask measures BENCH.md's "claim task + write audit +
// write outbox" transition as one Apply: an idempotency key, the instance's
// version check and bump, a task decided open → approved, one audit row and
// one outbox message. Every op decides a distinct open task of a distinct
// instance, pre-created outside the timer, as pgbench's script updates a
// random one of many accounts, so deciders do not queue on one row. It
// reports committed transitions per second as tx/s.
//
// Changes that arrive together commit together (apply_group.go);
// CARDFLOW_BENCH_ALONE=1 commits each in a transaction of its own.
func BenchmarkApplyClaimTask(b *testing.B) {
	s := openTestStore(b, Options{MaxConns: benchConns, ApplyAlone: os.Getenv("CARDFLOW_BENCH_ALONE") == "1"})
	seedOpenTasks(b, s, b.N)
	warmPool(b, s)
	var next atomic.Int64
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((storetest.BenchConcurrency + procs - 1) / procs)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := claimChange(next.Add(1)-1, time.Now())
			if _, err := s.Apply(b.Context(), c); err != nil {
				b.Errorf("apply %s: %v", c.Instance.ID, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkConformanceClaimTask runs the suite's shared benchmark, the same
// figure the SQLite store reports, so the two stores compare directly.
func BenchmarkConformanceClaimTask(b *testing.B) {
	s := openTestStore(b, Options{MaxConns: benchConns})
	warmPool(b, s)
	storetest.BenchApplyClaimTask(b, s)
}

// warmPool opens all of the pool's connections before the timer starts, as
// pgbench connects its clients before it measures ("tps ... without initial
// connection time"); otherwise connecting (SCRAM authentication included)
// would count against the store.
func warmPool(b *testing.B, s *Store) {
	b.Helper()
	conns := make([]*pgxpool.Conn, 0, benchConns)
	for range benchConns {
		c, err := s.pool.Acquire(b.Context())
		if err != nil {
			b.Fatalf("warm the pool: %v", err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
}

var (
	// benchCreated is when the seeded instances and tasks were created; the
	// engine writes an instance back with its CreatedAt unchanged.
	benchCreated = storetest.BaseTime
	benchForm    = json.RawMessage(`{"order_no":"1001","amount":5200.5}`)
	benchState   = json.RawMessage(`{"steps":{"finance":"open"}}`)
	benchDecided = json.RawMessage(`{"steps":{"finance":"approved"}}`)
	benchPayload = json.RawMessage(`{"kind":"card_update"}`)
	benchResult  = json.RawMessage(`{"status":"approved"}`)
)

func benchInstanceID(i int64) string { return fmt.Sprintf("bench-%d", i) }

// seedOpenTasks loads n running instances (version 1), each with one open
// task, by COPY: seeding through Apply would take as long as the benchmark.
func seedOpenTasks(b testing.TB, s *Store, n int) {
	b.Helper()
	ctx := b.Context()
	instances := func(i int) ([]any, error) {
		return []any{benchInstanceID(int64(i)), "bench", 1, "running", "u-applicant", "bench",
			benchForm, benchState, 1, benchCreated, benchCreated}, nil
	}
	tasks := func(i int) ([]any, error) {
		id := benchInstanceID(int64(i))
		return []any{id + "-t", id, "finance", "approval", "u-finance", "", "open", "", "", "", 1, benchCreated}, nil
	}
	copies := []struct {
		table   string
		columns []string
		row     func(int) ([]any, error)
	}{
		{"instances", []string{"id", "flow_id", "flow_version", "status", "applicant", "title", "form", "state",
			"version", "created_at", "updated_at"}, instances},
		{"tasks", []string{"id", "instance_id", "step_id", "kind", "assignee", "owner_id", "status", "outcome",
			"comment", "decided_by", "seq", "created_at"}, tasks},
	}
	for _, c := range copies {
		if _, err := s.pool.CopyFrom(ctx, pgx.Identifier{c.table}, c.columns, pgx.CopyFromFunc(counter(n, c.row))); err != nil {
			b.Fatalf("seed %s: %v", c.table, err)
		}
	}
	// Fresh statistics, so the planner does not guess at empty tables, and
	// a vacuum, as pgbench -i gives its tables: without it the timed run
	// would set the hint bits of every seeded row on first touch, and
	// autovacuum could start on the just-loaded tables in the middle of it.
	if _, err := s.pool.Exec(ctx, "VACUUM ANALYZE instances, tasks"); err != nil {
		b.Fatalf("vacuum: %v", err)
	}
}

// counter adapts a row builder to pgx.CopyFromFunc for rows 0..n-1.
func counter(n int, row func(int) ([]any, error)) func() ([]any, error) {
	i := 0
	return func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		i++
		return row(i - 1)
	}
}

// claimChange is the transition of seeded instance i: its finance task
// approved by u-finance.
func claimChange(i int64, now time.Time) flows.Change {
	id := benchInstanceID(i)
	return flows.Change{
		IdempotencyKey: "claim:" + id,
		Result:         benchResult,
		Instance: &flows.Instance{ID: id, FlowID: "bench", FlowVersion: 1, Status: flows.InstanceRunning,
			Applicant: "u-applicant", Title: "bench", Form: benchForm, State: benchDecided,
			CreatedAt: benchCreated, UpdatedAt: now},
		ExpectVersion: 1,
		TaskUpdates: []flows.TaskUpdate{{ID: id + "-t", From: flows.TaskOpen, Status: flows.TaskApproved,
			Outcome: "approve", DecidedBy: "u-finance", DecidedAt: now}},
		Audit: []flows.AuditEntry{{InstanceID: id, TaskID: id + "-t", Actor: "u-finance", Action: "approve", At: now}},
		Outbox: []flows.OutboxMessage{{Key: id + "/approve", InstanceID: id, Topic: "notify",
			Payload: benchPayload, CreatedAt: now}},
	}
}

// BenchmarkAnalytics computes flow analytics over 100,000 tasks.
func BenchmarkAnalytics(b *testing.B) {
	storetest.BenchAnalytics(b, openTestStore(b, Options{MaxConns: 4}))
}
