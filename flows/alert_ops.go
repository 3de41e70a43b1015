package flows

import (
	"context"
	"fmt"
	"time"
)

// AlertActionRequest is an on-call holder acting on their alert task from
// its card: Acknowledge, Resolve or Snooze. An administrator (the engine's
// admin role) may act on any holder's alert task, as an operator does from
// the console; the audit names them, on behalf of the holder.
type AlertActionRequest struct {
	Actor   string
	Key     string `json:"-"`
	TaskID  string
	Comment string
	// Until is when a snooze ends (Snooze only).
	Until time.Time
}

// Acknowledge says the actor is on it: the group stops paging (no repeat)
// and stops escalating, a snooze is over, and the other holders are told
// alert_acknowledged. Every holder keeps their task, to resolve the alert.
// Acknowledging an acknowledged alert changes nothing and answers with
// AlreadyDecided and who acknowledged it.
func (e *Engine) Acknowledge(ctx context.Context, req AlertActionRequest) (Result, error) {
	return e.alertOp(ctx, "acknowledge", req, func(r *run, a *activation, s *Step, _ *seat) (bool, error) {
		st := r.st.Alert
		if st.AckBy != "" {
			return false, nil
		}
		st.AckBy, st.AckAt = r.actor, r.now
		st.SnoozedBy, st.SnoozedUntil = "", time.Time{}
		for _, kind := range []string{TimerAlertRepeat, TimerAlertEscalate, TimerAlertWake} {
			r.stopAlertTimer(a, kind)
		}
		r.page(a, NotifyAlertAcknowledged, "")
		return true, r.log(req.TaskID, "acknowledge", alertDetail{Step: s.ID, Comment: req.Comment})
	})
}

// Resolve resolves every alert of the group by the actor: the alert step
// ends (the actor's task done, the others' closed with alert_resolved)
// and the flow goes on to its next step.
func (e *Engine) Resolve(ctx context.Context, req AlertActionRequest) (Result, error) {
	return e.alertOp(ctx, "resolve", req, func(r *run, a *activation, s *Step, by *seat) (bool, error) {
		return true, r.endAlert(a, s, by, "resolve", req.Comment)
	})
}

// Snooze silences an unacknowledged alert until req.Until: no repeat and
// no escalation meanwhile. When the snooze ends and the alert still fires
// unacknowledged, its holders are paged again (alert_fired, cause
// "snoozed") and escalation resumes where it stood, a level that fell due
// meanwhile at once. An acknowledged alert pages nobody, so snoozing it is
// ErrNotApplicable.
func (e *Engine) Snooze(ctx context.Context, req AlertActionRequest) (Result, error) {
	return e.alertOp(ctx, "snooze", req, func(r *run, a *activation, s *Step, _ *seat) (bool, error) {
		st := r.st.Alert
		switch {
		case st.AckBy != "":
			return false, fmt.Errorf("snooze: acknowledged by %s: %w", st.AckBy, ErrNotApplicable)
		case !req.Until.After(r.now):
			return false, fmt.Errorf("snooze until %s: not in the future: %w", req.Until.Format(time.RFC3339), ErrInvalidTarget)
		}
		st.SnoozedBy, st.SnoozedUntil = r.actor, req.Until
		r.stopAlertTimer(a, TimerAlertRepeat)
		r.stopAlertTimer(a, TimerAlertEscalate)
		r.alertTimer(a, TimerAlertWake, req.Until, 0)
		return true, r.log(req.TaskID, "snooze", alertDetail{Step: s.ID, Comment: req.Comment, Until: req.Until})
	})
}

// alertOp runs an operation of a holder (or an administrator) on an open
// alert task. act
// reports false when there is nothing to change (the answer then says who
// did it before).
func (e *Engine) alertOp(ctx context.Context, op string, req AlertActionRequest,
	act func(r *run, a *activation, s *Step, by *seat) (bool, error)) (Result, error) {
	return e.mutate(ctx, op, req.Key, req.TaskID, req, func(ctx context.Context) (*Change, Result, error) {
		tc, decided, err := e.openTask(ctx, req.Actor, req.TaskID, holderOrAdmin)
		if err != nil || decided != nil {
			return nil, orZero(decided), err
		}
		if err := tc.requireSeat(op, StepAlert); err != nil {
			return nil, Result{}, err
		}
		r := tc.r
		a, s := r.alertRun()
		if a != tc.a {
			return nil, Result{}, fmt.Errorf("%s: task %s is not of the open alert: %w", op, req.TaskID, ErrNotApplicable)
		}
		changed, err := act(r, a, s, tc.seat)
		if err != nil {
			return nil, Result{}, err
		}
		if !changed {
			res := r.result(req.TaskID, op)
			res.Version, res.By, res.At, res.AlreadyDecided = r.inst.Version, r.st.Alert.AckBy, r.st.Alert.AckAt, true
			return nil, res, nil
		}
		return r.build(req.TaskID, op)
	})
}

// loaded makes a run of an instance already read.
func (e *Engine) loaded(ctx context.Context, inst Instance, actor string) (*run, error) {
	f, err := e.Flow(ctx, inst.FlowID, inst.FlowVersion)
	if err != nil {
		return nil, err
	}
	st, err := decodeState(inst.State)
	if err != nil {
		return nil, fmt.Errorf("instance %s: %w", inst.ID, err)
	}
	return &run{e: e, ctx: ctx, f: f, inst: inst, st: st, now: e.now(),
		expect: inst.Version, version: inst.Version + 1, actor: actor,
		users: map[string]User{}, keys: map[string]bool{}}, nil
}
