package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cpuServer serves /metrics with the process's CPU seconds taken from
// seconds, one a read; nil serves no such series.
func cpuServer(t *testing.T, seconds []string) *runner {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.")
		fmt.Fprintln(w, "process_cpu_seconds_total_other 99")
		mu.Lock()
		defer mu.Unlock()
		if len(seconds) > 0 {
			fmt.Fprintf(w, "process_cpu_seconds_total %s\n", seconds[0])
			seconds = seconds[1:]
		}
	}))
	t.Cleanup(srv.Close)
	return &runner{opts: Options{URL: srv.URL}, http: srv.Client()}
}

// TestServerCPU: the server's CPU time is read from its /metrics before
// the first request and after the backlog, and divided by the approvals.
func TestServerCPU(t *testing.T) {
	t.Parallel()
	drained := Backlog{Known: true, AtEnd: 3}
	t.Run("measured", func(t *testing.T) {
		t.Parallel()
		r := cpuServer(t, []string{"10.5", "12.75"})
		start, ok := r.cpuTime(t.Context())
		require.True(t, ok)
		rep := Report{Approvals: 1500, ServerCPU: r.serverCPU(t.Context(), start, ok, drained)}
		require.Equal(t, ServerCPU{Known: true, Used: 2250 * time.Millisecond, Drained: true}, rep.ServerCPU)
		per, ok := rep.CPUPerApproval()
		require.True(t, ok)
		require.Equal(t, 1500*time.Microsecond, per)
		require.Equal(t, "1.500ms per approval (2.25s of the server process's CPU, from the first request "+
			"until the queued notifications were handled)", rep.cpuLine())
	})
	t.Run("backlog not handled", func(t *testing.T) {
		t.Parallel()
		r := cpuServer(t, []string{"1e1", "11"})
		start, ok := r.cpuTime(t.Context())
		rep := Report{Approvals: 100, ServerCPU: r.serverCPU(t.Context(), start, ok, Backlog{Known: true, AtEnd: 9, Left: 4})}
		require.Equal(t, ServerCPU{Known: true, Used: time.Second}, rep.ServerCPU)
		require.Contains(t, rep.cpuLine(), "10.000ms per approval")
		require.Contains(t, rep.cpuLine(), "the notifications still queued are not in it")
	})
	t.Run("not reported", func(t *testing.T) {
		t.Parallel()
		r := cpuServer(t, nil)
		start, ok := r.cpuTime(t.Context())
		require.False(t, ok)
		rep := Report{Approvals: 100, ServerCPU: r.serverCPU(t.Context(), start, ok, drained)}
		require.Equal(t, ServerCPU{}, rep.ServerCPU)
		_, ok = rep.CPUPerApproval()
		require.False(t, ok)
		require.Equal(t, "not reported by the server (no process_cpu_seconds_total on /metrics)", rep.cpuLine())
	})
	t.Run("gone at the end", func(t *testing.T) {
		t.Parallel()
		r := cpuServer(t, []string{"5"})
		start, ok := r.cpuTime(t.Context())
		require.True(t, ok)
		require.Equal(t, ServerCPU{}, r.serverCPU(t.Context(), start, ok, drained))
	})
	t.Run("no approval", func(t *testing.T) {
		t.Parallel()
		rep := Report{ServerCPU: ServerCPU{Known: true, Used: time.Second, Drained: true}}
		require.Equal(t, "no approval to divide by", rep.cpuLine())
	})
}
