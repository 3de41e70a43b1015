package flows

import (
	"fmt"
	"slices"
)

// next continues from step from to target, a step id or End. End inside a
// parallel branch ends that branch; at the top level it ends the instance.
func (r *run) next(from *Step, target string) error {
	if target != End {
		s := r.f.Step(target)
		if s == nil {
			return fmt.Errorf("step %s: next %q: %w", from.ID, target, ErrUnknownStep)
		}
		return r.enter(s)
	}
	if p, b := r.f.Enclosing(from); p != nil {
		return r.branchDone(p, b)
	}
	status := r.f.endStatus()
	r.finish(status)
	return r.logAs(SystemActor, "", "", "end", finishDetail{Status: status})
}

// enter starts a step: skipped when its condition is false, routed when it
// is a condition, forked when parallel, told when notify, and waiting for
// people when approval or task.
func (r *run) enter(s *Step) error {
	r.hops++
	if r.hops > maxHops {
		return fmt.Errorf("step %s: passed %d steps without anyone acting; the flow loops", s.ID, maxHops)
	}
	if s.When != nil || s.Type == StepCondition {
		if r.forecast {
			if on := s.readsResults(); len(on) > 0 {
				return &pendingResult{step: s, on: on}
			}
		}
		env, err := r.env()
		if err != nil {
			return err
		}
		ok, err := r.f.Eval(s.When, env)
		if err != nil {
			return fmt.Errorf("step %s: %w", s.ID, err)
		}
		if !ok {
			if err := r.logAs(SystemActor, "", "", "skip", stepDetail{Step: s.ID}); err != nil {
				return err
			}
			return r.next(s, r.f.Successor(s))
		}
		if s.Type == StepCondition {
			to, err := r.f.Route(s, env)
			if err != nil {
				return err
			}
			if err := r.logAs(SystemActor, "", "", "route", stepDetail{Step: s.ID, To: to}); err != nil {
				return err
			}
			return r.next(s, to)
		}
	}
	switch s.Type {
	case StepParallel:
		return r.fork(s)
	case StepNotify:
		if err := r.tell(s, s.Assignees, "notify"); err != nil {
			return err
		}
		return r.next(s, r.f.Successor(s))
	case StepAlert:
		return r.openAlert(s)
	}
	return r.activate(s)
}

// fork starts every branch of a parallel step. A branch whose steps are all
// skipped is done at once; the last branch to finish continues after the
// parallel step.
func (r *run) fork(p *Step) error {
	if r.st.Joins == nil {
		r.st.Joins = map[string][]bool{}
	}
	r.st.Joins[p.ID] = make([]bool, len(p.Parallel))
	if err := r.logAs(SystemActor, "", "", "fork", stepDetail{Step: p.ID}); err != nil {
		return err
	}
	for _, b := range p.Parallel {
		if err := r.enter(b.Steps[0]); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) branchDone(p *Step, branch int) error {
	done := r.st.Joins[p.ID]
	if branch >= len(done) {
		return fmt.Errorf("step %s: branch %d ended but the parallel step is not running", p.ID, branch)
	}
	done[branch] = true
	if slices.Contains(done, false) {
		return nil
	}
	delete(r.st.Joins, p.ID)
	if err := r.logAs(SystemActor, "", "", "join", stepDetail{Step: p.ID}); err != nil {
		return err
	}
	return r.next(p, r.f.Successor(p))
}

// activate opens an approval or task step: one seat per assignee, opened at
// once (or one after another for 依次审批), with approvers the flow's
// auto-skip rules name approved by the system.
func (r *run) activate(s *Step) error {
	users, err := r.assignees(s)
	if err != nil {
		return err
	}
	skip := r.autoSkip(s, users)
	r.st.Seq++
	a := &activation{N: r.st.Seq, Step: s.ID, Since: r.now}
	r.st.Active = append(r.st.Active, a)
	opened := false
	for i, u := range users {
		status := TaskOpen
		switch {
		case skip[u] != "":
			status = TaskApproved
		case s.Sequential && opened:
			status = TaskWaiting
		default:
			opened = true
		}
		t := r.newTask(a, u, "", status, i+1)
		a.Seats = append(a.Seats, &seat{Task: t.ID, User: u, Status: status, Shown: status == TaskOpen})
		if status != TaskApproved {
			continue
		}
		r.setTask(t.ID, status, TaskUpdate{Status: TaskApproved, Outcome: "approve", Comment: skip[u],
			DecidedBy: SystemActor, DecidedAt: r.now})
		if err := r.logAs(SystemActor, "", t.ID, "auto_approve", stepDetail{Step: s.ID, User: u, Reason: skip[u]}); err != nil {
			return err
		}
	}
	if err := r.logAs(SystemActor, "", "", "assign", stepDetail{Step: s.ID, Users: users}); err != nil {
		return err
	}
	r.schedule(a, s)
	return r.settle(a)
}

// pass ends a step that was decided in favour: undecided seats are closed,
// the step is remembered for returns and auto-skip, CC recipients are told,
// and the flow moves on.
func (r *run) pass(a *activation) error {
	s := r.f.Step(a.Step)
	outcome := "approve"
	if s.Type != StepApproval {
		outcome = "done"
	}
	r.closeActivation(a, TaskCancelled, outcome, NotifyTaskClosed)
	// Only approvals count for auto-skip: doing a task is not approving.
	h := passed{Step: s.ID, N: a.N}
	for _, st := range a.Seats {
		if st.Status == TaskApproved && !slices.Contains(h.Approvers, st.User) {
			h.Approvers = append(h.Approvers, st.User)
		}
	}
	r.st.History = append(r.st.History, h)
	if err := r.logAs(SystemActor, "", "", "pass", stepDetail{Step: s.ID}); err != nil {
		return err
	}
	if err := r.tell(s, s.CC, "cc"); err != nil {
		return err
	}
	return r.next(s, r.f.Successor(s))
}

// fail ends the instance after a rejection.
func (r *run) fail() error {
	r.closeAll(TaskCancelled, "reject", NotifyTaskClosed)
	r.finish(InstanceRejected)
	return r.logAs(SystemActor, "", "", "end", finishDetail{Status: InstanceRejected})
}

// closeSeat closes an undecided seat, and its delegate's task, as decided
// by the run's actor with outcome; a holder who had the task in hand is
// told with kind.
func (r *run) closeSeat(a *activation, s *seat, status TaskStatus, outcome, kind string) {
	if !s.undecided() {
		return
	}
	announced := s.Shown && !r.openedNow(s.Task)
	r.setTask(s.Task, s.Status, TaskUpdate{Status: status, Outcome: outcome, DecidedBy: r.actor, DecidedAt: r.now})
	s.Status = status
	delete(r.st.Urged, s.Task)
	if announced {
		r.notify(NotificationIntent{Kind: kind, Recipient: s.User, TaskID: s.Task, StepID: a.Step, Outcome: outcome})
	}
	if d := s.Delegate; d != nil {
		r.setTask(d.Task, TaskOpen, TaskUpdate{Status: status, Outcome: outcome, DecidedBy: r.actor, DecidedAt: r.now})
		delete(r.st.Urged, d.Task)
		if !r.openedNow(d.Task) {
			r.notify(NotificationIntent{Kind: kind, Recipient: d.User, TaskID: d.Task, StepID: a.Step, Outcome: outcome})
		}
		s.Delegate = nil
	}
}

// closeActivation closes every undecided seat of a, cancels its timers and
// removes it from the running steps.
func (r *run) closeActivation(a *activation, status TaskStatus, outcome, kind string) {
	for _, s := range a.Seats {
		r.closeSeat(a, s, status, outcome, kind)
	}
	r.cancelled = append(r.cancelled, a.Timers...)
	r.st.remove(a)
}

// closeAll closes every running step, as an instance ends.
func (r *run) closeAll(status TaskStatus, outcome, kind string) {
	for _, a := range slices.Clone(r.st.Active) {
		r.closeActivation(a, status, outcome, kind)
	}
	r.st.Joins = nil
}

// finish ends the instance with status and tells the applicant.
func (r *run) finish(status InstanceStatus) {
	r.inst.Status = status
	r.st.Urged = nil
	r.toApplicant(NotificationIntent{Kind: NotifyFinished, Outcome: string(status)})
}

// endStatus is how an instance that reached its end finished: approved for
// flows that ask for approval, completed for pure task flows.
func (f *Flow) endStatus() InstanceStatus {
	status := InstanceCompleted
	f.walk(func(s *Step) {
		if s.Type == StepApproval {
			status = InstanceApproved
		}
	})
	return status
}

// tell sends CC intents to the users of rules (a step's cc or a notify
// step's assignees) and lets them view the instance as that step.
func (r *run) tell(s *Step, rules Assignees, action string) error {
	if len(rules) == 0 {
		return nil
	}
	users, err := r.resolve(rules)
	if err != nil {
		return err
	}
	if r.st.Viewers == nil && len(users) > 0 {
		r.st.Viewers = map[string]string{}
	}
	for _, u := range users {
		if _, seen := r.st.Viewers[u]; !seen {
			r.st.Viewers[u] = s.ID
		}
		r.notify(NotificationIntent{Kind: NotifyCC, Recipient: u, StepID: s.ID})
	}
	d := stepDetail{Step: s.ID, Users: users}
	if len(users) == 0 {
		// Nobody to tell (a user field left empty or naming someone who
		// left, an empty role): say so where an operator will look.
		d.Reason, d.Rules = "resolved to nobody", rules.String()
	}
	return r.logAs(SystemActor, "", "", action, d)
}

// stepDetail is the audit detail of the engine's own steps.
type stepDetail struct {
	Step   string   `json:"step"`
	To     string   `json:"to,omitempty"`
	User   string   `json:"user,omitempty"`
	Users  []string `json:"users,omitempty"`
	Reason string   `json:"reason,omitempty"`
	Rules  string   `json:"rules,omitempty"`
}

type finishDetail struct {
	Status InstanceStatus `json:"status"`
}
