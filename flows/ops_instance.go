package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// CommentRequest adds a comment to an instance, optionally about one of
// its tasks.
type CommentRequest struct {
	Actor      string
	Key        string `json:"-"`
	InstanceID string
	TaskID     string
	Text       string
}

// UrgeRequest urges (催办) the open tasks of an instance, or only TaskID.
type UrgeRequest struct {
	Actor      string
	Key        string `json:"-"`
	InstanceID string
	TaskID     string
	Comment    string
}

// Withdraw withdraws (撤回) a running instance: only its applicant may, as
// long as it has not ended. Every open task is closed and its holder told.
func (e *Engine) Withdraw(ctx context.Context, req InstanceRequest) (Result, error) {
	return e.mutate(ctx, "withdraw", req.Key, req.InstanceID, req, func(ctx context.Context) (*Change, Result, error) {
		r, err := e.load(unseen(ctx), req.InstanceID, req.Actor)
		if err != nil {
			return nil, Result{}, err
		}
		if r.actor != r.inst.Applicant {
			return nil, Result{}, ErrNotApplicant
		}
		if err := checkSeen(ctx, r.inst, r.st); err != nil {
			return nil, Result{}, err
		}
		if err := r.running(); err != nil {
			return nil, Result{}, err
		}
		r.closeAll(TaskCancelled, "withdraw", NotifyWithdrawn)
		r.inst.Status, r.st.Urged = InstanceWithdrawn, nil
		if err := r.log("", "withdraw", actionDetail{Comment: req.Comment}); err != nil {
			return nil, Result{}, err
		}
		return r.build("", "withdraw")
	})
}

// Cancel cancels a running instance; only holders of the admin role may.
func (e *Engine) Cancel(ctx context.Context, req InstanceRequest) (Result, error) {
	return e.mutate(ctx, "cancel", req.Key, req.InstanceID, req, func(ctx context.Context) (*Change, Result, error) {
		r, err := e.load(unseen(ctx), req.InstanceID, req.Actor)
		if err != nil {
			return nil, Result{}, err
		}
		if admin, err := r.isAdmin(r.actor); err != nil || !admin {
			return nil, Result{}, errors.Join(ErrNotAdmin, err)
		}
		if err := checkSeen(ctx, r.inst, r.st); err != nil {
			return nil, Result{}, err
		}
		if err := r.running(); err != nil {
			return nil, Result{}, err
		}
		r.closeAll(TaskCancelled, "cancel", NotifyCancelled)
		r.inst.Status, r.st.Urged = InstanceCancelled, nil
		if err := r.log("", "cancel", actionDetail{Comment: req.Comment}); err != nil {
			return nil, Result{}, err
		}
		r.toApplicant(NotificationIntent{Kind: NotifyCancelled, Outcome: "cancel", Comment: req.Comment})
		return r.build("", "cancel")
	})
}

// Comment adds a comment to the audit trail and tells the applicant and the
// holders of open tasks. Anyone who may view the instance may comment,
// also after it ended.
func (e *Engine) Comment(ctx context.Context, req CommentRequest) (Result, error) {
	return e.mutate(ctx, "comment", req.Key, req.InstanceID, req, func(ctx context.Context) (*Change, Result, error) {
		if err := requireComment("comment", req.Text); err != nil {
			return nil, Result{}, err
		}
		r, err := e.load(ctx, req.InstanceID, req.Actor)
		if err != nil {
			return nil, Result{}, err
		}
		tasks, err := r.tasks()
		if err != nil {
			return nil, Result{}, err
		}
		if _, ok, err := r.viewAs(r.actor, tasks); err != nil || !ok {
			return nil, Result{}, errors.Join(fmt.Errorf("%s: %w", r.actor, ErrNotParticipant), err)
		}
		if req.TaskID != "" && !containsTask(tasks, req.TaskID) {
			return nil, Result{}, fmt.Errorf("task %s is not a task of instance %s: %w", req.TaskID, r.inst.ID, ErrInvalidTarget)
		}
		r.quiet = true
		if err := r.log(req.TaskID, "comment", actionDetail{Comment: req.Text}); err != nil {
			return nil, Result{}, err
		}
		tell := NotificationIntent{Kind: NotifyComment, TaskID: req.TaskID, Comment: req.Text}
		r.toApplicant(tell)
		for _, o := range r.openTasks() {
			if o.user != r.actor {
				tell.Recipient, tell.StepID = o.user, o.step
				r.notify(tell)
			}
		}
		return r.build(req.TaskID, "comment")
	})
}

// Urge reminds (催办) the holders of the instance's open tasks. The
// applicant or an administrator may urge; each task at most once per the
// flow's urge interval, so a *RateLimitError (ErrRateLimited) says how long
// to wait when every task was urged too recently.
func (e *Engine) Urge(ctx context.Context, req UrgeRequest) (Result, error) {
	return e.mutate(ctx, "urge", req.Key, req.InstanceID, req, func(ctx context.Context) (*Change, Result, error) {
		r, err := e.load(unseen(ctx), req.InstanceID, req.Actor)
		if err != nil {
			return nil, Result{}, err
		}
		if r.actor != r.inst.Applicant {
			if admin, err := r.isAdmin(r.actor); err != nil || !admin {
				return nil, Result{}, errors.Join(ErrNotApplicant, err)
			}
		}
		if err := r.running(); err != nil {
			return nil, Result{}, err
		}
		if err := checkSeen(ctx, r.inst, r.st); err != nil {
			return nil, Result{}, err
		}
		r.quiet = true
		var targets []opening
		for _, o := range r.openTasks() {
			if (req.TaskID == "" || o.task == req.TaskID) && o.user != r.actor {
				targets = append(targets, o)
			}
		}
		if len(targets) == 0 {
			return nil, Result{}, fmt.Errorf("no open task %q to urge: %w", req.TaskID, ErrNotApplicable)
		}
		urged, wait := r.urge(targets, req.Comment)
		if len(urged) == 0 {
			return nil, Result{}, &RateLimitError{RetryAfter: wait}
		}
		if err := r.log(req.TaskID, "urge", actionDetail{Tasks: urged, Comment: req.Comment}); err != nil {
			return nil, Result{}, err
		}
		return r.build(req.TaskID, "urge")
	})
}

// urge reminds the targets not urged within the flow's interval and
// returns them, with the shortest wait until another target may be urged.
func (r *run) urge(targets []opening, comment string) ([]string, time.Duration) {
	interval := r.f.Settings.UrgeInterval
	var urged []string
	wait := interval
	for _, o := range targets {
		if last, ok := r.st.Urged[o.task]; ok && r.now.Sub(last) < interval {
			wait = min(wait, interval-r.now.Sub(last))
			continue
		}
		if r.st.Urged == nil {
			r.st.Urged = map[string]time.Time{}
		}
		r.st.Urged[o.task] = r.now
		urged = append(urged, o.task)
		r.notifyHolder(NotificationIntent{Kind: NotifyReminder, Recipient: o.user, TaskID: o.task, StepID: o.step, Comment: comment})
	}
	return urged, wait
}

// openTasks lists the tasks someone can act on now: open seats and the
// tasks of delegates.
func (r *run) openTasks() []opening {
	var out []opening
	for _, a := range r.st.Active {
		for _, s := range a.Seats {
			if s.Status == TaskOpen {
				out = append(out, opening{task: s.Task, user: s.User, step: a.Step})
			}
			if d := s.Delegate; d != nil {
				out = append(out, opening{task: d.Task, user: d.User, step: a.Step})
			}
		}
	}
	return out
}

// isAdmin reports whether user holds the engine's admin role.
func (r *run) isAdmin(user string) (bool, error) {
	u, err := r.user(user)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return r.e.holdsAdmin(u), nil
}

// tasks reads every task of the run's instance, oldest first.
func (r *run) tasks() ([]Task, error) {
	tasks, err := r.e.store.Tasks(r.ctx, TaskFilter{InstanceID: r.inst.ID, Limit: maxInstanceTasks})
	if err != nil {
		return nil, fmt.Errorf("tasks of %s: %w", r.inst.ID, err)
	}
	return tasks, nil
}

// maxInstanceTasks bounds the tasks read for one instance; far more than a
// flow with returns and transfers ever creates.
const maxInstanceTasks = 10000

func containsTask(tasks []Task, id string) bool {
	for _, t := range tasks {
		if t.ID == id {
			return true
		}
	}
	return false
}

// IsAdmin reports whether user holds the org's administrator role (the
// flows' fallback and the one who may act for anyone). A user the org does
// not have is not one.
func (e *Engine) IsAdmin(ctx context.Context, user string) (bool, error) {
	u, err := e.orgUser(ctx, user)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return e.holdsAdmin(u), nil
}

// holdsAdmin reports whether u holds the org's administrator role.
func (e *Engine) holdsAdmin(u User) bool { return slices.Contains(u.Roles, e.adminRole) }
