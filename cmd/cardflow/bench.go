package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"cardflow/bench"
)

// benchTokenVar holds the bearer token when --token is not given, so the
// token stays out of the process list.
const benchTokenVar = "CARDFLOW_BENCH_TOKEN"

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", "Drive a running cardflow server over its HTTP API and measure it: each client\n"+
		"starts an order (applicant u_chen, under 5,000, so only finance approves) and approves\n"+
		"its finance task, again and again, for the duration. It prints approvals per second,\n"+
		"p50/p90/p99 per kind of request, how many notifications the server still had queued\n"+
		"when the clients stopped and how long it took to handle them (from its /metrics), the\n"+
		"server process's CPU time per approval (its process_cpu_seconds_total), and every\n"+
		"failure, and exits 1 if any request failed.\n"+
		"The server needs the example org (cardflow demo loads it) and an API token, given by\n"+
		"--token or "+benchTokenVar+".", stderr)
	url := fs.String("url", "http://"+demoAddr, "base URL of the server")
	token := fs.String("token", "", "bearer token the server accepts (default $"+benchTokenVar+")")
	clients := fs.Int("clients", bench.DefaultClients, "concurrent clients, each one request at a time")
	duration := fs.Duration("duration", bench.DefaultDuration, "how long to drive the server")
	flow := fs.String("flow", bench.DefaultFlow, "flow to drive: "+strings.Join(bench.Flows(), ", "))
	drainWait := fs.Duration("drain-wait", bench.DefaultDrainWait,
		"how long to wait, once the clients stop, for the server's queued notifications (negative: do not wait)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *token == "" {
		*token = os.Getenv(benchTokenVar)
	}
	var last bench.Progress
	opts := bench.Options{URL: *url, Token: *token, Clients: *clients, Duration: *duration, Flow: *flow, DrainWait: *drainWait,
		OnProgress: func(p bench.Progress) {
			fmt.Fprintln(stderr, benchProgressLine(last, p))
			last = p
		}}
	fmt.Fprintf(stderr, "cardflow bench: driving %s on %s with %d clients for %s\n", *flow, *url, *clients, *duration)
	rep, err := bench.Run(ctx, opts)
	if err != nil && !errors.Is(err, bench.ErrAborted) {
		fmt.Fprintf(stderr, "cardflow bench: %v\n", err)
		return 2
	}
	if rep.Elapsed > 0 { // it ran, if only until an abort
		if werr := rep.Write(stdout); werr != nil {
			fmt.Fprintf(stderr, "cardflow bench: %v\n", werr)
			return 1
		}
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "cardflow bench: %v\n", err)
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "cardflow bench: interrupted")
	case rep.Failed() > 0:
		fmt.Fprintf(stderr, "cardflow bench: %d requests failed\n", rep.Failed())
	case rep.Approvals == 0:
		fmt.Fprintln(stderr, "cardflow bench: no order went through in the time given")
	default:
		return 0
	}
	return 1
}

// benchProgressLine says how far a run is at cur, with the rate since prev
// (the line before): what the server does now, not the average so far.
// The last line, when the clients are done, gives the average instead: the
// moments since the line before say nothing.
func benchProgressLine(prev, cur bench.Progress) string {
	since, what := prev, "now"
	if cur.Done {
		since, what = bench.Progress{}, "on average"
	}
	rate := 0
	if dt := (cur.Elapsed - since.Elapsed).Seconds(); dt > 0 {
		rate = int(float64(cur.Approvals-since.Approvals) / dt)
	}
	return fmt.Sprintf("cardflow bench: %5s  %s approvals, %s/s %s, %s failed", cur.Elapsed.Round(time.Second),
		group(cur.Approvals), group(rate), what, group(cur.Failed))
}
