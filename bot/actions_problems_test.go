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
