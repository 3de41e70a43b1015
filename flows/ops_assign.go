package flows

import (
	"context"
	"fmt"
	"slices"
)

// HandOverRequest hands an open task to another user: Transfer (转交) or
// Delegate (委派).
type HandOverRequest struct {
	Actor   string
	Key     string `json:"-"`
	TaskID  string
	To      string
	Comment string
}

// SignerPosition is where AddSigner puts the new signers.
type SignerPosition string

// Positions of added signers (加签).
const (
	// SignBefore (前加签): the new signers decide first; the task waits
	// and reopens for its holder once they all approved.
	SignBefore SignerPosition = "before"
	// SignAfter (后加签): the holder approves now, and the step also needs
	// the new signers' approval.
	SignAfter SignerPosition = "after"
)

// AddSignerRequest adds signers to the step of an open approval task.
type AddSignerRequest struct {
	Actor    string
	Key      string `json:"-"`
	TaskID   string
	Users    []string
	Position SignerPosition
	Comment  string
}

// RemoveSignerRequest removes (减签) the signer holding TaskID, an undecided
// task of an approval step.
type RemoveSignerRequest struct {
	Actor   string
	Key     string `json:"-"`
	TaskID  string
	Comment string
}

// Transfer hands an open task over to another user for good (转交): the
// task is closed as transferred and the new holder gets a task of their
// own in the same seat. The holder (or their proxy) may transfer, and so may
// an administrator (the engine's admin role), for a holder who is away: the
// audit names the administrator, on behalf of the holder.
func (e *Engine) Transfer(ctx context.Context, req HandOverRequest) (Result, error) {
	return e.mutate(ctx, "transfer", req.Key, req.TaskID, req, func(ctx context.Context) (*Change, Result, error) {
		tc, err := e.seatTask(ctx, "transfer", req.Actor, req.TaskID, holderOrAdmin, StepApproval, StepTask)
		if err != nil {
			return nil, Result{}, err
		}
		r, s := tc.r, tc.seat
		if err := r.checkTarget(tc.a, s.User, req.To); err != nil {
			return nil, Result{}, err
		}
		r.setTask(s.Task, TaskOpen, TaskUpdate{Status: TaskCancelled, Outcome: "transfer", Comment: req.Comment,
			DecidedBy: r.actor, DecidedAt: r.now})
		delete(r.st.Urged, s.Task)
		t := r.newTask(tc.a, req.To, "", TaskOpen, tc.task.Seq)
		r.opened[len(r.opened)-1].cause = CauseTransfer
		for _, g := range tc.a.Seats {
			if g.Gates == s.Task {
				g.Gates = t.ID
			}
		}
		s.Task, s.User, s.Shown = t.ID, req.To, true
		if err := r.log(req.TaskID, "transfer", actionDetail{To: req.To, Comment: req.Comment}); err != nil {
			return nil, Result{}, err
		}
		return r.build(req.TaskID, "transfer")
	})
}

// Delegate lends an open task to another user (委派): the holder's task
// waits while the delegate's task is open, and when the delegate approved,
// rejected or completed it (their advice, recorded on their task) it opens
// again for the holder, who decides.
func (e *Engine) Delegate(ctx context.Context, req HandOverRequest) (Result, error) {
	return e.mutate(ctx, "delegate", req.Key, req.TaskID, req, func(ctx context.Context) (*Change, Result, error) {
		tc, err := e.seatTask(ctx, "delegate", req.Actor, req.TaskID, holderOnly, StepApproval, StepTask)
		if err != nil {
			return nil, Result{}, err
		}
		r, s := tc.r, tc.seat
		if err := r.checkTarget(tc.a, s.User, req.To); err != nil {
			return nil, Result{}, err
		}
		r.setTask(s.Task, TaskOpen, TaskUpdate{Status: TaskWaiting})
		s.Status = TaskWaiting
		t := r.newTask(tc.a, req.To, s.User, TaskOpen, tc.task.Seq)
		r.opened[len(r.opened)-1].cause = CauseDelegate
		s.Delegate = &delegation{Task: t.ID, User: req.To}
		if err := r.log(req.TaskID, "delegate", actionDetail{To: req.To, Comment: req.Comment}); err != nil {
			return nil, Result{}, err
		}
		return r.build(req.TaskID, "delegate")
	})
}

// AddSigner adds signers (加签) to the step of the actor's open approval
// task, before or after the actor (see SignerPosition). Added signers must
// approve whatever the step's sign mode; a rejection by one rejects.
func (e *Engine) AddSigner(ctx context.Context, req AddSignerRequest) (Result, error) {
	return e.mutate(ctx, "add_signer", req.Key, req.TaskID, req, func(ctx context.Context) (*Change, Result, error) {
		tc, err := e.seatTask(ctx, "add signer", req.Actor, req.TaskID, holderOnly, StepApproval)
		if err != nil {
			return nil, Result{}, err
		}
		r, s, a := tc.r, tc.seat, tc.a
		if len(req.Users) == 0 || (req.Position != SignBefore && req.Position != SignAfter) {
			return nil, Result{}, fmt.Errorf("add signer: users and position before or after are required: %w", ErrInvalidTarget)
		}
		for i, u := range req.Users {
			if err := r.checkTarget(a, s.User, u); err != nil || slices.Contains(req.Users[:i], u) {
				return nil, Result{}, fmt.Errorf("add signer %s: %w", u, orTarget(err))
			}
		}
		if err := r.log(req.TaskID, "add_signer", actionDetail{Users: req.Users, Position: string(req.Position), Comment: req.Comment}); err != nil {
			return nil, Result{}, err
		}
		at := slices.Index(a.Seats, s)
		if req.Position == SignBefore {
			r.addSeats(a, at, req.Users, s.User, s.Task, TaskOpen)
			r.setTask(s.Task, TaskOpen, TaskUpdate{Status: TaskWaiting})
			s.Status = TaskWaiting
			return r.build(req.TaskID, "add_signer")
		}
		status := TaskOpen
		if tc.step.Sequential {
			status = TaskWaiting // their turn comes in order
		}
		r.addSeats(a, at+1, req.Users, s.User, "", status)
		if err := r.decided(tc, TaskApproved, "approve", req.Comment, nil, nil); err != nil {
			return nil, Result{}, err
		}
		return r.build(req.TaskID, "approve")
	})
}

// addSeats inserts signers added by holder at position at of a's seats.
func (r *run) addSeats(a *activation, at int, users []string, holder, gates string, status TaskStatus) {
	seats := make([]*seat, len(users))
	for i, u := range users {
		t := r.newTask(a, u, "", status, at+i+1)
		if status == TaskOpen {
			r.opened[len(r.opened)-1].cause = CauseAdded
		}
		seats[i] = &seat{Task: t.ID, User: u, Status: status, Shown: status == TaskOpen, Extra: true, AddedBy: holder, Gates: gates}
	}
	a.Seats = slices.Insert(a.Seats, at, seats...)
}

// RemoveSigner removes (减签) an undecided signer from an approval step:
// a signer added by 加签 may be removed by whoever added them (or their
// proxy) or an administrator; one of the step's own assignees only by an
// administrator, and never the last one. The step is then decided on the
// remaining signers, so removing the last pending 会签 signer may pass it.
func (e *Engine) RemoveSigner(ctx context.Context, req RemoveSignerRequest) (Result, error) {
	return e.mutate(ctx, "remove_signer", req.Key, req.TaskID, req, func(ctx context.Context) (*Change, Result, error) {
		r, err := e.loadForTask(unseen(ctx), req.TaskID, req.Actor)
		if err != nil {
			return nil, Result{}, err
		}
		a, s, delegated := r.st.find(req.TaskID)
		switch {
		case a == nil || (!delegated && !s.undecided()):
			return nil, Result{}, fmt.Errorf("task %s: %w", req.TaskID, ErrAlreadyDecided)
		case delegated || a.Step == applicantStep || r.f.Step(a.Step).Type != StepApproval:
			return nil, Result{}, fmt.Errorf("task %s is not a signer's task: %w", req.TaskID, ErrNotApplicable)
		}
		if err := r.mayRemove(a, s); err != nil {
			return nil, Result{}, err
		}
		if err := checkSeen(ctx, r.inst, r.st); err != nil {
			return nil, Result{}, err
		}
		r.closeSeat(a, s, TaskCancelled, "remove_signer", NotifyTaskClosed)
		if err := r.log(req.TaskID, "remove_signer", actionDetail{Users: []string{s.User}, Comment: req.Comment}); err != nil {
			return nil, Result{}, err
		}
		if err := r.settle(a); err != nil {
			return nil, Result{}, err
		}
		return r.build(req.TaskID, "remove_signer")
	})
}

func (r *run) mayRemove(a *activation, s *seat) error {
	admin, err := r.isAdmin(r.actor)
	if err != nil {
		return err
	}
	if s.Extra && !admin {
		return r.authorize(s.AddedBy)
	}
	if !admin {
		return fmt.Errorf("only an administrator may remove an assignee of the flow: %w", ErrNotAdmin)
	}
	base := 0
	for _, x := range a.Seats {
		if !x.Extra && x.Status != TaskCancelled && x.Status != TaskReturned {
			base++
		}
	}
	if !s.Extra && base <= 1 {
		return fmt.Errorf("%s is the step's last signer: %w", s.User, ErrInvalidTarget)
	}
	return nil
}

// seatTask opens a task for an operation its seat holder (and, per who, an
// administrator) may do on an open task of the given step types; a decided
// task is ErrAlreadyDecided.
func (e *Engine) seatTask(ctx context.Context, op, actor, id string, who access, kinds ...StepType) (*taskCtx, error) {
	tc, decided, err := e.openTask(ctx, actor, id, who)
	switch {
	case err != nil:
		return nil, err
	case decided != nil:
		return nil, fmt.Errorf("task %s: %s by %s: %w", id, decided.Outcome, decided.By, ErrAlreadyDecided)
	}
	if err := tc.requireSeat(op, kinds...); err != nil {
		return nil, err
	}
	return tc, nil
}

func orTarget(err error) error {
	if err == nil {
		return fmt.Errorf("listed twice: %w", ErrInvalidTarget)
	}
	return err
}
