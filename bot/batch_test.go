package bot_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
	"cardflow/internal/exampletest"
)

// TestTodoBatchApproval: /todo offers to approve the listed approvals at
// once; the click approves each as the signed user, once however often it
// is retried, and a task decided by someone else meanwhile is counted, not
// approved twice.
func TestTodoBatchApproval(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	ctx := t.Context()
	render := bot.NewCardRenderer(engine, engine, bot.RendererOptions{})
	router := bot.NewRouter()
	bot.RegisterCommands(router, engine, render)
	actions := bot.NewActions(bot.ActionsDeps{Engine: engine, Directory: engine, Render: render, Router: router})
	var instances []string
	for i := range 3 {
		res, err := engine.Start(ctx, flows.StartRequest{Actor: "u_chen", FlowID: "order_fulfilment", Form: map[string]any{
			"order_no": fmt.Sprintf("TM-%d", i), "platform": "tmall", "amount": "100.00",
			"items": []any{map[string]any{"sku": "A", "qty": "1", "price": "100.00"}}}})
		require.NoError(t, err)
		instances = append(instances, res.InstanceID)
	}
	cards, err := actions.Message(ctx, bot.Message{Platform: "sim", EventID: "m1", PlatformUserID: "qian", Text: "待办"})
	require.NoError(t, err)
	require.Len(t, cards, 4, "three task cards and the batch card")
	batch := cards[3]
	require.Equal(t, "批量审批", batch.Title)
	require.Len(t, batch.Buttons, 1)
	require.Equal(t, "全部同意（3）", batch.Buttons[0].Label)

	// 孙会计 approves one of them first: it is decided, not approved twice.
	sunTasks, err := engine.Tasks(ctx, flows.TaskQuery{Assignee: "u_sun", Status: flows.TaskOpen, Limit: 10})
	require.NoError(t, err)
	_, err = engine.Approve(ctx, flows.DecideRequest{Actor: "u_sun", TaskID: sunTasks[0].Task.ID})
	require.NoError(t, err)

	click := bot.Click{Platform: "sim", EventID: "e-batch", PlatformUserID: "qian", Payload: batch.Buttons[0].Payload,
		Action: flows.ActApprove}
	reply, err := actions.Click(ctx, click)
	require.NoError(t, err)
	require.Equal(t, bot.ToastWarning, reply.Toast.Kind)
	require.Equal(t, "已同意 2 项；1 项已由他人处理", reply.Toast.Text)
	require.Empty(t, reply.Card.Buttons)
	again, err := actions.Click(ctx, click)
	require.NoError(t, err)
	require.Equal(t, reply.Toast, again.Toast, "a retried click is answered alike and approves nothing more")
	open, err := engine.Tasks(ctx, flows.TaskQuery{Assignee: "u_qian", Status: flows.TaskOpen, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, open)

	// Someone else's click on the same batch card approves nothing.
	reply, err = actions.Click(ctx, bot.Click{Platform: "sim", EventID: "e-other", PlatformUserID: "wu",
		Payload: batch.Buttons[0].Payload, Action: flows.ActApprove})
	require.NoError(t, err)
	require.Equal(t, bot.ToastWarning, reply.Toast.Kind)
	require.Contains(t, reply.Toast.Text, "已同意 0 项")

	// A forged batch is not read.
	reply, err = actions.Click(ctx, bot.Click{Platform: "sim", EventID: "e-bad", PlatformUserID: "qian",
		Payload: "l:i:" + instances[0] + ":1", Action: flows.ActApprove})
	require.NoError(t, err)
	require.Equal(t, bot.ToastError, reply.Toast.Kind)
}
