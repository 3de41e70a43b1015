package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cardflow/flows"
)

// A batch button approves several of the reader's tasks at once: the /todo
// answer offers one when it lists two or more approvals that need nothing
// typed. Its payload is "l:" and the tasks' own payloads joined by commas,
// each with the version its card showed, so a task that moved on since is
// refused like a click on its own outdated card.
const batchMark = "l:"

// batchCard is the closing card of a /todo answer that lists approvals the
// reader can give at once; nil when fewer than two can.
func batchCard(cards []Card, l Locale) *Card {
	var payloads []string
	for _, c := range cards {
		for _, b := range c.Buttons {
			if b.Action == flows.ActApprove && !b.NeedsInput && strings.HasPrefix(b.Payload, "t:") {
				payloads = append(payloads, b.Payload)
			}
		}
	}
	if len(payloads) < 2 {
		return nil
	}
	c := &Card{Subject: "todo-batch", Status: StatusPending, Title: "批量审批",
		Text: fmt.Sprintf("上面 %d 个审批可以一次同意；需要填写意见的请在各自的卡片上处理。", len(payloads))}
	label := fmt.Sprintf("全部同意（%d）", len(payloads))
	if l == LocaleEN {
		c.Title = "Approve in one go"
		c.Text = fmt.Sprintf("The %d approvals above can be approved at once; give a comment on a card of its own.", len(payloads))
		label = fmt.Sprintf("Approve all (%d)", len(payloads))
	}
	c.Buttons = []Button{{Label: label, Style: StylePrimary, Action: flows.ActApprove,
		Payload: batchMark + strings.Join(payloads, ",")}}
	return c
}

// maxBatch bounds a batch: /todo lists at most maxTodoCards tasks.
const maxBatch = maxTodoCards

// parseBatch reads a batch payload into its tasks' payloads.
func parseBatch(s string) ([]Payload, error) {
	list := strings.Split(strings.TrimPrefix(s, batchMark), ",")
	if len(list) < 1 || len(list) > maxBatch {
		return nil, fmt.Errorf("batch of %d: %w", len(list), ErrInvalid)
	}
	out := make([]Payload, 0, len(list))
	for _, item := range list {
		p, err := ParsePayload(item)
		if err != nil || p.TaskID == "" {
			return nil, fmt.Errorf("batch item: %w", ErrInvalid)
		}
		out = append(out, p)
	}
	return out, nil
}

// batch approves each task of a batch click as the signed user. Each task
// is its own engine action, keyed by the event id and its place in the
// batch, so a retried click approves nothing twice and is answered alike;
// one refused (decided meanwhile, outdated, not theirs) does not stop the
// others. The answer is the batch card without its button, saying how it
// went.
func (a *Actions) batch(ctx context.Context, c Click, r Reader, actor string) (ClickReply, error) {
	items, err := parseBatch(c.Payload)
	if err != nil || c.EventID == "" || c.Action != flows.ActApprove {
		return toastOnly(ToastError, r.Locale, "这张卡片无法识别，请在待办中重新打开", "This card cannot be read; open it again from /todo"), nil
	}
	done, already := 0, 0
	var refusals []string
	for i, p := range items {
		act := flows.Action{Kind: flows.ActApprove, Actor: actor, Key: fmt.Sprintf("%s:%s#%d", c.Platform, c.EventID, i),
			TaskID: p.TaskID, Seen: p.Version}
		res, err := a.engine.Act(ctx, act)
		switch {
		case errors.Is(err, flows.ErrUnavailable):
			return ClickReply{}, err // the platform retries; what went through is kept by its key
		case err != nil:
			info, _ := flows.Describe(err)
			refusals = append(refusals, info.Text(string(r.Locale)))
		case res.AlreadyDecided:
			already++
		default:
			done++
		}
	}
	kind := ToastSuccess
	if len(refusals) > 0 || already > 0 {
		kind = ToastWarning
	}
	text := fmt.Sprintf("已同意 %d 项", done)
	status := fmt.Sprintf("已同意 %d 项", done)
	if r.Locale == LocaleEN {
		text = fmt.Sprintf("Approved %d", done)
		status = text
	}
	if already > 0 {
		text += map[bool]string{true: fmt.Sprintf("; %d already decided by others", already),
			false: fmt.Sprintf("；%d 项已由他人处理", already)}[r.Locale == LocaleEN]
	}
	if len(refusals) > 0 {
		text += map[bool]string{true: fmt.Sprintf("; %d not done: %s", len(refusals), refusals[0]),
			false: fmt.Sprintf("；%d 项未处理：%s", len(refusals), refusals[0])}[r.Locale == LocaleEN]
	}
	card := &Card{Subject: "todo-batch", Status: StatusApproved, Title: "批量审批", StatusLine: status}
	if r.Locale == LocaleEN {
		card.Title = "Approve in one go"
	}
	return ClickReply{Card: card, Toast: Toast{Kind: kind, Text: text}}, nil
}
