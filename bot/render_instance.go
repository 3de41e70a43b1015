package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"cardflow/flows"
)

// InstanceCard builds the card about a whole instance that its applicant,
// a reader it was copied to (抄送) or an administrator sees: its form as
// the reader may see it with the task steps' results, where it stands
// (the steps it waits at and for whom) and the last decision.
//
// While it runs the applicant gets 催办 (urge) and 撤回 (withdraw). When it
// was returned (退回) to them the card is orange and points them to the
// task card of the return, which offers 重新提交 (resubmit) and 撤回: one
// card with those buttons, not two. Once the instance ended the card is green (approved,
// completed), red (rejected) or grey (withdrawn, cancelled), with a status
// line saying by whom and when.
func (r *CardRenderer) InstanceCard(ctx context.Context, reader Reader, instanceID string, n *flows.NotificationIntent) (Card, error) {
	p, err := r.open(ctx, reader, instanceID)
	if err != nil {
		return Card{}, err
	}
	t, inst := p.t, p.view.Instance
	c := p.base(inst.ID, flows.StartForm)
	c.Fields = append(c.Fields, p.results()...)
	c.Subtitle = t.s(mSubmitted, p.name(inst.Applicant), p.when(inst.CreatedAt))
	applicant := reader.UserID == inst.Applicant
	returned := slices.ContainsFunc(p.view.Current, func(s flows.StepView) bool { return p.flow.Step(s.StepID) == nil })
	var text []string
	switch {
	case inst.Status != flows.InstanceRunning:
		c.Status, c.StatusLine = p.finished()
	case returned:
		c.Status = StatusReturned
		if applicant {
			text = append(text, t.s(mReturnedToYou))
		} else {
			text = append(text, t.s(mNowApplicant))
		}
	default:
		c.Status = StatusPending
		text = append(text, p.waitingFor()...)
	}
	if line := p.lastDecision(); line != "" {
		text = append(text, line)
	}
	if returned && applicant {
		// The task card of the 退回 carries 重新提交 and 撤回: one
		// card to act on, not two with the same buttons.
		text = append(text, t.s(mSeeResubmitCard))
	}
	c.Text = strings.Join(text, "\n")
	if inst.Status == flows.InstanceRunning && applicant && !returned {
		pl := p.payload("")
		c.Buttons = []Button{
			{Label: t.s(mBtnUrge), Style: StyleDefault, Action: flows.ActUrge, Payload: pl},
			{Label: t.s(mBtnWithdraw), Style: StyleDanger, Action: flows.ActWithdraw, Payload: pl},
		}
		c.Inputs = []Input{p.commentInput(mInMessage, "")}
	}
	if n != nil && n.Kind == flows.NotifyCC {
		name := n.StepName
		if s := p.flow.Step(n.StepID); s != nil {
			name = s.NameIn(p.t.en)
		}
		c.Note = t.s(mNoteCC, name)
	}
	return p.done(c)
}

// finished says how an ended instance ended, by whom and when.
func (p *page) finished() (Status, string) {
	t, inst := p.t, p.view.Instance
	word := t.status(inst.Status) + " · " + p.when(inst.UpdatedAt)
	by := func(actions ...string) string {
		if e, ok := p.last(nil, actions...); ok {
			return t.s(mStatusOwn, t.done(actions[0]), p.actor(e.Actor, e.OnBehalfOf), p.when(e.At))
		}
		return word
	}
	switch inst.Status {
	case flows.InstanceRejected:
		return StatusRejected, by("reject", "auto_reject")
	case flows.InstanceWithdrawn:
		return StatusDone, by("withdraw")
	case flows.InstanceCancelled:
		return StatusDone, by("cancel")
	}
	return StatusApproved, word
}

// waitingFor says, for each step the instance waits at, for whom.
func (p *page) waitingFor() []string {
	t := p.t
	var out []string
	for _, s := range p.view.Current {
		var who []string
		for _, task := range s.Tasks {
			if !slices.Contains(who, task.Assignee) {
				who = append(who, task.Assignee)
			}
		}
		if len(who) == 0 {
			continue
		}
		line := t.s(mWaitingFor, p.nameList(who))
		switch {
		case len(who) > 1 && s.Type == flows.StepApproval && s.Sign.Mode == flows.SignAny:
			line += t.s(mSignAny)
		case len(who) > 1 && s.Type == flows.StepApproval && s.Sign.Mode == flows.SignAll:
			line += t.s(mSignAll)
		}
		name := s.Name
		if step := p.flow.Step(s.StepID); step != nil {
			name = step.NameIn(t.en)
		}
		out = append(out, t.s(mNow, mdEscape(name), line))
	}
	return out
}

// lastDecision is the latest decision on the instance: who, what, with
// their comment, when.
func (p *page) lastDecision() string {
	e, ok := p.last(nil, decisions...)
	if !ok {
		return ""
	}
	what := p.t.verb(e.Action)
	if c := e.said(); c != "" {
		what = p.t.s(mVerbQuote, what, mdEscape(c))
	}
	if to := e.to(); e.Action == "transfer" || e.Action == "delegate" {
		what += " → " + p.nameList(to)
	}
	return p.t.s(mLast, mdEscape(p.actor(e.Actor, e.OnBehalfOf)), what, p.when(e.At))
}

// Notice builds the small card a comment (评论) intent is shown as: who
// commented what, on which instance. Its Subject is the intent's key, so
// each comment is a card of its own rather than an update of another.
func (r *CardRenderer) Notice(ctx context.Context, reader Reader, n flows.NotificationIntent) (Card, error) {
	if n.Kind != flows.NotifyComment {
		return Card{}, fmt.Errorf("bot: notice of a %q intent: %w: only comments are notices", n.Kind, ErrInvalid)
	}
	p, err := r.open(ctx, reader, n.InstanceID)
	if err != nil {
		return Card{}, err
	}
	c := Card{Subject: n.Key, InstanceID: n.InstanceID, Version: p.view.Instance.Version, Status: StatusInfo,
		Title:    p.title(p.view.Form),
		Subtitle: p.t.s(mCommented, p.actor(n.Actor, n.OnBehalfOf), p.when(n.At)),
		Text:     "💬 " + mdEscape(n.Comment), Link: p.link()}
	return p.done(c)
}
