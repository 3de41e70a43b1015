package flows

import (
	"encoding/json"
	"fmt"
	"slices"
)

// CauseEscalate is the Cause of a NotifyTaskAssigned intent for a task the
// system handed over because the step's SLA passed (on_timeout escalate_to).
const CauseEscalate = "escalate"

// Comments the system leaves on the tasks its SLA timers decide.
const (
	NoteAutoApprove = "auto: approved by the system after the SLA passed"
	NoteAutoReject  = "auto: rejected by the system after the SLA passed"
	NoteEscalated   = "escalated (SLA)"
)

// slaActivation returns the run of the step an SLA timer was written for,
// or nil when that run has ended (the timer is stale).
func (r *run) slaActivation(t Timer) (*activation, *Step, TimerPayload, error) {
	var p TimerPayload
	if err := json.Unmarshal(t.Payload, &p); err != nil {
		return nil, nil, p, fmt.Errorf("decode payload: %w", err)
	}
	if r.inst.Status != InstanceRunning {
		return nil, nil, p, nil
	}
	for _, a := range r.st.Active {
		if a.N == p.Activation && a.Step == p.Step {
			s := r.f.Step(a.Step)
			if s == nil || s.OnTimeout == nil {
				return nil, nil, p, nil
			}
			return a, s, p, nil
		}
	}
	return nil, nil, p, nil
}

// fireRemind reminds the holders of the step's open tasks (NotifyReminder,
// by the system) and writes the timer again Every later, for as long as
// the step runs. Reminders missed while no engine ran are not caught up:
// the next one is the first due after now.
func (r *run) fireRemind(t Timer) (bool, error) {
	a, _, p, err := r.slaActivation(t)
	if err != nil || a == nil {
		return false, err
	}
	every, err := ParseDuration(p.Every)
	if err != nil || every <= 0 {
		return false, fmt.Errorf("remind every %q: %w", p.Every, ErrNotSupported)
	}
	r.quiet = true
	var tasks []string
	for _, o := range r.openTasks() {
		if o.step == a.Step {
			tasks = append(tasks, o.task)
			r.notifyHolder(NotificationIntent{Kind: NotifyReminder, Recipient: o.user, TaskID: o.task, StepID: o.step})
		}
	}
	if err := r.log("", "remind", slaDetail{Step: a.Step, Tasks: tasks, Reason: "sla"}); err != nil {
		return false, err
	}
	p.Sent++
	if p.Max > 0 && p.Sent >= p.Max {
		// The cap is reached: no more reminders for this run of the step
		// (Feishu caps repeats too); escalation and auto-action still come.
		r.doneTimer(a, t.ID)
		return true, nil
	}
	next := t.DueAt.Add(every)
	if !next.After(r.now) {
		next = next.Add(every * (r.now.Sub(next)/every + 1))
	}
	t.DueAt = next
	if t.Payload, err = marshal(p); err != nil {
		return false, err
	}
	r.timers = append(r.timers, t)
	return true, nil
}

// freshSLA gives the users an escalation handed a step to a new SLA of
// their own: their tasks fall due one SLA from now, and the step's
// reminders start again from that deadline (with their count reset), so
// an escalated assignee is not met with a stream of reminders for time
// that passed before the task was theirs.
func (r *run) freshSLA(a *activation, s *Step, tasks []string) error {
	if s.SLA <= 0 {
		return nil
	}
	due := r.now.Add(r.e.sla(s.SLA))
	for i := range r.newTasks {
		if slices.Contains(tasks, r.newTasks[i].ID) {
			r.newTasks[i].DueAt = due
		}
	}
	t := s.OnTimeout
	if t == nil || t.RemindEvery <= 0 {
		return nil
	}
	id := TimerID(r.inst.ID, a.N, TimerRemind)
	raw, err := marshal(TimerPayload{Step: s.ID, Activation: a.N, Every: FormatDuration(r.e.sla(t.RemindEvery)), Max: t.RemindMax})
	if err != nil {
		return err
	}
	r.timers = append(r.timers, Timer{ID: id, InstanceID: r.inst.ID, Kind: TimerRemind, DueAt: due, Payload: raw})
	if !slices.Contains(a.Timers, id) {
		a.Timers = append(a.Timers, id)
	}
	return nil
}

// fireEscalate hands the step's overdue open tasks over to on_timeout's
// escalate_to, as DingTalk's 超时转交 does: the escalation users decide the
// step in place of the overdue holders. Every open task of someone who is
// not an escalation user is closed (outcome "escalate"); each escalation
// user who does not decide at the step yet gets an open task, at the
// position of the first closed one; an escalation user who already holds
// an open task keeps it. Tasks still waiting (a later signer of 依次审批, a
// delegated holder) are left alone. When escalate_to resolves to nobody
// (a vacant post) the flow's fallback takes over; when that is empty too,
// or nothing would change, the audit trail says so and nothing changes.
func (r *run) fireEscalate(t Timer) (bool, error) {
	a, s, _, err := r.slaActivation(t)
	if err != nil || a == nil {
		return false, err
	}
	r.doneTimer(a, t.ID)
	to, err := r.escalationUsers(s)
	if err != nil {
		return false, err
	}
	var overdue []*seat
	var from []string
	for _, st := range a.Seats {
		if st.Status == TaskOpen && !slices.Contains(to, st.User) {
			overdue = append(overdue, st)
			from = append(from, st.User)
		}
	}
	fresh := slices.DeleteFunc(slices.Clone(to), a.holds)
	if len(to) == 0 || (len(overdue) == 0 && len(fresh) == 0) {
		return true, r.log("", "escalate_skipped", slaDetail{Step: a.Step, Users: from, To: to, Reason: "nobody to escalate to"})
	}
	at := len(a.Seats)
	if len(overdue) > 0 {
		at = slices.Index(a.Seats, overdue[0])
	}
	for _, st := range overdue {
		r.closeSeat(a, st, TaskCancelled, "escalate", NotifyTaskClosed)
	}
	seats := make([]*seat, len(fresh))
	for i, u := range fresh {
		status := TaskOpen
		if s.Sequential && i > 0 {
			status = TaskWaiting
		}
		nt := r.newTask(a, u, "", status, at+i+1)
		if status == TaskOpen {
			r.opened[len(r.opened)-1].cause = CauseEscalate
		}
		seats[i] = &seat{Task: nt.ID, User: u, Status: status, Shown: status == TaskOpen}
	}
	a.Seats = slices.Insert(a.Seats, at, seats...)
	var handed []string
	for _, st := range seats {
		handed = append(handed, st.Task)
	}
	if err := r.freshSLA(a, s, handed); err != nil {
		return false, err
	}
	if err := r.log("", "escalate", slaDetail{Step: a.Step, Users: from, To: to, Reason: "sla", Comment: NoteEscalated}); err != nil {
		return false, err
	}
	return true, r.settle(a)
}

// escalationUsers resolves escalate_to, or the fallback when it names
// nobody.
func (r *run) escalationUsers(s *Step) ([]string, error) {
	users, err := r.resolve(s.OnTimeout.EscalateTo)
	if err != nil || len(users) > 0 {
		return users, err
	}
	return r.resolve(r.f.Settings.Fallback)
}

// fireAutoAction decides every undecided task of the step (open or waiting,
// signers added by 加签 included) as the system, with on_timeout's
// auto_action and a note saying so; a delegate's open task is closed with
// its seat. The step's sign mode then passes or rejects it as usual.
func (r *run) fireAutoAction(t Timer) (bool, error) {
	a, _, p, err := r.slaActivation(t)
	if err != nil || a == nil {
		return false, err
	}
	r.doneTimer(a, t.ID)
	status, outcome, note := TaskApproved, "approve", NoteAutoApprove
	switch p.Action {
	case AutoApprove:
	case AutoReject:
		status, outcome, note = TaskRejected, "reject", NoteAutoReject
	default:
		return false, fmt.Errorf("auto action %q: %w", p.Action, ErrNotSupported)
	}
	for _, st := range a.Seats {
		if !st.undecided() {
			continue
		}
		if d := st.Delegate; d != nil {
			r.setTask(d.Task, TaskOpen, TaskUpdate{Status: TaskCancelled, Outcome: outcome, DecidedBy: r.actor, DecidedAt: r.now})
			r.notify(NotificationIntent{Kind: NotifyTaskClosed, Recipient: d.User, TaskID: d.Task, StepID: a.Step, Outcome: outcome})
			st.Delegate = nil
		}
		if st.Shown {
			r.notify(NotificationIntent{Kind: NotifyTaskClosed, Recipient: st.User, TaskID: st.Task, StepID: a.Step, Outcome: outcome, Comment: note})
		}
		if err := r.decideSeat(a, st, status, outcome, note, nil); err != nil {
			return false, err
		}
		if err := r.log(st.Task, "auto_"+outcome, slaDetail{Step: a.Step, Users: []string{st.User}, Reason: "sla", Comment: note}); err != nil {
			return false, err
		}
		r.toApplicant(NotificationIntent{Kind: NotifyDecision, TaskID: st.Task, StepID: a.Step, Outcome: outcome, Comment: note})
	}
	return true, r.settle(a)
}

// doneTimer forgets a one-shot timer that fired, so the step's end does
// not cancel it again.
func (r *run) doneTimer(a *activation, id string) {
	a.Timers = slices.DeleteFunc(a.Timers, func(x string) bool { return x == id })
	r.cancelled = append(r.cancelled, id)
}

// slaDetail is the audit detail of what an SLA timer did.
type slaDetail struct {
	Step    string   `json:"step"`
	Tasks   []string `json:"tasks,omitempty"`
	Users   []string `json:"users,omitempty"`
	To      []string `json:"to,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Comment string   `json:"comment,omitempty"`
}
