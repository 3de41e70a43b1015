package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// backlogOf reads the backlog from a server whose queue depth reads depths
// one after the other, then the last again, with DrainWait wait.
func backlogOf(t *testing.T, depths []string, wait time.Duration) Backlog {
	t.Helper()
	r := fakeMetrics(t, depthSeries, depths, true)
	r.opts.DrainWait = wait
	return r.backlog(t.Context())
}

// TestBacklog: the notifications queued when the clients stop are read
// from the server's /metrics, and waited for until none is left or the
// wait runs out.
func TestBacklog(t *testing.T) {
	t.Parallel()
	t.Run("drained", func(t *testing.T) {
		t.Parallel()
		b := backlogOf(t, []string{"5", "3", "0"}, time.Minute)
		require.Equal(t, Backlog{Known: true, AtEnd: 5, Drained: b.Drained}, b)
		require.GreaterOrEqual(t, b.Drained, 2*drainPoll, "two more reads after the first")
		require.Regexp(t, `^5 queued when the clients stopped, all handled \d+\.\ds later$`, b.String())
	})
	t.Run("none queued", func(t *testing.T) {
		t.Parallel()
		b := backlogOf(t, []string{"0"}, time.Minute)
		require.Equal(t, Backlog{Known: true}, b)
		require.Equal(t, "none queued when the clients stopped", b.String())
	})
	t.Run("not drained in time", func(t *testing.T) {
		t.Parallel()
		b := backlogOf(t, []string{"9", "4"}, 3*drainPoll)
		require.Equal(t, Backlog{Known: true, AtEnd: 9, Left: 4}, b)
		require.Equal(t, "9 queued when the clients stopped, 4 still queued when bench stopped waiting", b.String())
	})
	t.Run("not waited for", func(t *testing.T) {
		t.Parallel()
		b := backlogOf(t, []string{"9", "0"}, -1)
		require.Equal(t, Backlog{Known: true, AtEnd: 9, Left: 9}, b)
	})
	t.Run("not reported", func(t *testing.T) {
		t.Parallel()
		b := backlogOf(t, nil, time.Minute)
		require.Equal(t, Backlog{}, b)
		require.Equal(t, `not reported by the server (no cardflow_queue_depth{topic="notify"} on /metrics)`, b.String())
	})
}
