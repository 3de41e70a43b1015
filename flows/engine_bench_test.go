package flows_test

import (
	"os"
	"sync/atomic"
	"testing"

	"golang.org/x/sync/errgroup"

	"cardflow/flows"
	"cardflow/storage/postgres"
	"cardflow/storage/postgres/pgtest"
)

// Engine throughput on PostgreSQL with 16 concurrent callers (8 per CPU on
// the 2-CPU CI box); see shared BENCH.md for the targets. Run:
//
//	go test ./flows/ -run '^$' -bench 'Engine' -benchtime 3000x -count 3

// benchAlone is set by CARDFLOW_BENCH_ALONE=1: every change commits in a
// transaction of its own, the baseline of the store's group commit.
func benchAlone() bool { return os.Getenv("CARDFLOW_BENCH_ALONE") == "1" }

func benchStore(b *testing.B) flows.Store {
	b.Helper()
	s, err := postgres.Open(b.Context(), pgtest.SchemaDSN(b), postgres.Options{Migrate: true, MaxConns: 16, ApplyAlone: benchAlone()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	seed(b, s)
	return s
}

// BenchmarkEngineDecisions approves the single task of b.N instances of a
// one-step flow, 16 deciders at once. "warm" decides on the engine that
// started the instances, so its instance cache holds them (a click soon
// after the card went out); "cold" decides on a second engine without the
// cache, so every decision reads its instance first (a click hours later,
// or on another server instance).
func BenchmarkEngineDecisions(b *testing.B) {
	b.Run("warm", func(b *testing.B) { benchDecisions(b, false) })
	b.Run("cold", func(b *testing.B) { benchDecisions(b, true) })
}

func benchDecisions(b *testing.B, cold bool) {
	s := benchStore(b)
	e := flows.NewEngine(s)
	tasks := make([]string, b.N)
	var g errgroup.Group
	g.SetLimit(16)
	for i := range tasks {
		g.Go(func() error {
			res, err := e.Start(b.Context(), flows.StartRequest{Actor: "u_wu", FlowID: "sign_single"})
			if err == nil {
				tasks[i] = res.Opened[0]
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	if cold {
		e = flows.NewEngine(s, flows.WithInstanceCache(0))
	}
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			task := tasks[next.Add(1)-1]
			if _, err := e.Approve(b.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: task, Key: "bench:" + task}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkEngineStartOrder starts order fulfilment instances (form
// validation, role lookup, tasks, timers, intents), 16 starters at once.
func BenchmarkEngineStartOrder(b *testing.B) {
	s := benchStore(b)
	e := flows.NewEngine(s)
	form := orderForm("9000")
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Start(b.Context(), flows.StartRequest{Event: "order.paid", FlowID: "order_fulfilment", Form: form}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "starts/s")
}
