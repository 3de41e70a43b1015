package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ForecastRequest asks which steps and people an instance of a flow would
// go through if it were started now (DingTalk's processes/forecast,
// Feishu's flow preview). Its fields mean what StartRequest's do.
type ForecastRequest struct {
	FlowID string
	// Applicant is who would start the instance, a user of the org
	// directory; empty when Event is set.
	Applicant string
	// Event forecasts a start by a trigger event (see StartRequest.Event).
	Event   string
	Form    map[string]any
	Context map[string]any
}

// Forecast is the path an instance would take if started now and every
// approver approved: the steps in the order the engine would enter them.
type Forecast struct {
	FlowID  string         `json:"flow_id"`
	Version int            `json:"version"`
	Steps   []ForecastStep `json:"steps"`
	// Complete reports that the walk reached the flow's end; it is false
	// when a step's condition depends on the result of an earlier step
	// (the last step says which) or the flow waits on an alert step.
	Complete bool `json:"complete"`
	// Outcome is how the instance would end when Complete (approved,
	// completed).
	Outcome InstanceStatus `json:"outcome,omitempty"`
}

// Forecast statuses: what the engine would do at a step.
const (
	// ForecastAsk: the step waits for its people.
	ForecastAsk = "ask"
	// ForecastAuto: every approver the step needs is approved by the
	// flow's auto_skip rules; nobody is asked.
	ForecastAuto = "auto"
	// ForecastNotTaken: the step's when is false; it is skipped.
	ForecastNotTaken = "not_taken"
	// ForecastRouted: a condition step, routed to To.
	ForecastRouted = "routed"
	// ForecastFork: a parallel step whose branches all run.
	ForecastFork = "fork"
	// ForecastNotify: people are told (抄送); nobody has to act.
	ForecastNotify = "notify"
	// ForecastAlert: an alert pages its first on-call level and waits.
	ForecastAlert = "alert"
	// ForecastDepends: the step's condition reads the result of an earlier
	// task step, known only once that step is done; Branches lists where
	// it may go.
	ForecastDepends = "depends"
)

// ForecastStep is one step of a forecast.
type ForecastStep struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Type   StepType `json:"type"`
	Status string   `json:"status"`
	// Sign is an approval step's sign mode (single, any 或签, all 会签,
	// percent:N); Sequential is 依次审批.
	Sign       string `json:"sign,omitempty"`
	Sequential bool   `json:"sequential,omitempty"`
	// Parallel and Branch name the parallel step and branch it runs in.
	Parallel string `json:"parallel,omitempty"`
	Branch   string `json:"branch,omitempty"`
	// When is the step's condition (for a step not taken or depending on
	// a result), WhenText the same with the fields it reads named by their
	// labels (订单金额 > 5000); To is where a condition step routes.
	When     string `json:"when,omitempty"`
	WhenText string `json:"when_text,omitempty"`
	To       string `json:"to,omitempty"`
	// People are who the step goes to (approvers, doers, the notified, an
	// alert's first level), in assignee order.
	People []Person `json:"people,omitempty"`
	// Skipped are approvers the flow's auto_skip approves without asking.
	Skipped []SkippedPerson `json:"skipped,omitempty"`
	// Proxies are leave proxies (代理) in force now for its people.
	Proxies []ProxyActing `json:"proxies,omitempty"`
	// CC are told once the step passed (抄送).
	CC []Person `json:"cc,omitempty"`
	// Fallback is set when the step's rules name nobody and the flow's
	// fallback takes it: the rules that resolved to nobody.
	Fallback string `json:"fallback,omitempty"`
	// DependsOn are the task steps whose results decide a ForecastDepends
	// step; Branches are where a condition may go.
	DependsOn []string         `json:"depends_on,omitempty"`
	Branches  []ForecastBranch `json:"branches,omitempty"`
}

// Person is a user of the org directory, with their display name.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SkippedPerson is an approver approved by the system, and why:
// SkipReasonApplicant or SkipReasonRepeated.
type SkippedPerson struct {
	Person
	Reason string `json:"reason"`
}

// Why auto_skip approves someone, in a forecast.
const (
	SkipReasonApplicant = "applicant"
	SkipReasonRepeated  = "repeated"
)

// ProxyActing is a leave proxy: By may act for For.
type ProxyActing struct {
	By  Person `json:"by"`
	For Person `json:"for"`
}

// ForecastBranch is one way a condition may go: to To when When holds,
// or when no earlier branch held (Else).
type ForecastBranch struct {
	When     string `json:"when,omitempty"`
	WhenText string `json:"when_text,omitempty"`
	Else     bool   `json:"else,omitempty"`
	To       string `json:"to"`
	// ToName is the target step's name; "" for End.
	ToName string `json:"to_name,omitempty"`
}

// Forecast answers which steps and people an instance of the flow would go
// through if req started it now, without starting it: nothing is written
// (no instance, task, audit row, outbox message, timer or idempotency
// key). The request is checked as Start checks it, with the same errors
// (a *FormError for an invalid form). The path is the engine's own: the
// start is built as Start builds it, then every step that waits for people
// is decided in favour by its first open assignee in order (one approval
// passes a 或签 step, every one a 会签 step), so conditions, auto_skip,
// fallbacks and parallel joins are the engine's decisions, not a copy of
// them. The walk stops at a condition that reads a result not known yet
// and at an alert step.
func (e *Engine) Forecast(ctx context.Context, req ForecastRequest) (Forecast, error) {
	start := StartRequest{Actor: req.Applicant, Event: req.Event, FlowID: req.FlowID, Form: req.Form, Context: req.Context}
	if err := checkRequest(start); err != nil {
		return Forecast{}, fmt.Errorf("flows: forecast: %w", err)
	}
	fc, err := e.forecast(ctx, start)
	if err != nil {
		return Forecast{}, &OpError{Op: "forecast", Target: req.FlowID, Err: err}
	}
	return fc, nil
}

// forecastID names the instance a forecast walks; it is never stored.
const forecastID = "forecast"

func (e *Engine) forecast(ctx context.Context, req StartRequest) (Forecast, error) {
	r, err := e.startRun(ctx, req, func() string { return forecastID })
	if err != nil {
		return Forecast{}, err
	}
	r.forecast = true
	err = r.enter(r.f.Steps[0])
	for err == nil && r.inst.Status == InstanceRunning {
		var more bool
		if more, err = r.approveNext(); !more {
			break
		}
	}
	var pending *pendingResult
	if err != nil && !errors.As(err, &pending) {
		return Forecast{}, err
	}
	fc := Forecast{FlowID: r.f.ID, Version: r.inst.FlowVersion, Complete: pending == nil && r.inst.Status != InstanceRunning}
	if fc.Complete {
		fc.Outcome = r.inst.Status
	}
	if fc.Steps, err = r.forecastSteps(); err != nil {
		return Forecast{}, err
	}
	if pending != nil {
		fc.Steps = append(fc.Steps, r.forecastStep(pending.step, ForecastDepends))
		last := &fc.Steps[len(fc.Steps)-1]
		last.DependsOn, last.Branches = pending.on, r.f.branches(pending.step)
	}
	return fc, nil
}

// approveNext decides the first open seat of the first running step in
// favour, as its holder, through the engine's own decision path; more is
// false when nothing is waiting for people any more (or only an alert).
func (r *run) approveNext() (more bool, err error) {
	for _, a := range r.st.Active {
		s := r.f.Step(a.Step)
		if s == nil || (s.Type != StepApproval && s.Type != StepTask) {
			return false, nil
		}
		i := slices.IndexFunc(a.Seats, func(st *seat) bool { return st.Status == TaskOpen && st.Delegate == nil })
		if i < 0 {
			continue
		}
		r.hops++
		if r.hops > maxHops {
			return false, fmt.Errorf("step %s: passed %d steps; the flow loops", s.ID, maxHops)
		}
		status, outcome := TaskApproved, "approve"
		if s.Type == StepTask {
			status, outcome = TaskDone, "done"
		}
		r.actor, r.onBehalfOf = a.Seats[i].User, ""
		return true, r.decided(&taskCtx{r: r, a: a, seat: a.Seats[i], step: s}, status, outcome, "", nil, nil)
	}
	return false, nil
}

// pendingResult stops a forecast at a step whose condition reads results
// no step has produced yet.
type pendingResult struct {
	step *Step
	on   []string
}

func (p *pendingResult) Error() string {
	return fmt.Sprintf("step %s depends on the result of %s", p.step.ID, strings.Join(p.on, ", "))
}

// readsResults returns the task steps whose results the step's conditions
// read, in file order.
func (s *Step) readsResults() []string {
	var out []string
	add := func(c *Cond) {
		if c == nil {
			return
		}
		for _, id := range c.results {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	add(s.When)
	for _, c := range s.Cases {
		add(c.When)
	}
	return out
}

// branches lists where a step may go: a condition step's cases and its
// default, or a step with when: itself, else its successor.
func (f *Flow) branches(s *Step) []ForecastBranch {
	var out []ForecastBranch
	add := func(when string, els bool, to string) {
		b := ForecastBranch{When: when, WhenText: f.CondText(when), Else: els, To: to}
		if t := f.Step(to); t != nil {
			b.ToName = t.Name
		}
		out = append(out, b)
	}
	if s.Type != StepCondition {
		add(condText(s.When), false, s.ID)
		add("", true, f.Successor(s))
		return out
	}
	for _, c := range s.Cases {
		add(condText(c.When), false, c.Goto)
	}
	def := s.Default
	if def == "" {
		def = f.Successor(s)
	}
	add("", true, def)
	return out
}
