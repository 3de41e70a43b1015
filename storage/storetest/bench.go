package storetest

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/flows"
)

// BenchConcurrency is how many goroutines BenchApplyClaimTask runs at least
// (exactly, when GOMAXPROCS divides it), the
// number of concurrent deciders DESIGN's targets are stated for.
const BenchConcurrency = 16

// BenchApplyClaimTask measures the flow transition of BENCH.md's pgbench
// script as one Apply: record an idempotency key, bump the instance's
// version under the optimistic check, claim a pooled task (open → open with
// an assignee, guarded by its status), write an audit row and an outbox
// message. BenchConcurrency goroutines each drive their own instance, so
// every Apply succeeds and the figure is the store's commit throughput.
func BenchApplyClaimTask(b *testing.B, s flows.Store) { BenchApplyClaimTaskObserved(b, s, nil) }

// BenchApplyClaimTaskObserved is BenchApplyClaimTask calling committed, when
// not nil, with each outbox message's key right after its Apply returned:
// the moment the message became visible to the outbox relay.
func BenchApplyClaimTaskObserved(b *testing.B, s flows.Store, committed func(outboxKey string)) {
	ctx := b.Context()
	// RunParallel starts parallelism×GOMAXPROCS goroutines: at least
	// BenchConcurrency, each with an instance of its own.
	procs := runtime.GOMAXPROCS(0)
	parallelism := (BenchConcurrency + procs - 1) / procs
	goroutines := parallelism * procs
	for w := range goroutines {
		id := fmt.Sprintf("bench-%02d", w)
		if _, err := s.Apply(ctx, StartChange(NewInstance(id), NewTask(id, id+"-t", ""))); err != nil {
			b.Fatalf("seed %s: %v", id, err)
		}
	}
	var workers atomic.Int64
	var keys atomic.Int64
	payload := json.RawMessage(`{"card": "task_claimed", "platform": "feishu"}`)

	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := fmt.Sprintf("bench-%02d", workers.Add(1)-1)
		inst := NewInstance(id)
		inst.Version = 1
		for pb.Next() {
			n := keys.Add(1)
			user := fmt.Sprintf("u-%d", n%50)
			inst.UpdatedAt = BaseTime.Add(time.Duration(n) * time.Millisecond)
			c := flows.Change{
				IdempotencyKey: fmt.Sprintf("bench:%d", n),
				Result:         json.RawMessage(`{"ok": true}`),
				Instance:       &inst,
				ExpectVersion:  inst.Version,
				TaskUpdates: []flows.TaskUpdate{{ID: id + "-t", From: flows.TaskOpen, Status: flows.TaskOpen,
					Assignee: user}},
				Audit: []flows.AuditEntry{{InstanceID: id, TaskID: id + "-t", Actor: user, Action: "claim",
					At: inst.UpdatedAt}},
				Outbox: []flows.OutboxMessage{{Key: fmt.Sprintf("%s/%d", id, n), InstanceID: id, Topic: "notify",
					Payload: payload, CreatedAt: inst.UpdatedAt}},
			}
			a, err := s.Apply(ctx, c)
			if err != nil {
				b.Errorf("apply %s v%d: %v", id, inst.Version, err)
				return
			}
			inst.Version = a.InstanceVersion
			if committed != nil {
				committed(c.Outbox[0].Key)
			}
		}
	})
}
