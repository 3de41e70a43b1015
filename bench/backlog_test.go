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

// metricsServer serves /metrics with the notify queue's depth taken from
// depths, one a read, the last one again once they run out; nil depths
// serve no such series.
func metricsServer(t *testing.T, depths []int64) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, `# TYPE cardflow_queue_depth gauge`)
		fmt.Fprintln(w, `cardflow_queue_depth{topic="kpi.digest"} 7`)
		mu.Lock()
		defer mu.Unlock()
		if len(depths) == 0 {
			return
		}
		fmt.Fprintf(w, "cardflow_queue_depth{topic=\"notify\"} %d\n", depths[0])
		if len(depths) > 1 {
			depths = depths[1:]
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func backlogOf(t *testing.T, srv *httptest.Server, wait time.Duration) Backlog {
	t.Helper()
	r := &runner{opts: Options{URL: srv.URL, DrainWait: wait}, http: srv.Client()}
	return r.backlog(t.Context())
}

// TestBacklog: the notifications queued when the clients stop are read
// from the server's /metrics, and waited for until none is left or the
// wait runs out.
func TestBacklog(t *testing.T) {
	t.Parallel()
	t.Run("drained", func(t *testing.T) {
		t.Parallel()
		b := backlogOf(t, metricsServer(t, []int64{5, 3, 0}), time.Minute)
		require.Equal(t, Backlog{Known: true, AtEnd: 5, Drained: b.Drained}, b)
		require.GreaterOrEqual(t, b.Drained, 2*drainPoll, "two more reads after the first")
		require.Regexp(t, `^5 queued when the clients stopped, all handled \d+\.\ds later$`, b.String())
	})
	t.Run("none queued", func(t *testing.T) {
		t.Parallel()
		b := backlogOf(t, metricsServer(t, []int64{0}), time.Minute)
		require.Equal(t, Backlog{Known: true}, b)
		require.Equal(t, "none queued when the clients stopped", b.String())
	})
	t.Run("not drained in time", func(t *testing.T) {
		t.Parallel()
		b := backlogOf(t, metricsServer(t, []int64{9, 4}), 3*drainPoll)
		require.Equal(t, Backlog{Known: true, AtEnd: 9, Left: 4}, b)
		require.Equal(t, "9 queued when the clients stopped, 4 still queued when bench stopped waiting", b.String())
	})
	t.Run("not waited for", func(t *testing.T) {
		t.Parallel()
		b := backlogOf(t, metricsServer(t, []int64{9, 0}), -1)
		require.Equal(t, Backlog{Known: true, AtEnd: 9, Left: 9}, b)
	})
	t.Run("not reported", func(t *testing.T) {
		t.Parallel()
		b := backlogOf(t, metricsServer(t, nil), time.Minute)
		require.Equal(t, Backlog{}, b)
		require.Equal(t, `not reported by the server (no cardflow_queue_depth{topic="notify"} on /metrics)`, b.String())
	})
}
