package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// fakeMetrics returns a runner for a server whose /metrics serves series
// with values, one a read, after lines a reader of it must pass over (its
// comment, longer names, another label). Once the values run out the last
// one is served again when keepLast, the series no more otherwise; no
// values serve no such series.
func fakeMetrics(t *testing.T, series string, values []string, keepLast bool) *runner {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.")
		fmt.Fprintln(w, "process_cpu_seconds_total_other 99")
		fmt.Fprintln(w, `cardflow_queue_depth{topic="kpi.digest"} 7`)
		mu.Lock()
		defer mu.Unlock()
		if len(values) == 0 {
			return
		}
		fmt.Fprintf(w, "%s %s\n", series, values[0])
		if len(values) > 1 || !keepLast {
			values = values[1:]
		}
	}))
	t.Cleanup(srv.Close)
	return &runner{opts: Options{URL: srv.URL}, http: srv.Client()}
}
