package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// taskCtx is an open task an operation acts on, with its instance's state.
type taskCtx struct {
	r    *run
	task Task
	a    *activation
	seat *seat
	// delegated is set when the task is the delegate's (委派) task of the
	// seat rather than the seat's own.
	delegated bool
	// step is nil for the applicant's resubmit task.
	step *Step
}

// access says who may act on a task besides its assignee and their proxy.
type access int

const (
	// holderOnly: the assignee or their proxy, nobody else — decisions are
	// personal: an administrator does not approve for someone.
	holderOnly access = iota
	// holderOrAdmin: also a holder of the engine's admin role, for the
	// operations an operator does to keep work moving (转交 a task whose
	// holder is away, handle an alert nobody answers). The audit names the
	// administrator as the actor, on behalf of the holder.
	holderOrAdmin
)

// openTask loads task id for an operation by actor. The actor must be the
// task's assignee or their proxy (or, with holderOrAdmin, an
// administrator). A task decided before is answered with its decision
// (decided != nil); a task waiting for its turn or for its delegate is
// ErrTaskNotOpen.
func (e *Engine) openTask(ctx context.Context, actor, id string, who access) (tc *taskCtx, decided *Result, err error) {
	// A task decided since the card was shown is answered with its
	// decision, which says more than that the card is out of date.
	r, err := e.loadForTask(unseen(ctx), id, actor)
	if err != nil {
		return nil, nil, err
	}
	a, s, delegated := r.st.find(id)
	if a == nil || (!delegated && !s.undecided()) {
		res, err := r.decidedTask(id)
		return nil, res, err
	}
	t := Task{ID: id, InstanceID: r.inst.ID, StepID: a.Step, Assignee: s.User, Status: s.Status,
		Kind: TaskKindResubmit, Seq: slices.Index(a.Seats, s) + 1}
	if delegated {
		t.Assignee, t.OwnerID, t.Status = s.Delegate.User, s.User, TaskOpen
	}
	step := r.f.Step(a.Step)
	if step != nil {
		t.Kind = string(step.Type)
	}
	if err := r.authorize(t.Assignee); err != nil {
		if who != holderOrAdmin {
			return nil, nil, err
		}
		admin, aerr := r.isAdmin(r.actor)
		if aerr != nil {
			return nil, nil, aerr
		}
		if !admin {
			return nil, nil, err
		}
		r.onBehalfOf = t.Assignee
	}
	// Whether the card is out of date is told only to who may act on it.
	if err := checkSeen(ctx, r.inst, r.st); err != nil {
		return nil, nil, err
	}
	if t.Status == TaskWaiting {
		return nil, nil, fmt.Errorf("task %s: %w", id, ErrTaskNotOpen)
	}
	return &taskCtx{r: r, task: t, a: a, seat: s, delegated: delegated, step: step}, nil, nil
}

// loadForTask loads the instance of a task. Task ids start with their
// instance's id ("<instance>.t0001"), which saves reading the task row
// on every decision; other ids are looked up.
func (e *Engine) loadForTask(ctx context.Context, id, actor string) (*run, error) {
	if i := strings.LastIndexByte(id, '.'); i > 0 {
		r, err := e.load(ctx, id[:i], actor)
		if !errors.Is(err, ErrNotFound) {
			return r, err
		}
	}
	task, err := e.store.Task(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", id, err)
	}
	return e.load(ctx, task.InstanceID, actor)
}

// decidedTask answers a request on a task the instance no longer waits
// for with the decision that closed it, read from the task row. The
// instance was read first, so the row already holds that decision.
func (r *run) decidedTask(id string) (*Result, error) {
	t, err := r.e.store.Task(r.ctx, id)
	switch {
	case err != nil:
		return nil, fmt.Errorf("task %s: %w", id, err)
	case t.InstanceID != r.inst.ID:
		return nil, fmt.Errorf("task %s is not a task of instance %s: %w", id, r.inst.ID, ErrNotFound)
	}
	if err := r.authorize(t.Assignee); err != nil {
		return nil, err
	}
	if t.Status == TaskOpen || t.Status == TaskWaiting {
		return nil, fmt.Errorf("task %s is %s but instance %s does not wait for it: %w", id, t.Status, r.inst.ID, ErrStaleVersion)
	}
	return &Result{InstanceID: r.inst.ID, Status: r.inst.Status, Version: r.inst.Version, TaskID: id,
		Outcome: t.Outcome, By: t.DecidedBy, At: t.DecidedAt, AlreadyDecided: true}, nil
}

// requireSeat refuses operations a delegate may not do (only the owner may
// transfer, return or add signers) and operations on the resubmit task.
func (tc *taskCtx) requireSeat(op string, kinds ...StepType) error {
	switch {
	case tc.delegated:
		return fmt.Errorf("%s: task %s is delegated to %s; only its owner %s may: %w", op, tc.task.ID, tc.task.Assignee, tc.task.OwnerID, ErrNotApplicable)
	case tc.step == nil || !slices.Contains(kinds, tc.step.Type):
		return fmt.Errorf("%s: task %s is %s: %w", op, tc.task.ID, kindOf(tc.task.Kind), ErrNotApplicable)
	}
	return nil
}

// decideSeat records the seat holder's decision on their own task.
func (r *run) decideSeat(a *activation, s *seat, status TaskStatus, outcome, comment string, result map[string]any) error {
	raw, err := optionalJSON(result)
	if err != nil {
		return err
	}
	r.setTask(s.Task, s.Status, TaskUpdate{Status: status, Outcome: outcome, Comment: comment, Result: raw,
		DecidedBy: r.actor, DecidedAt: r.now})
	s.Status = status
	delete(r.st.Urged, s.Task)
	return nil
}

// delegateActed closes the delegate's task with their advice and gives the
// task back to its owner (委派 returns to the owner, who decides).
func (r *run) delegateActed(tc *taskCtx, outcome, comment string, result map[string]any) error {
	raw, err := optionalJSON(result)
	if err != nil {
		return err
	}
	d := tc.seat.Delegate
	r.setTask(d.Task, TaskOpen, TaskUpdate{Status: TaskDone, Outcome: outcome, Comment: comment, Result: raw,
		DecidedBy: r.actor, DecidedAt: r.now})
	delete(r.st.Urged, d.Task)
	tc.seat.Delegate = nil
	if err := r.log(d.Task, "delegate_done", actionDetail{Outcome: outcome, Comment: comment, To: tc.seat.User}); err != nil {
		return err
	}
	return r.settle(tc.a)
}

// edit applies the form edits a step allows (its editable fields).
func (r *run) edit(stepID string, edits map[string]any) ([]FieldChange, error) {
	if len(edits) == 0 {
		return nil, nil
	}
	form, err := r.formValues()
	if err != nil {
		return nil, err
	}
	merged, err := r.f.ApplyEdits(stepID, form, edits)
	if err != nil {
		return nil, err
	}
	if err := r.checkUsers(r.f.Form, merged); err != nil {
		return nil, err
	}
	r.retitle(form, merged)
	r.form, r.formDirty = merged, true
	return changes(form, merged, slices.Sorted(maps.Keys(edits))), nil
}

// retitle keeps a title the flow's template built from the form in step
// with a changed form (退货 · JD-7 · ¥80.00 after the refund was edited);
// a title someone gave stays as given.
func (r *run) retitle(before, after map[string]any) {
	if r.f.Title == nil || r.f.Title.Render(before) != r.inst.Title {
		return
	}
	if t := r.f.Title.Render(after); t != "" {
		r.inst.Title = t
	}
}

// FieldChange is one form field changed by an approver's edit or a
// resubmission, as the audit trail records it (修改记录): the value
// before and after, as stored; nil where the field was empty.
type FieldChange struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

// changes lists the fields of keys whose stored value differs between
// before and after.
func changes(before, after map[string]any, keys []string) []FieldChange {
	var out []FieldChange
	for _, k := range keys {
		o, n := storableValue(before[k]), storableValue(after[k])
		ob, _ := json.Marshal(o)
		nb, _ := json.Marshal(n)
		if !bytes.Equal(ob, nb) {
			out = append(out, FieldChange{Field: k, Old: o, New: n})
		}
	}
	return out
}

// checkTarget checks a user a task is handed to (转交, 委派, 加签): known,
// not the seat's holder, not already deciding in the same step.
func (r *run) checkTarget(a *activation, holder, to string) error {
	switch {
	case to == "" || to == SystemActor:
		return fmt.Errorf("%q: %w", to, ErrInvalidTarget)
	case to == holder:
		return fmt.Errorf("%s already holds the task: %w", to, ErrInvalidTarget)
	case a.holds(to):
		return fmt.Errorf("%s already decides at step %s: %w", to, a.Step, ErrInvalidTarget)
	case to == r.inst.Applicant && r.f.Settings.AutoSkip.Applicant && r.isApproval(a.Step):
		// The flow does not ask applicants to approve their own request
		// (auto_skip: applicant); a hand-over must not get round that.
		return fmt.Errorf("%s is the applicant and may not approve their own request: %w", to, ErrInvalidTarget)
	}
	if _, err := r.user(to); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTarget, err)
	}
	return nil
}

func (r *run) isApproval(stepID string) bool {
	s := r.f.Step(stepID)
	return s != nil && s.Type == StepApproval
}

// kindOf names a task's kind with its article, for messages: "an
// approval task", "a task".
func kindOf(kind string) string {
	switch kind {
	case "":
		return "a task"
	case string(StepApproval), string(StepAlert):
		return "an " + kind + " task"
	case string(StepTask):
		return "a task"
	}
	return "a " + kind + " task"
}

func requireComment(what, comment string) error {
	if strings.TrimSpace(comment) == "" {
		return fmt.Errorf("%s: %w", what, ErrCommentRequired)
	}
	return nil
}

func optionalJSON(v map[string]any) ([]byte, error) {
	if len(v) == 0 {
		return nil, nil
	}
	return marshal(storable(v))
}

// actionDetail is the audit detail of a person's operation.
type actionDetail struct {
	Outcome  string   `json:"outcome,omitempty"`
	Comment  string   `json:"comment,omitempty"`
	To       string   `json:"to,omitempty"`
	Users    []string `json:"users,omitempty"`
	Position string   `json:"position,omitempty"`
	// Changes are the form fields the action changed, with their old and
	// new values; a view hides those its viewer may not see.
	Changes []FieldChange `json:"changes,omitempty"`
	Tasks   []string      `json:"tasks,omitempty"`
}
