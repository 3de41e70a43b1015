package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Report is what a run measured.
type Report struct {
	// URL, Flow and Clients repeat what was driven.
	URL     string
	Flow    string
	Clients int
	// Elapsed runs from the first request to the end of the last round.
	Elapsed time.Duration
	// Approvals counts rounds that went through: an instance started and
	// its task approved.
	Approvals int
	// Requests are the answered requests of each kind, in round order.
	Requests []KindStats
	// Failures counts failed requests by kind and answer, such as
	// "start 503 unavailable" or "approve error" (no answer), with the
	// first message of each.
	Failures []FailureStats
	// Backlog is the notifications the server had yet to handle when the
	// clients stopped, and how long it took to handle them.
	Backlog Backlog
	// ServerCPU is the CPU time the server process spent on the run.
	ServerCPU ServerCPU
}

// KindStats are the latencies of one kind of request, answered or not
// (failed ones count too, when the server answered them).
type KindStats struct {
	Kind               string
	Count              int
	P50, P90, P99, Max time.Duration
}

// FailureStats counts one kind of failure.
type FailureStats struct {
	Key   string // kind, status and error code: "start 401 unauthorized"
	Count int
	First string // the first failure's message
}

// PerSecond is approvals per second of the run.
func (r Report) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Approvals) / r.Elapsed.Seconds()
}

// Failed counts the failed requests.
func (r Report) Failed() int {
	n := 0
	for _, f := range r.Failures {
		n += f.Count
	}
	return n
}

// report builds the Report once every client has stopped.
func (r *runner) report(elapsed time.Duration) Report {
	rep := Report{URL: r.opts.URL, Flow: r.opts.Flow, Clients: r.opts.Clients, Elapsed: elapsed, Approvals: r.approvals}
	for _, kind := range []string{KindStart, KindApprove} {
		if ds := r.timing[kind]; len(ds) > 0 {
			rep.Requests = append(rep.Requests, stats(kind, ds))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(r.fails)) {
		f := r.fails[key]
		rep.Failures = append(rep.Failures, FailureStats{Key: key, Count: f.count, First: f.first})
	}
	return rep
}

// stats sorts ds and takes its percentiles by nearest rank.
func stats(kind string, ds []time.Duration) KindStats {
	slices.Sort(ds)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(ds))+0.999999) - 1
		return ds[min(max(i, 0), len(ds)-1)]
	}
	return KindStats{Kind: kind, Count: len(ds), P50: rank(0.50), P90: rank(0.90), P99: rank(0.99), Max: ds[len(ds)-1]}
}

// Write prints the report for people.
func (r Report) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "cardflow bench: %s on %s, %d clients, %s\n\n", r.Flow, r.URL, r.Clients, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "approvals  %d  (%.1f/s)\n\n", r.Approvals, r.PerSecond())
	const row = "%-8s %8s %10s %10s %10s %10s\n"
	fmt.Fprintf(&b, row, "request", "count", "p50", "p90", "p99", "max")
	for _, k := range r.Requests {
		fmt.Fprintf(&b, row, k.Kind, strconv.Itoa(k.Count), ms(k.P50), ms(k.P90), ms(k.P99), ms(k.Max))
	}
	fmt.Fprintf(&b, "\nnotifications  %s\n", r.Backlog)
	fmt.Fprintf(&b, "server CPU     %s\n", r.cpuLine())
	if len(r.Failures) == 0 {
		b.WriteString("\nfailures   none\n")
	} else {
		fmt.Fprintf(&b, "\nfailures   %d\n", r.Failed())
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "  %-28s %6d  first: %s\n", f.Key, f.Count, f.First)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ms prints a latency in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
