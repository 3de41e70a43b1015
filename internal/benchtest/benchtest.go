// Package benchtest holds what cardflow's end-to-end benchmarks share:
// concurrent clients that time each call, and latency percentiles
// reported as benchmark metrics.
package benchtest

import (
	"math"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// Clients calls do for 0…n-1 from clients goroutines, each taking the next
// index, and returns each call's latency; the first error fails b.
func Clients(b testing.TB, clients, n int, do func(i int) error) []time.Duration {
	b.Helper()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var g errgroup.Group
	for range clients {
		g.Go(func() error {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				t0 := time.Now()
				if err := do(i); err != nil {
					return err
				}
				lat[i] = time.Since(t0)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	return lat
}

// ReportLatency reports the median and 99th percentile (nearest rank) of d
// in milliseconds, as <prefix>-p50-ms and <prefix>-p99-ms (p50-ms and
// p99-ms without a prefix). It sorts d.
func ReportLatency(b *testing.B, prefix string, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	if prefix != "" {
		prefix += "-"
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		i := max(int(math.Ceil(q*float64(len(d))))-1, 0)
		return float64(d[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), prefix+"p50-ms")
	b.ReportMetric(at(0.99), prefix+"p99-ms")
}
