package bench_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/app"
	"cardflow/bench"
	"cardflow/config"
)

const token = "bench-test-token-0123456789"

// startServer runs cardflow on the embedded default (SQLite, in-process
// queue) with the example flows and org, and returns its base URL.
func startServer(t *testing.T) string {
	t.Helper()
	cfg := config.Default()
	cfg.Flows.Dir = "../configs/flows"
	cfg.Flows.OrgFile = "../configs/org.example.yaml"
	cfg.Store.SQLitePath = filepath.Join(t.TempDir(), "cardflow.db")
	cfg.Server.APITokens = []config.Secret{token}
	require.NoError(t, cfg.Validate())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- app.Run(ctx, cfg, app.RunOptions{Listener: ln, OnReady: func(app.Ready) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("app.Run failed to start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return "http://" + ln.Addr().String()
}

// TestRunDrivesOrders: a short run against a real server counts its
// approvals, reports latencies for both kinds of request, fails none, and
// agrees with the server's own request counters.
func TestRunDrivesOrders(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	var progress []bench.Progress // OnProgress runs on one goroutine, done before Run returns
	rep, err := bench.Run(t.Context(), bench.Options{URL: url, Token: token, Clients: 4, Duration: 500 * time.Millisecond,
		ProgressEvery: 100 * time.Millisecond, OnProgress: func(p bench.Progress) { progress = append(progress, p) }})
	require.NoError(t, err)
	require.NotEmpty(t, progress, "progress is reported at least once, when the clients are done")
	for i := 1; i < len(progress); i++ {
		require.GreaterOrEqual(t, progress[i].Approvals, progress[i-1].Approvals, "progress only goes forward")
		require.GreaterOrEqual(t, progress[i].Elapsed, progress[i-1].Elapsed)
	}
	last := progress[len(progress)-1]
	require.True(t, last.Done)
	require.Equal(t, 1, countDone(progress), "one call says the clients are done")
	require.Equal(t, rep.Approvals, last.Approvals, "the last progress has the final count")
	require.Zero(t, last.Failed)

	require.Empty(t, rep.Failures)
	require.Positive(t, rep.Approvals)
	require.Positive(t, rep.PerSecond())
	require.Equal(t, "order_fulfilment", rep.Flow)
	require.Equal(t, 4, rep.Clients)
	require.Len(t, rep.Requests, 2)
	for i, kind := range []string{bench.KindStart, bench.KindApprove} {
		k := rep.Requests[i]
		require.Equal(t, kind, k.Kind)
		require.Equal(t, rep.Approvals, k.Count, "every round without a failure made one request of each kind")
		require.Positive(t, k.P50)
		require.LessOrEqual(t, k.P50, k.P90)
		require.LessOrEqual(t, k.P90, k.P99)
		require.LessOrEqual(t, k.P99, k.Max)
	}

	served := requestCounts(t, url)
	require.Equal(t, rep.Approvals, served[`code="201",method="POST",route="/api/v1/instances"`])
	require.Equal(t, rep.Approvals, served[`code="200",method="POST",route="/api/v1/tasks/{id}/decision"`])

	var out strings.Builder
	require.NoError(t, rep.Write(&out))
	require.Contains(t, out.String(), "cardflow bench: order_fulfilment on "+url+", 4 clients, ")
	require.Contains(t, out.String(), "approvals  "+strconv.Itoa(rep.Approvals)+"  (")
	require.Regexp(t, `request +count +p50 +p90 +p99 +max`, out.String())
	require.Regexp(t, `\nstart +\d+ +[\d.]+ms +[\d.]+ms +[\d.]+ms +[\d.]+ms\napprove +\d+ `, out.String())
	require.Contains(t, out.String(), "failures   none")

	// The server's log consumer (no chat platform here) keeps up: what the
	// run queued is handled within the wait.
	require.True(t, rep.Backlog.Known, "the server reports its notification queue")
	require.Zero(t, rep.Backlog.Left)
	require.Contains(t, out.String(), "\nnotifications  ")

	// The server's process collector gives its CPU time: here the test's
	// process, which runs the clients too.
	require.True(t, rep.ServerCPU.Known, "the server reports its CPU time")
	require.Positive(t, rep.ServerCPU.Used)
	require.True(t, rep.ServerCPU.Drained)
	require.Regexp(t, `\nserver CPU     [\d.]+ms per approval \([\d.]+s of the server process's CPU`, out.String())
}

func countDone(ps []bench.Progress) int {
	n := 0
	for _, p := range ps {
		if p.Done {
			n++
		}
	}
	return n
}

// requestCounts reads cardflow_http_requests_total from /metrics, by its
// labels.
func requestCounts(t *testing.T, url string) map[string]int {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		labels, ok := strings.CutPrefix(sc.Text(), "cardflow_http_requests_total{")
		if !ok {
			continue
		}
		labels, value, _ := strings.Cut(labels, "} ")
		n, err := strconv.Atoi(value)
		require.NoError(t, err, sc.Text())
		counts[labels] = n
	}
	require.NoError(t, sc.Err())
	return counts
}

// TestRunAbortsOnRefusal: a token the server refuses fails every request
// alike, so the run stops at once and says why.
func TestRunAbortsOnRefusal(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	rep, err := bench.Run(t.Context(), bench.Options{URL: url, Token: "not-the-servers-token", Clients: 2, Duration: time.Minute})
	require.ErrorIs(t, err, bench.ErrAborted)
	require.ErrorContains(t, err, "bench: aborted: start 401 invalid_token: HTTP 401 invalid_token: ")
	require.Zero(t, rep.Approvals)
	require.NotEmpty(t, rep.Failures)
	require.Equal(t, "start 401 invalid_token", rep.Failures[0].Key)
	require.Less(t, rep.Elapsed, time.Minute, "aborted, not run for the whole duration")
}

// TestRunAbortsWithoutServer: nothing listens at the URL, so the run stops
// before it starts instead of failing every request for the duration.
func TestRunAbortsWithoutServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	rep, err := bench.Run(t.Context(), bench.Options{URL: url, Token: token, Duration: time.Minute})
	require.ErrorIs(t, err, bench.ErrAborted)
	require.ErrorContains(t, err, "bench: aborted: the server does not answer: Get \""+url+"/healthz\": ")
	require.Zero(t, rep.Elapsed)
	require.Empty(t, rep.Failures)
}

func TestRunRefusesBadOptions(t *testing.T) {
	t.Parallel()
	_, err := bench.Run(t.Context(), bench.Options{URL: "127.0.0.1:8080", Clients: -1, Duration: -time.Second, Flow: "payroll"})
	require.EqualError(t, err, `bench: URL must start with http:// or https://, got "127.0.0.1:8080"
bench: a bearer token is required
bench: clients must be at least 1, got -1
bench: duration must be positive, got -1s
bench: no scenario for flow "payroll": use one of order_fulfilment`)
}
