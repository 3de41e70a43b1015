package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultDrainWait is how long Run waits, after its clients stop, for the
// server's notification queue to empty (Options.DrainWait).
const DefaultDrainWait = time.Minute

// drainPoll is how often Run reads the server's queue depth while it
// waits for the queue to empty.
const drainPoll = 100 * time.Millisecond

// depthSeries is the series of /metrics that counts the notifications a
// server still has to handle: waiting, delayed for a retry or in flight.
const depthSeries = `cardflow_queue_depth{topic="notify"}`

// Backlog is what the server still had to deliver when the clients
// stopped. A server can answer more requests a second by leaving the cards
// they cause for later; the backlog shows whether it kept up.
type Backlog struct {
	// Known says whether the server reported its notification queue
	// (cardflow_queue_depth on /metrics); the rest is zero when it did not.
	Known bool
	// AtEnd counts the notifications queued when the clients stopped.
	AtEnd int64
	// Drained is how long after that the queue was first seen empty; Left
	// counts what was still queued when DrainWait ran out (then Drained is
	// zero).
	Drained time.Duration
	Left    int64
}

// backlog reads the server's notification queue when the clients have
// stopped, and waits up to DrainWait for it to empty.
func (r *runner) backlog(ctx context.Context) Backlog {
	start := time.Now()
	depth, ok := r.queueDepth(ctx)
	if !ok {
		return Backlog{}
	}
	b := Backlog{Known: true, AtEnd: depth}
	if depth == 0 || r.opts.DrainWait < 0 {
		b.Left = depth
		return b
	}
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	deadline := time.NewTimer(r.opts.DrainWait)
	defer deadline.Stop()
	for {
		select {
		case <-ctx.Done():
			b.Left = depth
			return b
		case <-deadline.C:
			b.Left = depth
			return b
		case <-tick.C:
		}
		if d, ok := r.queueDepth(ctx); ok {
			depth = d
		}
		if depth == 0 {
			b.Drained = time.Since(start)
			return b
		}
	}
}

// queueDepth reads depthSeries from the server's /metrics.
func (r *runner) queueDepth(ctx context.Context) (int64, bool) {
	f, ok := r.metric(ctx, depthSeries)
	if !ok || f < 0 {
		return 0, false
	}
	return int64(f), true
}

// metric reads one series from the server's /metrics: the value on the
// line that is series, a space and a number.
func (r *runner) metric(ctx context.Context, series string) (float64, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(r.opts.URL, "/")+"/metrics", nil)
	if err != nil {
		return 0, false
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		value, ok := strings.CutPrefix(sc.Text(), series+" ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		return f, err == nil
	}
	return 0, false
}

// String says the backlog for people.
func (b Backlog) String() string {
	switch {
	case !b.Known:
		return "not reported by the server (no " + depthSeries + " on /metrics)"
	case b.AtEnd == 0:
		return "none queued when the clients stopped"
	case b.Left > 0:
		return fmt.Sprintf("%d queued when the clients stopped, %d still queued when bench stopped waiting", b.AtEnd, b.Left)
	}
	return fmt.Sprintf("%d queued when the clients stopped, all handled %.1fs later", b.AtEnd, b.Drained.Seconds())
}
