package bot

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"cardflow/flows"
)

// TaskCard builds the card the holder of a task sees, or their leave proxy
// (代理; n.ForUser set, or found among the reader's proxy tasks), who gets
// a note "代 赵敏 处理". n says why the reader is told (a reminder, a
// transfer, an escalation) and may be nil (a card rendered again after a
// click).
//
// While the task is open for the reader the card is pending with the
// buttons of its step: 同意 and 拒绝 (the reason in the comment input) on
// an approval, 完成 with the step's result form as inputs on a task, 认领,
// 暂停提醒 and 解决 on an alert, and 退回 to the applicant and to the last
// earlier step that passed where the step allows returning there. 转交,
// 委派 and 加签 are not buttons: they need another user chosen, which not
// every platform's card can offer; the console and chat commands do them.
// Once the task is closed the card has no buttons and a status line says
// what became of it: 已同意 · 钱多多 · 10:42, 已由 钱多多 同意 for a 或签
// co-signer, 已转交给 王总, 已撤回.
func (r *CardRenderer) TaskCard(ctx context.Context, reader Reader, taskID string, n *flows.NotificationIntent) (Card, error) {
	instanceID := instanceOf(taskID)
	if n != nil && n.InstanceID != "" {
		instanceID = n.InstanceID
	}
	p, err := r.open(ctx, reader, instanceID)
	if err != nil {
		return Card{}, err
	}
	i := slices.IndexFunc(p.view.Tasks, func(t flows.Task) bool { return t.ID == taskID })
	if i < 0 {
		return Card{}, fmt.Errorf("bot: render task %s: %w", taskID, ErrNotFound)
	}
	task := p.view.Tasks[i]
	forUser, err := p.actingFor(task, n)
	if err != nil {
		return Card{}, err
	}
	step := p.flow.Step(task.StepID)
	c := p.base(task.ID, task.StepID)
	c.Subtitle = p.taskSubtitle(task, step)
	mayAct := task.Status == flows.TaskOpen && p.view.Instance.Status == flows.InstanceRunning &&
		(task.Assignee == reader.UserID || forUser != "")
	var notes []string
	if forUser != "" {
		notes = append(notes, p.t.s(mOnBehalfOf, p.name(forUser)))
	}
	switch {
	case step != nil && step.Type == flows.StepAlert:
		p.alertCard(&c, task, mayAct)
	case mayAct:
		c.Status = StatusPending
		p.taskActions(&c, task, step)
	case task.Status == flows.TaskOpen: // someone else's open task
		c.Status, c.StatusLine = StatusPending, p.t.s(mWaitingOn, p.name(task.Assignee))
	default:
		c.Status, c.StatusLine = p.closedTask(task)
	}
	if task.Status == flows.TaskDone && step != nil {
		c.Fields = append(c.Fields, p.results(step)...)
	}
	if task.Status != flows.TaskOpen && task.Status != flows.TaskWaiting {
		if note := p.closedNote(task, step); note != "" {
			notes = append(notes, note)
		}
	}
	if mayAct {
		notes = append(notes, p.intentNote(task, step, n)...)
	}
	c.Note = strings.Join(notes, " · ")
	return p.done(c)
}

// instanceOf reads the instance id out of a task id, "<instance>.t0001"
// (see flows.WithIDs).
func instanceOf(taskID string) string {
	if i := strings.LastIndex(taskID, ".t"); i > 0 {
		return taskID[:i]
	}
	return taskID
}

// actingFor returns whose task the reader holds as their leave proxy, or
// "" when it is the reader's own (or not theirs at all).
func (p *page) actingFor(task flows.Task, n *flows.NotificationIntent) (string, error) {
	switch {
	case task.Assignee == p.reader.UserID:
		return "", nil
	case n != nil && n.ForUser == task.Assignee:
		return n.ForUser, nil
	case task.Status != flows.TaskOpen:
		return "", nil
	}
	views, err := p.r.engine.Tasks(p.ctx, flows.TaskQuery{Assignee: p.reader.UserID})
	if err != nil {
		return "", fmt.Errorf("bot: render task %s: %w", task.ID, err)
	}
	for _, v := range views {
		if v.Task.ID == task.ID && v.OnBehalfOf != "" {
			return v.OnBehalfOf, nil
		}
	}
	return "", nil
}

// taskSubtitle says where the task stands: its step, who applied and
// when, and its deadline while it is open.
func (p *page) taskSubtitle(task flows.Task, step *flows.Step) string {
	inst := p.view.Instance
	name := p.t.s(mBtnResubmit)
	if step != nil {
		name = step.NameIn(p.t.en)
	}
	parts := []string{name}
	if step != nil && step.Type == flows.StepAlert {
		parts = append(parts, p.t.s(mFired, p.when(inst.CreatedAt)))
	} else {
		parts = append(parts, p.t.s(mSubmitted, p.name(inst.Applicant), p.when(inst.CreatedAt)))
	}
	if task.Status == flows.TaskOpen && !task.DueAt.IsZero() {
		parts = append(parts, p.t.s(mDue, p.when(task.DueAt)))
	}
	return strings.Join(parts, " · ")
}

// taskActions gives an open task its buttons and inputs.
func (p *page) taskActions(c *Card, task flows.Task, step *flows.Step) {
	t, pl := p.t, p.payload(task.ID)
	switch {
	case step == nil: // the applicant's task after a 退回 to them
		c.Buttons = []Button{
			{Label: t.s(mBtnResubmit), Style: StylePrimary, Action: flows.ActComplete, Payload: pl},
			{Label: t.s(mBtnWithdraw), Style: StyleDanger, Action: flows.ActWithdraw, Payload: p.payload("")},
		}
		c.Inputs = []Input{p.commentInput(mInMessage, "")}
		c.Text = t.s(mResubmitHint)
	case step.Type == flows.StepApproval:
		c.Buttons = []Button{
			{Label: t.s(mBtnApprove), Style: StylePrimary, Action: flows.ActApprove, Payload: pl},
			{Label: t.s(mBtnReject), Style: StyleDanger, Action: flows.ActReject, Payload: pl, NeedsInput: true},
		}
		c.Buttons = append(c.Buttons, p.returnButtons(task, step)...)
		edits := p.editInputs(step)
		c.Buttons[0].NeedsInput = len(edits) > 0
		c.Inputs = append(edits, p.commentInput(mInComment, t.s(mInCommentHint)))
	default: // a task step
		edits := p.editInputs(step)
		c.Buttons = []Button{{Label: t.s(mBtnComplete), Style: StylePrimary, Action: flows.ActComplete, Payload: pl,
			NeedsInput: len(step.ResultForm)+len(edits) > 0}}
		c.Buttons = append(c.Buttons, p.returnButtons(task, step)...)
		c.Inputs = append(append(p.inputs(step.ResultForm), edits...), p.commentInput(mInNote, ""))
	}
}

// editInputs are the boxes of the form fields step may change (editable),
// each holding the field's current value; a table does not fit on a card
// and is changed over the API. A box left blank changes nothing.
func (p *page) editInputs(step *flows.Step) []Input {
	var out []Input
	for _, fv := range p.view.Form {
		fd := fv.Field
		if fd.Type == flows.FieldTable || p.flow.Access(step.ID, fd.Key) != flows.AccessEditable {
			continue
		}
		in := formInputs([]*flows.Field{fd}, p.t)[0]
		in.Name, in.Required = InputEdit+fd.Key, false
		if fv.Set {
			in.Value = inputValue(fv.Value)
		}
		out = append(out, in)
	}
	return out
}

// inputValue writes a form value as an input holds it: money with its
// two decimals, a date as 2006-01-02.
func inputValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case decimal.Decimal:
		return x.StringFixed(flows.MoneyPlaces)
	case time.Time:
		return x.Format(time.DateOnly)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// returnButtons offer 退回 to the applicant and to the latest earlier step
// that passed in this instance, where the step allows returning there.
// At most these two, to keep within the platforms' button limits; other
// targets are reached from the console.
func (p *page) returnButtons(task flows.Task, step *flows.Step) []Button {
	passed := map[string]time.Time{}
	prev := ""
	for _, x := range p.view.Tasks {
		if x.StepID == step.ID || p.flow.Step(x.StepID) == nil || (x.Status != flows.TaskApproved && x.Status != flows.TaskDone) {
			continue
		}
		if x.DecidedAt.After(passed[x.StepID]) {
			passed[x.StepID] = x.DecidedAt
		}
		if prev == "" || x.DecidedAt.After(passed[prev]) {
			prev = x.StepID
		}
	}
	var out []Button
	best := ""
	for _, to := range p.flow.ReturnTargets(step, prev) {
		switch {
		case to == flows.ReturnToApplicant && p.view.Instance.Applicant != flows.SystemActor:
			out = append(out, p.returnButton(task, p.t.s(mBtnReturnApplicant), to))
		case !passed[to].IsZero() && (best == "" || passed[to].After(passed[best])):
			best = to
		}
	}
	if best != "" {
		out = append(out, p.returnButton(task, p.t.s(mBtnReturnTo, p.flow.Step(best).NameIn(p.t.en)), best))
	}
	return out
}

func (p *page) returnButton(task flows.Task, label, to string) Button {
	return Button{Label: label, Style: StyleDefault, Action: flows.ActReturn, Payload: p.payload(task.ID),
		NeedsInput: true, Values: map[string]string{ValueReturnTo: to}}
}

// closedTask says what became of a task that is no longer open for the
// reader.
func (p *page) closedTask(task flows.Task) (Status, string) {
	t, at := p.t, p.when(task.DecidedAt)
	own := func(s Status) (Status, string) {
		return s, t.s(mStatusOwn, t.done(task.Outcome), p.actor(task.DecidedBy, task.Assignee), at)
	}
	switch task.Status {
	case flows.TaskWaiting:
		return StatusPending, p.waitingLine(task)
	case flows.TaskApproved, flows.TaskDone:
		return own(StatusApproved)
	case flows.TaskRejected:
		return own(StatusRejected)
	case flows.TaskReturned:
		return own(StatusReturned)
	}
	// Cancelled: closed by someone else's act, or handed over.
	switch task.Outcome {
	case "transfer":
		e, _ := p.last(func(e entry) bool { return e.TaskID == task.ID }, "transfer")
		return StatusDone, t.s(mTransferredTo, p.nameList(e.to()), at)
	case "escalate":
		e, _ := p.last(func(e entry) bool { return slices.Contains(e.Users, task.Assignee) }, "escalate")
		return StatusDone, t.s(mEscalatedTo, p.nameList(e.to()), at)
	case "approve", "done":
		return StatusApproved, t.s(mStatusBy, t.done(task.Outcome), p.name(task.DecidedBy), at)
	case "reject":
		return StatusRejected, t.s(mStatusBy, t.done(task.Outcome), p.name(task.DecidedBy), at)
	case "return":
		return StatusReturned, t.s(mStatusBy, t.done(task.Outcome), p.name(task.DecidedBy), at)
	case "resolve":
		return StatusDone, t.s(mStatusBy, t.done(task.Outcome), p.name(task.DecidedBy), at)
	}
	return StatusDone, t.s(mStatusOwn, t.done(task.Outcome), p.name(task.DecidedBy), at)
}

// closedNote quotes the comment the task was closed with: its holder's
// own, or that of whoever closed it for them (the 或签 co-signer who won,
// the applicant who withdrew, the holder who resolved the alert). The
// engine's own notes are not quoted.
func (p *page) closedNote(task flows.Task, step *flows.Step) string {
	label := mInNote
	if step != nil && step.Type == flows.StepApproval {
		label = mInComment
	}
	comment := ""
	switch {
	case task.DecidedBy == flows.SystemActor:
	case task.Status != flows.TaskCancelled:
		comment = task.Comment
	default:
		action := task.Outcome
		if action == string(flows.ActWithdraw) || action == string(flows.ActCancel) {
			// Closed by the request's withdrawal: the applicant's reason,
			// not an approver's 意见.
			label = mInReason
		}
		if action == "done" {
			action = "complete"
		}
		if e, ok := p.last(func(e entry) bool { return e.Actor == task.DecidedBy }, action); ok {
			comment = e.said()
		}
	}
	if comment == "" {
		return ""
	}
	return p.quote(p.t.s(label), comment)
}

// waitingLine says what a waiting task waits for: the delegate it was
// lent to (委派), or the signers before its holder.
func (p *page) waitingLine(task flows.Task) string {
	for _, x := range p.view.Tasks {
		if x.OwnerID == task.Assignee && x.StepID == task.StepID && x.Status == flows.TaskOpen {
			return p.t.s(mDelegatedTo, p.name(x.Assignee))
		}
	}
	return p.t.s(mWaiting)
}

// arrivalNotes say, by the audit action that brought a task to its holder,
// why it came: transferred, delegated, added as a signer, returned.
var arrivalNotes = map[string]msg{"transfer": mNoteTransfer, "delegate": mNoteDelegate, "add_signer": mNoteAdded, "return": mNoteReturn}

// arrivalNote quotes the entry that brought a task to its holder.
func (p *page) arrivalNote(e entry) []string {
	return []string{p.quote(p.t.s(arrivalNotes[e.Action], p.actor(e.Actor, e.OnBehalfOf)), e.said())}
}

// standingNote says, on a task's card drawn again without a notification
// (a copy brought up to date after a reminder or a comment), why the task
// came to its holder, as the notification that brought it did: the
// transfer, delegation, added signer or return committed with the task.
// What held for a moment only (a reminder) is not repeated.
func (p *page) standingNote(task flows.Task) []string {
	e, ok := p.last(func(e entry) bool { return e.At.Equal(task.CreatedAt) }, slices.Collect(maps.Keys(arrivalNotes))...)
	if !ok {
		return nil
	}
	return p.arrivalNote(e)
}

// intentNote says why the reader is told about their open task.
func (p *page) intentNote(task flows.Task, step *flows.Step, n *flows.NotificationIntent) []string {
	t := p.t
	if step == nil { // the applicant's resubmit task says why it came back
		if e, ok := p.last(nil, "return"); ok {
			return p.arrivalNote(e)
		}
		return nil
	}
	if n == nil {
		return p.standingNote(task)
	}
	byTo := func(action string) (entry, bool) {
		return p.last(func(e entry) bool { return slices.Contains(e.to(), task.Assignee) }, action)
	}
	switch {
	case n.Kind == flows.NotifyReminder && n.Actor == flows.SystemActor:
		return []string{t.s(mNoteOverdue)}
	case n.Kind == flows.NotifyReminder:
		return []string{p.quote(t.s(mNoteReminder, p.actor(n.Actor, n.OnBehalfOf)), n.Comment)}
	case n.Kind == flows.NotifyAlertEscalated:
		return []string{t.s(mNoteAlertEscalated)}
	case n.Kind == flows.NotifyAlertFired:
		switch n.Cause {
		case flows.CauseAlertNew:
			return []string{t.s(mNoteAlertNew)}
		case flows.CauseAlertRepeat:
			return []string{t.s(mNoteAlertRepeat)}
		case flows.CauseAlertWake:
			return []string{t.s(mNoteAlertWake)}
		}
		return nil
	case n.Kind != flows.NotifyTaskAssigned:
		return nil
	}
	var (
		e  entry
		ok bool
	)
	switch n.Cause {
	case flows.CauseEscalate:
		return []string{t.s(mNoteEscalated)}
	case flows.CauseResumed:
		return []string{t.s(mNoteResumed)}
	case flows.CauseTransfer:
		e, ok = byTo("transfer")
	case flows.CauseDelegate:
		e, ok = byTo("delegate")
	case flows.CauseAdded:
		e, ok = p.last(func(e entry) bool { return slices.Contains(e.Users, task.Assignee) }, "add_signer")
	case flows.CauseReturn:
		e, ok = p.last(nil, "return")
	}
	if !ok {
		return nil
	}
	return p.arrivalNote(e)
}
