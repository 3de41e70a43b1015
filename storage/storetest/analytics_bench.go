package storetest

import (
	"fmt"
	"testing"
	"time"

	"cardflow/flows"
)

// BenchAnalyticsTasks is how many tasks BenchAnalytics seeds.
const BenchAnalyticsTasks = 100_000

// BenchAnalytics measures flows.Engine.Analytics over a 30-day window
// holding BenchAnalyticsTasks tasks: 1,000 instances of 5 flows, each with
// 100 tasks over 5 steps and 20 assignees, nine in ten decided (with an
// SLA, a fifth of them late) and one in ten open. It reports the tasks read
// per second as tasks/s.
func BenchAnalytics(b *testing.B, s flows.Store) {
	now := BaseTime.Add(30 * 24 * time.Hour)
	const instances, perInstance = BenchAnalyticsTasks / 100, 100
	for i := range instances {
		id := fmt.Sprintf("a-%05d", i)
		created := BaseTime.Add(time.Duration(i) * 40 * time.Minute)
		inst := NewInstance(id)
		inst.FlowID, inst.CreatedAt, inst.UpdatedAt = fmt.Sprintf("flow-%d", i%5), created, created
		tasks := make([]flows.Task, perInstance)
		for j := range tasks {
			t := NewTask(id, fmt.Sprintf("%s-t%03d", id, j), fmt.Sprintf("u-%02d", j%20))
			t.StepID, t.CreatedAt, t.DueAt = fmt.Sprintf("step-%d", j%5), created, created.Add(2*time.Hour)
			if j%10 != 0 {
				t.Status, t.DecidedBy, t.Outcome = flows.TaskApproved, t.Assignee, "approve"
				t.DecidedAt = created.Add(time.Duration(j%25) * 6 * time.Minute) // 0 to 2h24m
			}
			tasks[j] = t
		}
		c := StartChange(inst)
		c.NewTasks, c.Outbox = tasks, nil
		if _, err := s.Apply(b.Context(), c); err != nil {
			b.Fatalf("seed %s: %v", id, err)
		}
	}
	e := flows.NewEngine(s, flows.WithClock(func() time.Time { return now }))
	q := flows.AnalyticsQuery{From: BaseTime, To: now}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		a, err := e.Analytics(b.Context(), q)
		if err != nil {
			b.Fatal(err)
		}
		if got := a.Decisions.Decided + a.Decisions.Open; got != BenchAnalyticsTasks {
			b.Fatalf("read %d tasks, want %d", got, BenchAnalyticsTasks)
		}
	}
	b.ReportMetric(float64(BenchAnalyticsTasks)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}
