package flows

import (
	"fmt"
	"time"
)

// Kinds of the SLA timers the engine writes when a step with sla and
// on_timeout starts. The timer worker (a later part of the engine) claims
// them with Store.ClaimTimers; the engine cancels them when the step ends.
const (
	TimerRemind     = "remind"      // remind the open assignees, then every Every
	TimerEscalate   = "escalate"    // transfer the open tasks to on_timeout.escalate_to
	TimerAutoAction = "auto_action" // decide the open tasks with on_timeout.auto_action
)

// TimerPayload is the JSON payload of an SLA timer: which run of which step
// it belongs to. Activation identifies the run, so a timer of a step that
// was returned to and started again never acts on the new run.
type TimerPayload struct {
	Step       string `json:"step"`
	Activation int    `json:"activation"`
	// Every is how often a reminder repeats (remind timers), Sent how many
	// reminders this run of the step sent and Max the cap (0: none).
	Every string `json:"every,omitempty"`
	Sent  int    `json:"sent,omitempty"`
	Max   int    `json:"max,omitempty"`
	// Action is the decision an auto_action timer takes.
	Action AutoAction `json:"action,omitempty"`
}

// TimerID is the deterministic id of an SLA timer of one run of a step:
// "<instance>/a<activation>/<kind>". Writing the same timer again replaces
// it, which is how a repeating reminder is rescheduled.
func TimerID(instanceID string, activation int, kind string) string {
	return fmt.Sprintf("%s/a%d/%s", instanceID, activation, kind)
}

// schedule writes the SLA timers of a step that just started. Every
// on_timeout duration counts from the SLA deadline; the first reminder is
// due at the deadline itself.
func (r *run) schedule(a *activation, s *Step) {
	t := s.OnTimeout
	if s.SLA <= 0 || t == nil {
		return
	}
	deadline := a.Since.Add(r.e.sla(s.SLA))
	add := func(kind string, due time.Time, p TimerPayload) {
		p.Step, p.Activation = s.ID, a.N
		raw, _ := marshal(p) // a struct of strings and ints always encodes
		id := TimerID(r.inst.ID, a.N, kind)
		r.timers = append(r.timers, Timer{ID: id, InstanceID: r.inst.ID, Kind: kind, DueAt: due, Payload: raw})
		a.Timers = append(a.Timers, id)
	}
	if t.RemindEvery > 0 {
		add(TimerRemind, deadline, TimerPayload{Every: FormatDuration(r.e.sla(t.RemindEvery)), Max: t.RemindMax})
	}
	if len(t.EscalateTo) > 0 {
		add(TimerEscalate, deadline.Add(r.e.sla(t.EscalateAfter)), TimerPayload{})
	}
	if t.AutoAction != "" {
		add(TimerAutoAction, deadline.Add(r.e.sla(t.AutoActionAfter)), TimerPayload{Action: t.AutoAction})
	}
}
