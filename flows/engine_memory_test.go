package flows_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"

	"golang.org/x/sync/errgroup"

	"cardflow/flows"
)

// BenchmarkMemoryOpenInstances shows that the engine's memory does not grow
// with the number of open instances: it bulk-creates memOpen open instances
// in PostgreSQL, then decides tasks spread across all of them and reports
// the heap (after a GC) once 1,000 and once memDecided tasks were decided.
// Its workload is fixed, whatever b.N; run it on its own:
//
//	go test ./flows/ -run '^$' -bench MemoryOpenInstances -benchtime 1x
func BenchmarkMemoryOpenInstances(b *testing.B) {
	const memOpen, memDecided = 100_000, 20_000
	s := benchStore(b)
	ids := bulkInstances(b, s, memOpen)
	e := flows.NewEngine(s)
	decide := func(from, to int) {
		var g errgroup.Group
		g.SetLimit(16)
		for i := from; i < to; i++ {
			// A stride through all instances, so decisions touch old and
			// new ones alike rather than a warm few.
			id := ids[(i*7919)%len(ids)]
			g.Go(func() error {
				_, err := e.Approve(b.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: id + ".t0001"})
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	base := heapMB()
	decide(0, 1000)
	early := heapMB()
	decide(1000, memDecided)
	late := heapMB()
	runtime.KeepAlive(ids) // measured alike: the ids are live at all three points
	b.ReportMetric(base, "heapMB@0")
	b.ReportMetric(early, "heapMB@1k")
	b.ReportMetric(late, "heapMB@20k")
	b.Logf("%d open instances: heap %.1f MB before deciding, %.1f MB after 1,000 decisions, %.1f MB after %d",
		memOpen, base, early, late, memDecided)
	// The instance cache may fill up to its bound between the two
	// figures (DefaultInstanceCache entries of a few KB); anything beyond
	// that is growth with the instances touched.
	if late-early > 24 {
		b.Errorf("heap grew by %.1f MB between 1,000 and %d decisions", late-early, memDecided)
	}
}

func heapMB() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// recorder keeps the last change applied through it.
type recorder struct {
	flows.Store
	last flows.Change
}

func (r *recorder) Apply(ctx context.Context, c flows.Change) (flows.Applied, error) {
	r.last = c
	return r.Store.Apply(ctx, c)
}

// bulkInstances creates n open instances of sign_single, each waiting on
// its task "<id>.t0001" of u_qian: one started by the engine, the others
// copies of its change with the id replaced (without its timers and
// notifications, which nothing here reads), applied straight to the store.
func bulkInstances(b *testing.B, s flows.Store, n int) []string {
	b.Helper()
	rec := &recorder{Store: s}
	res, err := flows.NewEngine(rec).Start(b.Context(), flows.StartRequest{Actor: "u_wu", FlowID: "sign_single"})
	if err != nil {
		b.Fatal(err)
	}
	tmpl, old := rec.last, res.InstanceID
	ids := make([]string, n)
	ids[0] = old
	var g errgroup.Group
	g.SetLimit(16)
	for i := 1; i < n; i++ {
		ids[i] = fmt.Sprintf("%s%07d", old[:len(old)-7], i)
		g.Go(func() error {
			_, err := s.Apply(b.Context(), copyChange(tmpl, old, ids[i]))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	return ids
}

// copyChange returns the instance-creating change c for instance id to.
func copyChange(c flows.Change, from, to string) flows.Change {
	inst := *c.Instance
	inst.ID = to
	inst.State = bytes.ReplaceAll(inst.State, []byte(from), []byte(to))
	out := flows.Change{Instance: &inst, Create: true}
	for _, t := range c.NewTasks {
		t.ID, t.InstanceID = to+t.ID[len(from):], to
		out.NewTasks = append(out.NewTasks, t)
	}
	for _, a := range c.Audit {
		a.InstanceID = to
		out.Audit = append(out.Audit, a)
	}
	return out
}
