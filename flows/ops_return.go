package flows

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// ReturnRequest asks to return (退回) an instance from the task's step to
// an earlier step or to the applicant. To is a step id, ReturnToApplicant
// or ReturnToPrevious; Comment, the reason, is required.
type ReturnRequest struct {
	Actor   string
	Key     string `json:"-"`
	TaskID  string
	To      string
	Comment string
}

// ResubmitRequest resubmits an instance returned to its applicant, with a
// changed form (validated like at start) or, when Form is nil, unchanged.
type ResubmitRequest struct {
	Actor      string
	Key        string `json:"-"`
	InstanceID string
	Form       map[string]any
	Comment    string
}

// InstanceRequest names an instance an operation applies to as a whole
// (Withdraw, Cancel).
type InstanceRequest struct {
	Actor      string
	Key        string `json:"-"`
	InstanceID string
	Comment    string
}

// Return returns (退回) the instance from an open task to a step the task's
// step may return to (Flow.ReturnTargets) that passed in this instance, or
// to the applicant, who resubmits or withdraws it.
//
// Every task the return makes pointless is closed in the same change: the
// other signers of a 会签 step, and, when the target lies before a
// parallel step, the tasks of every branch; a return to an earlier step of
// the same branch leaves the other branches running. The target starts
// again with new tasks, so when the flow comes back to a step it opens it
// once, with no task of the earlier round left open.
//
// Like Approve, a return on a task decided before answers with the earlier
// decision (AlreadyDecided) instead of failing.
func (e *Engine) Return(ctx context.Context, req ReturnRequest) (Result, error) {
	return e.mutate(ctx, "return", req.Key, req.TaskID, req, func(ctx context.Context) (*Change, Result, error) {
		tc, decided, err := e.openTask(ctx, req.Actor, req.TaskID, holderOnly)
		if err != nil || decided != nil {
			return nil, orZero(decided), err
		}
		if err := tc.requireSeat("return", StepApproval, StepTask); err != nil {
			return nil, Result{}, err
		}
		if err := requireComment("return", req.Comment); err != nil {
			return nil, Result{}, err
		}
		r := tc.r
		to, err := r.returnTarget(tc.step, req.To)
		if err != nil {
			return nil, Result{}, err
		}
		if err := r.decideSeat(tc.a, tc.seat, TaskReturned, "return", req.Comment, nil); err != nil {
			return nil, Result{}, err
		}
		if err := r.log(req.TaskID, "return", actionDetail{To: to, Comment: req.Comment}); err != nil {
			return nil, Result{}, err
		}
		r.toApplicant(NotificationIntent{Kind: NotifyReturned, TaskID: req.TaskID, StepID: to, Outcome: "return", Comment: req.Comment})
		if to == ReturnToApplicant {
			err = r.backToApplicant()
		} else {
			err = r.backTo(r.f.Step(to))
		}
		if err != nil {
			return nil, Result{}, err
		}
		return r.build(req.TaskID, "return")
	})
}

// returnTarget resolves and checks where step s may be returned to.
func (r *run) returnTarget(s *Step, want string) (string, error) {
	prev := r.previous(s)
	if want == ReturnToPrevious {
		if prev == "" {
			return "", fmt.Errorf("step %s has no previous step to return to (allowed: %v): %w", s.ID, r.f.ReturnTargets(s, prev), ErrInvalidTarget)
		}
		want = prev
	}
	ok := slices.Contains(r.f.ReturnTargets(s, prev), want)
	switch {
	case want == ReturnToApplicant:
		ok = ok && r.inst.Applicant != SystemActor
	case ok:
		ok = slices.ContainsFunc(r.st.History, func(h passed) bool { return h.Step == want })
	}
	if !ok {
		return "", fmt.Errorf("step %s cannot return to %q (allowed: %v, among the steps that passed): %w", s.ID, want, r.f.ReturnTargets(s, prev), ErrInvalidTarget)
	}
	return want, nil
}

// previous is the last step that passed on the way to s: in its own step
// list or an enclosing one, never in a sibling parallel branch.
func (r *run) previous(s *Step) string {
	for _, h := range slices.Backward(r.st.History) {
		if x := r.f.Step(h.Step); x != nil && x != s && r.within(s, x) {
			return h.Step
		}
	}
	return ""
}

// within reports whether s runs in x's step list: in the list itself or in
// a branch of a parallel step of that list.
func (r *run) within(s, x *Step) bool {
	xp, xb := r.f.Enclosing(x)
	for t := s; t != nil; {
		p, b := r.f.Enclosing(t)
		if p == xp && b == xb {
			return true
		}
		t = p
	}
	return false
}

// backTo runs step x again after a return. Everything running in x's step
// list (x's successors, parallel steps with all their branches) is closed,
// and the passes from x on in that list are forgotten, so approvals of the
// earlier round neither count nor auto-skip the approvers again.
func (r *run) backTo(x *Step) error {
	for _, a := range slices.Clone(r.st.Active) {
		if s := r.f.Step(a.Step); s != nil && r.within(s, x) {
			r.closeActivation(a, TaskCancelled, "return", NotifyTaskClosed)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(r.st.Joins)) {
		if r.within(r.f.Step(p), x) {
			delete(r.st.Joins, p)
		}
	}
	last := -1
	for i, h := range r.st.History {
		if h.Step == x.ID {
			last = i
		}
	}
	kept := r.st.History[:0:0]
	for i, h := range r.st.History {
		if s := r.f.Step(h.Step); i >= last && s != nil && r.within(s, x) {
			delete(r.st.Results, h.Step)
			continue
		}
		kept = append(kept, h)
	}
	r.st.History = kept
	n := len(r.opened)
	if err := r.activate(x); err != nil {
		return err
	}
	for i := n; i < len(r.opened); i++ {
		if r.opened[i].step == x.ID && r.opened[i].cause == CauseStep {
			r.opened[i].cause = CauseReturn
		}
	}
	return nil
}

// backToApplicant closes everything and gives the applicant a resubmit
// task; the flow starts over from its first step when they resubmit.
func (r *run) backToApplicant() error {
	r.closeAll(TaskCancelled, "return", NotifyTaskClosed)
	r.st.History, r.st.Results = nil, nil
	r.st.Seq++
	a := &activation{N: r.st.Seq, Step: applicantStep, Since: r.now}
	t := r.newTask(a, r.inst.Applicant, "", TaskOpen, 1)
	r.opened[len(r.opened)-1].cause = CauseReturn
	a.Seats = []*seat{{Task: t.ID, User: r.inst.Applicant, Status: TaskOpen, Shown: true}}
	r.st.Active = append(r.st.Active, a)
	return r.logAs(SystemActor, "", "", "assign", stepDetail{Step: applicantStep, Users: []string{r.inst.Applicant}})
}

// Resubmit resubmits an instance returned to its applicant: the flow starts
// again from its first step with the (possibly changed) form.
func (e *Engine) Resubmit(ctx context.Context, req ResubmitRequest) (Result, error) {
	return e.mutate(ctx, "resubmit", req.Key, req.InstanceID, req, func(ctx context.Context) (*Change, Result, error) {
		r, err := e.load(unseen(ctx), req.InstanceID, req.Actor)
		if err != nil {
			return nil, Result{}, err
		}
		if r.actor != r.inst.Applicant {
			return nil, Result{}, ErrNotApplicant
		}
		if err := r.running(); err != nil {
			return nil, Result{}, err
		}
		if err := checkSeen(ctx, r.inst, r.st); err != nil {
			return nil, Result{}, err
		}
		i := slices.IndexFunc(r.st.Active, func(a *activation) bool { return a.Step == applicantStep })
		if i < 0 {
			return nil, Result{}, fmt.Errorf("instance %s was not returned to its applicant: %w", r.inst.ID, ErrNotApplicable)
		}
		a := r.st.Active[i]
		if err := r.resubmit(a, req.Form, req.Comment); err != nil {
			return nil, Result{}, err
		}
		return r.build(a.Seats[0].Task, "resubmit")
	})
}

func (r *run) resubmit(a *activation, form map[string]any, comment string) error {
	var edited []FieldChange
	if form != nil {
		valid, err := r.f.ValidateForm(form)
		if err != nil {
			return err
		}
		if err := r.checkUsers(r.f.Form, valid); err != nil {
			return err
		}
		before, err := r.formValues()
		if err != nil {
			return err
		}
		keys := slices.Sorted(maps.Keys(maps.Collect(func(yield func(string, bool) bool) {
			for k := range before {
				yield(k, true)
			}
			for k := range valid {
				yield(k, true)
			}
		})))
		edited = changes(before, valid, keys)
		r.retitle(before, valid)
		r.form, r.formDirty = valid, true
	}
	s := a.Seats[0]
	if err := r.decideSeat(a, s, TaskDone, "resubmit", comment, nil); err != nil {
		return err
	}
	r.st.remove(a)
	if err := r.log(s.Task, "resubmit", actionDetail{Comment: comment, Changes: edited}); err != nil {
		return err
	}
	return r.enter(r.f.Steps[0])
}

func (r *run) running() error {
	if r.inst.Status != InstanceRunning {
		return fmt.Errorf("instance %s is %s: %w", r.inst.ID, r.inst.Status, ErrInstanceFinished)
	}
	return nil
}
