package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot/sim"
	"cardflow/config"
)

// BenchmarkDigest sends one digest run to a role of 5,000 managers
// (CARDFLOW_BENCH_RECIPIENTS) on PostgreSQL and Redis, through the queue
// and the delivery pipeline to the simulator: figures computed once for the
// run, each card rendered for its reader with the chart's signed URL, each
// copy claimed and recorded. It reports the seconds from publishing the run
// to the last card (BENCH.md's target: < 10 s for 5,000).
//
//	go test ./app -run '^$' -bench Digest -benchtime 1x -count 3
func BenchmarkDigest(b *testing.B) {
	n := 5000
	if v := os.Getenv("CARDFLOW_BENCH_RECIPIENTS"); v != "" {
		_, err := fmt.Sscan(v, &n)
		require.NoError(b, err)
	}
	dir := b.TempDir()
	org := filepath.Join(dir, "org.yaml")
	example, err := os.ReadFile("../configs/org.example.yaml")
	require.NoError(b, err)
	require.NoError(b, os.WriteFile(org, []byte(benchOrg(string(example), n)), 0o600))
	kpis := filepath.Join(dir, "kpis.yaml")
	require.NoError(b, os.WriteFile(kpis, []byte(`kpis:
  - {name: sales, label: 销售额, label_en: Sales, measure: sales}
  - {name: orders, label: 订单数, label_en: Orders, measure: orders}
  - {name: aov, label: 客单价, label_en: Average order value, measure: aov}
  - {name: refund_rate, label: 退款率, label_en: Refund rate, measure: refund_rate}
digests:
  - {name: bench, cron: "0 9 1 1 *", to: ["role:bench"], kpis: [sales, orders, aov, refund_rate], chart: sales}
`), 0o600))
	c := startChatWith(b, nil, func(cfg *config.Config) {
		cfg.Flows.OrgFile = org
		cfg.KPI.File = kpis
	})
	b.ResetTimer()
	for i := range b.N {
		got := watchDigests(c.sim, n)
		start := time.Now()
		require.NoError(b, c.ready.SendDigest(b.Context(), "bench"))
		select {
		case <-got.done:
		case <-time.After(5 * time.Minute):
			b.Fatalf("%d of %d digests after 5 minutes", got.count(), n)
		}
		elapsed := time.Since(start)
		b.ReportMetric(elapsed.Seconds(), "s/run")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "cards/s")
		b.Logf("%d recipients: %.2f s (%.0f cards/s)", n, elapsed.Seconds(), float64(n)/elapsed.Seconds())
		if i+1 < b.N {
			// The next run must be another second: a run is named by its time.
			time.Sleep(time.Until(start.Truncate(time.Second).Add(time.Second)))
		}
	}
}

// benchOrg is the example org with n managers more, holding the role
// bench, each on the simulator.
func benchOrg(example string, n int) string {
	var users strings.Builder
	for i := range n {
		fmt.Fprintf(&users, "  - {id: u_m%d, name: 经理%d, department: hq, roles: [bench], platform_ids: {sim: m%d}}\n", i, i, i)
	}
	example = strings.Replace(example, "\nroles:\n", "\nroles:\n  - {id: bench, name: 经理}\n", 1)
	return strings.Replace(example, "\nusers:\n", "\nusers:\n"+users.String(), 1)
}

// digestLog counts the readers a digest was sent to.
type digestLog struct {
	mu   sync.Mutex
	to   map[string]bool
	want int
	done chan struct{}
}

func (l *digestLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.to)
}

func watchDigests(p *sim.Platform, want int) *digestLog {
	l := &digestLog{to: map[string]bool{}, want: want, done: make(chan struct{})}
	p.FailWith(func(c sim.Call) error {
		if c.Op != sim.OpSend || !strings.HasPrefix(c.Card.Subject, "digest/") || c.Card.Image == nil {
			return nil
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.to[c.To.UserID] {
			l.to[c.To.UserID] = true
			if len(l.to) == l.want {
				close(l.done)
			}
		}
		return nil
	})
	return l
}
