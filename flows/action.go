package flows

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// ActionKind names what a person does to a task or an instance. It is the
// one action vocabulary: the HTTP API and every chat platform decode their
// input into an Action of one of these kinds and call Engine.Act, so the
// names below are the only place an action is spelled.
type ActionKind string

// Actions on a task (the target is Action.TaskID).
const (
	ActApprove      ActionKind = "approve"       // 同意
	ActReject       ActionKind = "reject"        // 拒绝 (Comment, the reason, required)
	ActComplete     ActionKind = "complete"      // 办理 (Result, the step's result form)
	ActReturn       ActionKind = "return"        // 退回 (To: a step id, "applicant" or "previous")
	ActTransfer     ActionKind = "transfer"      // 转交 (To: a user)
	ActDelegate     ActionKind = "delegate"      // 委派 (To: a user)
	ActAddSigner    ActionKind = "add_signer"    // 加签 (Users, Position)
	ActRemoveSigner ActionKind = "remove_signer" // 减签
	ActAcknowledge  ActionKind = "acknowledge"   // alert: 认领
	ActSnooze       ActionKind = "snooze"        // alert: 暂停提醒 (Until)
	ActResolve      ActionKind = "resolve"       // alert: 解决
)

// Actions on an instance (the target is Action.InstanceID). Comment and
// urge may also name one task of it (Action.TaskID).
const (
	ActWithdraw ActionKind = "withdraw" // 撤回, by the applicant
	ActCancel   ActionKind = "cancel"   // 作废, by an administrator
	ActResubmit ActionKind = "resubmit" // 重新提交 after a 退回 to the applicant (Form)
	ActComment  ActionKind = "comment"  // 评论 (Comment, the text)
	ActUrge     ActionKind = "urge"     // 催办
)

// ActStart starts a flow (Action.FlowID) with Action.Form, as a person's
// request: a chat card's form, a simulator's or console's form.
const ActStart ActionKind = "start"

// TaskActions are the kinds that act on one task, in the order a card or an
// error message lists them.
var TaskActions = []ActionKind{ActApprove, ActReject, ActComplete, ActReturn, ActTransfer, ActDelegate,
	ActAddSigner, ActRemoveSigner, ActAcknowledge, ActSnooze, ActResolve, ActComment, ActUrge}

// InstanceActions are the kinds that act on an instance as a whole.
var InstanceActions = []ActionKind{ActWithdraw, ActCancel, ActResubmit, ActComment, ActUrge}

// OnTask reports whether k can act on a single task.
func (k ActionKind) OnTask() bool { return slices.Contains(TaskActions, k) }

// OnFlow reports whether k acts on a flow rather than a task or instance.
func (k ActionKind) OnFlow() bool { return k == ActStart }

// OnInstance reports whether k can act on an instance.
func (k ActionKind) OnInstance() bool { return slices.Contains(InstanceActions, k) }

// Action is one thing a person does, decoded from an API request or a chat
// callback. Which fields a kind reads is said at its constant; the others
// must be empty.
type Action struct {
	Kind ActionKind
	// Actor is the acting user as the API token holder named them or the
	// chat platform signed them; the engine checks they may act now.
	Actor string
	// Key is the idempotency key, prefixed by its source ("api:…",
	// "feishu:<event id>"). A request replayed with the same key returns
	// the first answer; the same key with another request is refused.
	Key string

	TaskID     string
	InstanceID string
	FlowID     string // ActStart

	Comment  string
	To       string
	Users    []string
	Position SignerPosition
	Result   map[string]any
	Edits    map[string]any
	Form     map[string]any
	Until    time.Time
	// Seen is the instance version the actor's card showed (a button's
	// payload carries it). An action on an instance that has changed since
	// in a way a card shows (comments, urges and reminders do not count)
	// is refused with ErrOutdated: after a task already decided is
	// answered as such, after the actor's right to act is checked, and
	// after a replayed key gets its first answer. 0 skips the check (the
	// API, which reads no card).
	Seen int64
}

// Act runs an action: the one dispatch behind the API and the chat
// platforms. An unknown kind, or a kind given the wrong target, is an
// ErrUnknownAction.
func (e *Engine) Act(ctx context.Context, a Action) (Result, error) {
	if a.Seen > 0 {
		ctx = context.WithValue(ctx, seenKey{}, a.Seen)
	}
	if a.Kind == ActStart {
		if a.FlowID == "" || a.TaskID != "" || a.InstanceID != "" {
			return Result{}, fmt.Errorf("flows: start: %w: name the flow only", ErrInvalidTarget)
		}
		return e.Start(ctx, StartRequest{Actor: a.Actor, Key: a.Key, FlowID: a.FlowID, Form: a.Form})
	}
	if a.TaskID == "" && a.InstanceID == "" {
		return Result{}, fmt.Errorf("flows: %s: %w: no task or instance named", a.Kind, ErrInvalidTarget)
	}
	if a.TaskID != "" && a.InstanceID == "" {
		return e.actOnTask(ctx, a)
	}
	return e.actOnInstance(ctx, a)
}

func (e *Engine) actOnTask(ctx context.Context, a Action) (Result, error) {
	id := a.TaskID
	switch a.Kind {
	case ActApprove:
		return e.Approve(ctx, DecideRequest{Actor: a.Actor, Key: a.Key, TaskID: id, Comment: a.Comment, Edits: a.Edits})
	case ActReject:
		return e.Reject(ctx, DecideRequest{Actor: a.Actor, Key: a.Key, TaskID: id, Comment: a.Comment, Edits: a.Edits})
	case ActComplete:
		return e.Complete(ctx, CompleteRequest{Actor: a.Actor, Key: a.Key, TaskID: id, Comment: a.Comment,
			Result: a.Result, Edits: a.Edits})
	case ActReturn:
		return e.Return(ctx, ReturnRequest{Actor: a.Actor, Key: a.Key, TaskID: id, To: a.To, Comment: a.Comment})
	case ActTransfer:
		return e.Transfer(ctx, HandOverRequest{Actor: a.Actor, Key: a.Key, TaskID: id, To: a.To, Comment: a.Comment})
	case ActDelegate:
		return e.Delegate(ctx, HandOverRequest{Actor: a.Actor, Key: a.Key, TaskID: id, To: a.To, Comment: a.Comment})
	case ActAddSigner:
		return e.AddSigner(ctx, AddSignerRequest{Actor: a.Actor, Key: a.Key, TaskID: id, Users: a.Users,
			Position: a.Position, Comment: a.Comment})
	case ActRemoveSigner:
		return e.RemoveSigner(ctx, RemoveSignerRequest{Actor: a.Actor, Key: a.Key, TaskID: id, Comment: a.Comment})
	case ActAcknowledge:
		return e.Acknowledge(ctx, AlertActionRequest{Actor: a.Actor, Key: a.Key, TaskID: id, Comment: a.Comment})
	case ActResolve:
		return e.Resolve(ctx, AlertActionRequest{Actor: a.Actor, Key: a.Key, TaskID: id, Comment: a.Comment})
	case ActSnooze:
		return e.Snooze(ctx, AlertActionRequest{Actor: a.Actor, Key: a.Key, TaskID: id, Comment: a.Comment, Until: a.Until})
	case ActComment, ActUrge:
		t, err := e.store.Task(ctx, id)
		if err != nil {
			return Result{}, fmt.Errorf("flows: %s %s: task: %w", a.Kind, id, err)
		}
		a.InstanceID = t.InstanceID
		return e.actOnInstance(ctx, a)
	}
	return Result{}, fmt.Errorf("flows: %q on a task: %w", a.Kind, ErrUnknownAction)
}

func (e *Engine) actOnInstance(ctx context.Context, a Action) (Result, error) {
	id := a.InstanceID
	switch a.Kind {
	case ActWithdraw:
		return e.Withdraw(ctx, InstanceRequest{Actor: a.Actor, Key: a.Key, InstanceID: id, Comment: a.Comment})
	case ActCancel:
		return e.Cancel(ctx, InstanceRequest{Actor: a.Actor, Key: a.Key, InstanceID: id, Comment: a.Comment})
	case ActResubmit:
		return e.Resubmit(ctx, ResubmitRequest{Actor: a.Actor, Key: a.Key, InstanceID: id, Form: a.Form, Comment: a.Comment})
	case ActComment:
		return e.Comment(ctx, CommentRequest{Actor: a.Actor, Key: a.Key, InstanceID: id, TaskID: a.TaskID, Text: a.Comment})
	case ActUrge:
		return e.Urge(ctx, UrgeRequest{Actor: a.Actor, Key: a.Key, InstanceID: id, TaskID: a.TaskID, Comment: a.Comment})
	}
	return Result{}, fmt.Errorf("flows: %q on an instance: %w", a.Kind, ErrUnknownAction)
}

// seenKey carries Action.Seen through an operation's context to where the
// instance is read.
type seenKey struct{}

// checkSeen refuses to act on inst when the card the action came from
// showed another state of it: one older than the last change a card shows
// (comments, urges and reminders do not count, see runState.Shown), or a
// version it never had (no card shows a version ahead of its instance).
func checkSeen(ctx context.Context, inst Instance, st *runState) error {
	seen, ok := ctx.Value(seenKey{}).(int64)
	if !ok {
		return nil
	}
	shown := st.Shown
	if shown == 0 {
		shown = inst.Version // kept by no change yet: every version counts
	}
	if seen < shown || seen > inst.Version {
		return fmt.Errorf("instance %s is at version %d, the card showed %d: %w", inst.ID, inst.Version, seen, ErrOutdated)
	}
	return nil
}

// unseen is ctx without the seen version, for a read whose check comes later.
func unseen(ctx context.Context) context.Context {
	if _, ok := ctx.Value(seenKey{}).(int64); !ok {
		return ctx
	}
	return context.WithValue(ctx, seenKey{}, nil)
}
