package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServerCPU: the server's CPU time is read from its /metrics before
// the first request and after the backlog, and divided by the approvals.
func TestServerCPU(t *testing.T) {
	t.Parallel()
	drained := Backlog{Known: true, AtEnd: 3}
	t.Run("measured", func(t *testing.T) {
		t.Parallel()
		r := fakeMetrics(t, cpuSeries, []string{"10.5", "12.75"}, false)
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
		r := fakeMetrics(t, cpuSeries, []string{"1e1", "11"}, false)
		start, ok := r.cpuTime(t.Context())
		rep := Report{Approvals: 100, ServerCPU: r.serverCPU(t.Context(), start, ok, Backlog{Known: true, AtEnd: 9, Left: 4})}
		require.Equal(t, ServerCPU{Known: true, Used: time.Second}, rep.ServerCPU)
		require.Contains(t, rep.cpuLine(), "10.000ms per approval")
		require.Contains(t, rep.cpuLine(), "work still queued then is not in it")
	})
	t.Run("not reported", func(t *testing.T) {
		t.Parallel()
		r := fakeMetrics(t, cpuSeries, nil, false)
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
		r := fakeMetrics(t, cpuSeries, []string{"5"}, false)
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
