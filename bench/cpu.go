package bench

import (
	"context"
	"fmt"
	"time"
)

// cpuSeries is the server process's CPU time on /metrics, as the
// Prometheus process collector reports it.
const cpuSeries = "process_cpu_seconds_total"

// ServerCPU is the CPU time the server process spent from the first
// request until the notifications the run queued were handled (or bench
// stopped waiting for them): what an approval costs the server, less
// moved by how fast the machine was that minute than approvals a second
// are. A database or Redis in other processes is not counted.
type ServerCPU struct {
	// Known says whether the server reported its CPU time; the rest is
	// zero when it did not.
	Known bool
	// Used is the CPU time over the run; Drained says whether the window
	// ended with the backlog handled, so that all the run's work is in it.
	Used    time.Duration
	Drained bool
}

// cpuTime reads the server's CPU time so far.
func (r *runner) cpuTime(ctx context.Context) (time.Duration, bool) {
	s, ok := r.metric(ctx, cpuSeries)
	if !ok || s < 0 {
		return 0, false
	}
	return time.Duration(s * float64(time.Second)), true
}

// serverCPU is the CPU time the server spent since it was at start.
func (r *runner) serverCPU(ctx context.Context, start time.Duration, known bool, b Backlog) ServerCPU {
	end, ok := r.cpuTime(ctx)
	if !known || !ok || end < start {
		return ServerCPU{}
	}
	return ServerCPU{Known: true, Used: end - start, Drained: b.Known && b.Left == 0}
}

// CPUPerApproval is the server's CPU time per approval of the run, when the
// server reported it and an approval went through.
func (r Report) CPUPerApproval() (time.Duration, bool) {
	if !r.ServerCPU.Known || r.Approvals == 0 {
		return 0, false
	}
	return r.ServerCPU.Used / time.Duration(r.Approvals), true
}

// cpuLine says the server's CPU per approval for people.
func (r Report) cpuLine() string {
	per, ok := r.CPUPerApproval()
	switch {
	case !r.ServerCPU.Known:
		return "not reported by the server (no " + cpuSeries + " on /metrics)"
	case !ok:
		return "no approval to divide by"
	}
	until := "until the queued notifications were handled"
	if !r.ServerCPU.Drained {
		until = "until bench stopped (it saw no empty notification queue): work still queued then is not in it"
	}
	return fmt.Sprintf("%.3fms per approval (%.2fs of the server process's CPU, from the first request %s)",
		float64(per)/float64(time.Millisecond), r.ServerCPU.Used.Seconds(), until)
}
