package flows

import (
	"context"
	"fmt"
)

// DecideRequest asks to approve or reject an approval task.
type DecideRequest struct {
	// Actor is the acting user as the chat platform or API signed them;
	// the engine checks they may act on the task now.
	Actor string
	// Key is the idempotency key (a platform's event id, an API client's
	// Idempotency-Key): a request with a key seen before changes nothing
	// and returns the first answer. Callers should prefix keys with their
	// source ("feishu:<event id>") so sources cannot collide. "" disables
	// the check.
	Key    string `json:"-"`
	TaskID string
	// Comment is the approver's note; for a rejection it is the reason
	// and required.
	Comment string
	// Edits change form fields the task's step lists as editable.
	Edits map[string]any
}

// CompleteRequest asks to mark a task done (办理). Result is the step's
// result form; it is validated against it.
type CompleteRequest struct {
	Actor   string
	Key     string `json:"-"`
	TaskID  string
	Comment string
	Result  map[string]any
	Edits   map[string]any
}

// Approve approves an approval task. What follows depends on the step's
// sign mode: a 或签 step passes at once (the other approvers' tasks are
// closed), a 会签 step when everyone approved, a percent step at its
// threshold, a 依次审批 step opens the next signer's task. An approval by a
// delegate (委派) is advice: the task goes back to its owner.
//
// A task decided before (a double click, a 或签 someone else won) is not
// an error: the Result has AlreadyDecided set with the earlier outcome.
func (e *Engine) Approve(ctx context.Context, req DecideRequest) (Result, error) {
	return e.decide(ctx, "approve", TaskApproved, req)
}

// Reject rejects an approval task; Comment, the reason, is required. A
// rejection that decides the step (any rejection in 或签 and 会签, one that
// makes the percent unreachable) rejects the instance.
func (e *Engine) Reject(ctx context.Context, req DecideRequest) (Result, error) {
	return e.decide(ctx, "reject", TaskRejected, req)
}

func (e *Engine) decide(ctx context.Context, op string, status TaskStatus, req DecideRequest) (Result, error) {
	return e.mutate(ctx, op, req.Key, req.TaskID, req, func(ctx context.Context) (*Change, Result, error) {
		tc, decided, err := e.openTask(ctx, req.Actor, req.TaskID, holderOnly)
		if err != nil || decided != nil {
			return nil, orZero(decided), err
		}
		if tc.step == nil || tc.step.Type != StepApproval {
			return nil, Result{}, fmt.Errorf("task %s is %s: %w", req.TaskID, kindOf(tc.task.Kind), ErrNotApplicable)
		}
		if status == TaskRejected {
			if err := requireComment("reject", req.Comment); err != nil {
				return nil, Result{}, err
			}
		}
		r := tc.r
		edited, err := r.edit(tc.step.ID, req.Edits)
		if err != nil {
			return nil, Result{}, err
		}
		if tc.delegated {
			err = r.delegateActed(tc, op, req.Comment, nil)
		} else {
			err = r.decided(tc, status, op, req.Comment, nil, edited)
		}
		if err != nil {
			return nil, Result{}, err
		}
		return r.build(req.TaskID, op)
	})
}

// Complete marks a task done with its result form; the first assignee to
// complete a task step completes it for all. A delegate's completion goes
// back to the owner. On the applicant's resubmit task (after a 退回 to
// them) it resubmits the instance unchanged; see Resubmit to change it.
func (e *Engine) Complete(ctx context.Context, req CompleteRequest) (Result, error) {
	return e.mutate(ctx, "complete", req.Key, req.TaskID, req, func(ctx context.Context) (*Change, Result, error) {
		tc, decided, err := e.openTask(ctx, req.Actor, req.TaskID, holderOnly)
		if err != nil || decided != nil {
			return nil, orZero(decided), err
		}
		r := tc.r
		if tc.step == nil {
			if err := r.resubmit(tc.a, nil, req.Comment); err != nil {
				return nil, Result{}, err
			}
			return r.build(req.TaskID, "resubmit")
		}
		if tc.step.Type != StepTask {
			return nil, Result{}, fmt.Errorf("task %s is %s: %w", req.TaskID, kindOf(tc.task.Kind), ErrNotApplicable)
		}
		result, err := r.f.ValidateResult(tc.step.ID, req.Result)
		if err != nil {
			return nil, Result{}, err
		}
		if err := r.checkUsers(tc.step.ResultForm, result); err != nil {
			return nil, Result{}, err
		}
		edited, err := r.edit(tc.step.ID, req.Edits)
		if err != nil {
			return nil, Result{}, err
		}
		if tc.delegated {
			err = r.delegateActed(tc, "done", req.Comment, result)
		} else {
			err = r.decided(tc, TaskDone, "done", req.Comment, result, edited)
		}
		if err != nil {
			return nil, Result{}, err
		}
		return r.build(req.TaskID, "done")
	})
}

// decided records a seat holder's decision, tells the applicant and lets
// the step's sign mode take it from there.
func (r *run) decided(tc *taskCtx, status TaskStatus, outcome, comment string, result map[string]any, edited []FieldChange) error {
	if err := r.decideSeat(tc.a, tc.seat, status, outcome, comment, result); err != nil {
		return err
	}
	if status == TaskDone && len(result) > 0 {
		if r.st.Results == nil {
			r.st.Results = map[string]map[string]any{}
		}
		r.st.Results[tc.step.ID] = storable(result)
	}
	action := outcome
	if status == TaskDone {
		action = "complete"
	}
	if err := r.log(tc.seat.Task, action, actionDetail{Comment: comment, Changes: edited}); err != nil {
		return err
	}
	r.toApplicant(NotificationIntent{Kind: NotifyDecision, TaskID: tc.seat.Task, StepID: tc.a.Step, Outcome: outcome, Comment: comment})
	return r.settle(tc.a)
}

func orZero(r *Result) Result {
	if r == nil {
		return Result{}
	}
	return *r
}
