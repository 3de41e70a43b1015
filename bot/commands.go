package bot

import (
	"context"
	"fmt"
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
		UsageZH: "/start 或 发起  可以发起的流程", UsageEN: "/start  the flows you can start",
		Run: func(ctx context.Context, req Request, _ []string) ([]Card, error) {
			return startable(ctx, engine, req.Reader)
		}})
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
		lines = append(lines, fmt.Sprintf("- **%s** `%s`", f.Name, f.ID))
	}
	title, hint := "可以发起的流程", "在模拟器或控制台点击「发起审批」填写表单。"
	if r.Locale == LocaleEN {
		title, hint = "Flows you can start", "Use “New request” in the simulator or the console to fill in the form."
	}
	return []Card{{Subject: "flows", Status: StatusInfo, Title: title, Text: strings.Join(lines, "\n") + "\n\n" + hint}}, nil
}
