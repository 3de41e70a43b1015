package bot_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
	"cardflow/internal/exampletest"
)

// TestResultFormProblemsNamedByLabels: a task card's result form refused
// names its fields as the card shows them (运单号), not by their keys.
func TestResultFormProblemsNamedByLabels(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	ctx := t.Context()
	render := bot.NewCardRenderer(engine, engine, bot.RendererOptions{})
	actions := bot.NewActions(bot.ActionsDeps{Engine: engine, Directory: engine, Render: render})
	res, err := engine.Start(ctx, flows.StartRequest{Actor: "u_chen", FlowID: "order_fulfilment", Form: map[string]any{
		"order_no": "TM-8", "platform": "tmall", "amount": "100.00",
		"items": []any{map[string]any{"sku": "A", "qty": "1", "price": "100.00"}}}})
	require.NoError(t, err)
	open := func(user string) string {
		views, err := engine.Tasks(ctx, flows.TaskQuery{Assignee: user, Status: flows.TaskOpen, Limit: 10})
		require.NoError(t, err)
		require.Len(t, views, 1)
		return views[0].Task.ID
	}
	_, err = engine.Act(ctx, flows.Action{Kind: flows.ActApprove, Actor: "u_qian", TaskID: open("u_qian"), Key: "k-qian"})
	require.NoError(t, err)
	view, err := engine.Instance(ctx, "u_feng", res.InstanceID)
	require.NoError(t, err)

	pack := bot.Payload{TaskID: open("u_feng"), Version: view.Instance.Version}.String()
	reply, err := actions.Click(ctx, bot.Click{Platform: "sim", EventID: "e1", PlatformUserID: "feng", Payload: pack,
		Action: flows.ActComplete, Values: map[string]string{"carrier": "ups"}})
	require.NoError(t, err)
	require.Equal(t, bot.ToastError, reply.Toast.Kind)
	require.Contains(t, reply.Toast.Text, "运单号必填")
	require.Contains(t, reply.Toast.Text, "快递公司不是可选的值")
	require.NotContains(t, reply.Toast.Text, "tracking_no")
}

// TestProblemsSayTheBound: a value out of bounds is told the bound it
// broke, in the reader's language.
func TestProblemsSayTheBound(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	render := bot.NewCardRenderer(engine, engine, bot.RendererOptions{})
	router := bot.NewRouter()
	bot.RegisterCommands(router, engine, render)
	actions := bot.NewActions(bot.ActionsDeps{Engine: engine, Directory: engine, Render: render, Router: router})
	cards, err := actions.Message(t.Context(), bot.Message{Platform: "sim", EventID: "m1", PlatformUserID: "chu", Text: "/start return_exchange"})
	require.NoError(t, err)
	form := cards[0]
	reply, err := actions.Click(t.Context(), bot.Click{Platform: "sim", EventID: "s1", PlatformUserID: "chu",
		Payload: form.Buttons[0].Payload, Action: flows.ActStart,
		Values: map[string]string{"order_no": "JD-9", "kind": "退货", "reason": "破损", "refund_amount": "-1"}})
	require.NoError(t, err)
	require.Equal(t, bot.ToastError, reply.Toast.Kind)
	require.Contains(t, reply.Toast.Text, "太小（最少 0）", reply.Toast.Text)
}
