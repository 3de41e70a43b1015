package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"cardflow/flows"
)

// maxTodoCards bounds how many task cards /todo answers with; the rest are
// counted in a closing card.
const maxTodoCards = 10

// RegisterCommands adds bot's own commands: /todo (待办), the reader's open
// tasks as cards with their buttons, and /flows (发起), the flows they may
// start.
func RegisterCommands(r *Router, engine *flows.Engine, render Renderer) {
	r.Register(Command{Names: []string{"/todo", "待办", "todo"},
		UsageZH: "/todo 或 待办  我的待办任务", UsageEN: "/todo  my open tasks",
		Run: func(ctx context.Context, req Request, _ []string) ([]Card, error) {
			return todo(ctx, engine, render, req.Reader)
		}})
	r.Register(Command{Names: []string{"/start", "发起", "/flows"},
		UsageZH: "/start [流程]  可以发起的流程，或发起一个（卡片上填写表单）",
		UsageEN: "/start [flow]  the flows you can start, or start one (fill in the form on the card)",
		Run: func(ctx context.Context, req Request, args []string) ([]Card, error) {
			if len(args) == 0 {
				return startable(ctx, engine, req.Reader)
			}
			// A flow by its id or by the name the list shows, which may
			// hold spaces.
			asked := strings.Join(args, " ")
			cards, err := startForm(ctx, engine, req.Reader, asked)
			if errors.Is(err, flows.ErrNotFound) || errors.Is(err, flows.ErrNotApplicable) {
				return notStartable(ctx, engine, req.Reader, asked, err)
			}
			return cards, err
		}})
}

// notStartable answers /start of a flow that is not there, or that only
// its events open, with why and the flows that can be started.
func notStartable(ctx context.Context, engine *flows.Engine, r Reader, asked string, why error) ([]Card, error) {
	list, err := startable(ctx, engine, r)
	if err != nil {
		return nil, err
	}
	title := fmt.Sprintf("没有可以发起的流程“%s”", asked)
	if r.Locale == LocaleEN {
		title = fmt.Sprintf("No flow %q to start", asked)
	}
	if errors.Is(why, flows.ErrNotApplicable) {
		title = fmt.Sprintf("流程“%s”由事件触发，不能手动发起", asked)
		if r.Locale == LocaleEN {
			title = fmt.Sprintf("Flow %q is opened by its events and cannot be started by hand", asked)
		}
	}
	c := list[0]
	c.Subject, c.Status, c.Title = "start-unknown", StatusRejected, title
	return []Card{c}, nil
}

// flowNamed returns the flow whose id, or whose name, is asked.
func flowNamed(ctx context.Context, engine *flows.Engine, asked string) (*flows.Flow, error) {
	f, err := engine.Flow(ctx, asked, 0)
	if !errors.Is(err, flows.ErrNotFound) {
		return f, err
	}
	defs, derr := engine.Definitions(ctx)
	if derr != nil {
		return nil, derr
	}
	for _, d := range defs {
		f, ferr := engine.Flow(ctx, d.FlowID, d.Version)
		if ferr == nil && (f.Name == asked || f.NameEN != "" && strings.EqualFold(f.NameEN, asked)) {
			return f, nil
		}
	}
	return nil, err
}

func todo(ctx context.Context, engine *flows.Engine, render Renderer, r Reader) ([]Card, error) {
	views, err := engine.Tasks(ctx, flows.TaskQuery{Assignee: r.UserID, Status: flows.TaskOpen, Limit: 100})
	if err != nil {
		return nil, err
	}
	if len(views) == 0 {
		if r.Locale == LocaleEN {
			return []Card{{Subject: "todo", Status: StatusApproved, Title: "Nothing to do", Text: "You have no open tasks."}}, nil
		}
		return []Card{{Subject: "todo", Status: StatusApproved, Title: "没有待办", Text: "你目前没有需要处理的任务。"}}, nil
	}
	var cards []Card
	for _, v := range views[:min(len(views), maxTodoCards)] {
		c, err := render.TaskCard(ctx, r, v.Task.ID, nil)
		if err != nil {
			return nil, err
		}
		c.Subject = v.Task.ID
		cards = append(cards, c)
	}
	if b := batchCard(cards, r.Locale); b != nil {
		cards = append(cards, *b)
	}
	if rest := len(views) - maxTodoCards; rest > 0 {
		text := fmt.Sprintf("还有 %d 个待办没有列出，请先处理上面的任务。", rest)
		if r.Locale == LocaleEN {
			text = fmt.Sprintf("%d more open tasks are not shown; handle the ones above first.", rest)
		}
		cards = append(cards, Card{Subject: "todo-more", Status: StatusInfo, Title: "…", Text: text})
	}
	return cards, nil
}

func startable(ctx context.Context, engine *flows.Engine, r Reader) ([]Card, error) {
	defs, err := engine.Definitions(ctx)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, d := range defs {
		f, err := engine.Flow(ctx, d.FlowID, d.Version)
		if err != nil || f.Steps[0].Type == flows.StepAlert {
			continue // alert flows are opened by their events
		}
		lines = append(lines, fmt.Sprintf("- **%s** `%s`", f.NameIn(r.Locale == LocaleEN), f.ID))
	}
	title, hint := "可以发起的流程", "发送 /start <流程> 在卡片上填写表单，或在模拟器中点击「发起审批」。"
	if r.Locale == LocaleEN {
		title, hint = "Flows you can start", "Send /start <flow> to fill in the form on a card, or use “New request” in the simulator."
	}
	return []Card{{Subject: "flows", Status: StatusInfo, Title: title, Text: strings.Join(lines, "\n") + "\n\n" + hint}}, nil
}

// startForm is the card that asks for a flow's form: one input per field,
// and a button that starts the flow with what was filled in. A form with a
// table (order lines) does not fit on a chat card: the card says to use the
// full form instead.
func startForm(ctx context.Context, engine *flows.Engine, r Reader, asked string) ([]Card, error) {
	f, err := flowNamed(ctx, engine, asked)
	if err != nil {
		return nil, err
	}
	if f.Steps[0].Type == flows.StepAlert {
		return nil, fmt.Errorf("%s is opened by its events: %w", f.ID, flows.ErrNotApplicable)
	}
	en := r.Locale == LocaleEN
	c := Card{Subject: "start-" + f.ID, Status: StatusInfo, Title: f.NameIn(en), Text: f.Description}
	if slices.ContainsFunc(f.Form, func(fd *flows.Field) bool { return fd.Type == flows.FieldTable }) {
		c.Text = "这个流程的表单有明细表，卡片放不下：请在模拟器中点击「发起审批」填写完整表单。"
		if en {
			c.Text = "This form has a table that does not fit on a card: use “New request” in the simulator."
		}
		return []Card{c}, nil
	}
	c.Inputs = formInputs(f.Form, translator(r.Locale))
	label := "提交"
	if en {
		label = "Submit"
	}
	c.Buttons = []Button{{Label: label, Style: StylePrimary, Action: flows.ActStart,
		Payload: Payload{FlowID: f.ID}.String(), NeedsInput: true}}
	return []Card{c}, nil
}
