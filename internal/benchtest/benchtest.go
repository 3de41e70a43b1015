// Package benchtest holds what cardflow's end-to-end benchmarks share:
// concurrent clients that time each call, and latency percentiles
// reported as benchmark metrics.
package benchtest

import (
	"math"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// Clients calls do for 0…n-1 from clients goroutines, each taking the next
// index, and returns each call's latency; the first error fails b.
func Clients(b testing.TB, clients, n int, do func(i int) error) []time.Duration {
	b.Helper()
	return drive(b, clients, n, func(int) time.Time { return time.Now() }, do)
}

// Paced calls do for 0…n-1 at a steady rate, call i due rate·i after the
// start, from at most clients goroutines at once, and returns each call's
// latency measured from when it was due, not from when a free client
// took it: while every client is busy the calls that wait are late, and
// the wait counts (no coordinated omission). It also returns the time
// from the first call's due time to the last answer. The first error
// fails b.
func Paced(b testing.TB, clients, n int, rate float64, do func(i int) error) ([]time.Duration, time.Duration) {
	b.Helper()
	if rate <= 0 {
		b.Fatalf("benchtest: a paced run needs a positive rate, not %v", rate)
	}
	every := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	lat := drive(b, clients, n, func(i int) time.Time { return start.Add(time.Duration(i) * every) }, do)
	return lat, time.Since(start)
}

// drive calls do for 0…n-1 from clients goroutines, each taking the next
// index and waiting until it is due; a call's latency runs from its due
// time to its return.
func drive(b testing.TB, clients, n int, due func(i int) time.Time, do func(i int) error) []time.Duration {
	b.Helper()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var g errgroup.Group
	for range clients {
		g.Go(func() error {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				t0 := due(i)
				if wait := time.Until(t0); wait > 0 {
					time.Sleep(wait)
				}
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

// Pace reads CARDFLOW_BENCH_PACE, the calls a second a benchmark offers
// when it runs paced: 0 when unset (the benchmark's clients then call as
// fast as they are answered).
func Pace(b testing.TB) float64 {
	b.Helper()
	return float64(Count(b, "CARDFLOW_BENCH_PACE", 0))
}

// Count reads a positive whole number from the environment variable name,
// or def when it is unset; any other value fails b.
func Count(b testing.TB, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive whole number", name, v)
	}
	return n
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
