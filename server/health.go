package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"
)

// readyTimeout is how long /readyz waits for each dependency: a load
// balancer's probe must get an answer even when a dependency hangs.
const readyTimeout = time.Second

// readyLogEvery is how often a check that keeps failing is logged again:
// load balancers poll /readyz every second or so, and one line a poll would
// bury everything else in the log.
const readyLogEvery = time.Minute

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyReport is /readyz's body. It names the failed dependencies and
// nothing else: the endpoint is unauthenticated, and a driver's error names
// hosts, ports, databases and users. The errors go to the log.
type readyReport struct {
	Status string   `json:"status"` // "ok" or "unavailable"
	Failed []string `json:"failed,omitempty"`
}

// readyz pings every check at once and answers 200 when all answer within
// readyTimeout, else 503 naming the checks that failed. Why they failed is
// logged (see readyLog).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()

	type outcome struct {
		name string
		err  error
	}
	// Buffered, so a Pinger that ignores ctx and answers late does not leak
	// a blocked goroutine.
	done := make(chan outcome, len(s.checks))
	for name, p := range s.checks {
		go func() { done <- outcome{name, p.Ping(ctx)} }()
	}

	results := map[string]error{}
wait:
	for range s.checks {
		select {
		case o := <-done:
			results[o.name] = o.err
		case <-ctx.Done():
			break wait // whoever has not answered by now failed: see below
		}
	}
	report := readyReport{Status: "ok"}
	for name := range s.checks {
		err, answered := results[name]
		if !answered {
			err = fmt.Errorf("no answer within %s", readyTimeout)
		}
		s.ready.record(name, err, s.scrub)
		if err != nil {
			report.Status = "unavailable"
			report.Failed = append(report.Failed, name)
		}
	}
	slices.Sort(report.Failed)

	status := http.StatusOK
	if report.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, status, report)
}

// readyLog logs the readiness checks' failures: a check's first failure at
// once, the same check still failing at most once per readyLogEvery (with
// how many failures were not logged), and its recovery.
type readyLog struct {
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	checks map[string]*checkLog
}

// checkLog is what readyLog remembers of one failing check.
type checkLog struct {
	logged     time.Time // when its failure was last logged
	suppressed int       // failures since then, not logged
}

func newReadyLog(log *slog.Logger, now func() time.Time) *readyLog {
	return &readyLog{log: log, now: now, checks: map[string]*checkLog{}}
}

// record notes one check's outcome; err is nil when it passed.
func (l *readyLog) record(name string, err error, scrub func(string) string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, failing := l.checks[name]
	if err == nil {
		if failing {
			delete(l.checks, name)
			l.log.Info("readiness check recovered", "check", name)
		}
		return
	}
	now := l.now()
	if failing && now.Sub(c.logged) < readyLogEvery {
		c.suppressed++
		return
	}
	attrs := []any{"check", name, "err", scrub(err.Error())}
	if failing {
		attrs = append(attrs, "failures_not_logged", c.suppressed)
	}
	l.log.Warn("readiness check failed", attrs...)
	l.checks[name] = &checkLog{logged: now}
}
