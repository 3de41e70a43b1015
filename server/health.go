package server

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// readyTimeout is how long /readyz waits for each dependency: a load
// balancer's probe must get an answer even when a dependency hangs.
const readyTimeout = time.Second

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyReport is /readyz's body.
type readyReport struct {
	Status string                 `json:"status"` // "ok" or "unavailable"
	Checks map[string]checkResult `json:"checks"`
}

type checkResult struct {
	Status string `json:"status"` // "ok" or "failed"
	Error  string `json:"error,omitempty"`
}

// readyz pings every check at once and answers 200 when all answer within
// readyTimeout, else 503 naming each failure. Errors are scrubbed of the
// configured secrets, since driver errors may quote a connection string.
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

	report := readyReport{Status: "ok", Checks: map[string]checkResult{}}
wait:
	for range s.checks {
		select {
		case o := <-done:
			report.add(o.name, o.err, s.scrub)
		case <-ctx.Done():
			break wait // whoever has not answered by now failed: see below
		}
	}
	for name := range s.checks {
		if _, answered := report.Checks[name]; !answered {
			report.add(name, fmt.Errorf("no answer within %s", readyTimeout), s.scrub)
		}
	}

	status := http.StatusOK
	if report.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, status, report)
}

func (rr *readyReport) add(name string, err error, scrub func(string) string) {
	if err == nil {
		rr.Checks[name] = checkResult{Status: "ok"}
		return
	}
	rr.Status = "unavailable"
	rr.Checks[name] = checkResult{Status: "failed", Error: scrub(err.Error())}
}
