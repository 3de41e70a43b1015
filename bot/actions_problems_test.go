package bot_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
	"cardflow/internal/exampletest"
)

// clicks is an engine on the example flows and org with the actions that
// take clicks on its cards.
type clicks struct {
	t       *testing.T
	engine  *flows.Engine
	actions *bot.Actions
}

func newClicks(t *testing.T) *clicks {
	_, engine := exampletest.World(t)
	render := bot.NewCardRenderer(engine, engine, bot.RendererOptions{})
	router := bot.NewRouter()
	bot.RegisterCommands(router, engine, render)
	return &clicks{t: t, engine: engine,
		actions: bot.NewActions(bot.ActionsDeps{Engine: engine, Directory: engine, Render: render, Router: router})}
}

// smallOrder starts an order of ¥100 as 陈: finance alone approves it.
func (x *clicks) smallOrder(no string) flows.Result {
	res, err := x.engine.Start(x.t.Context(), flows.StartRequest{Actor: "u_chen", FlowID: "order_fulfilment", Form: map[string]any{
		"order_no": no, "platform": "tmall", "amount": "100.00",
		"items": []any{map[string]any{"sku": "A", "qty": "1", "price": "100.00"}}}})
	require.NoError(x.t, err)
	return res
}

// open is user's one open task.
func (x *clicks) open(user string) string {
	views, err := x.engine.Tasks(x.t.Context(), flows.TaskQuery{Assignee: user, Status: flows.TaskOpen, Limit: 10})
	require.NoError(x.t, err)
	require.Len(x.t, views, 1)
	return views[0].Task.ID
}

// TestResultFormProblemsNamedByLabels: a task card's result form refused
// names its fields as the card shows them (运单号), not by their keys.
func TestResultFormProblemsNamedByLabels(t *testing.T) {
	t.Parallel()
	x := newClicks(t)
	ctx := t.Context()
	res := x.smallOrder("TM-8")
	_, err := x.engine.Act(ctx, flows.Action{Kind: flows.ActApprove, Actor: "u_qian", TaskID: x.open("u_qian"), Key: "k-qian"})
	require.NoError(t, err)
	view, err := x.engine.Instance(ctx, "u_feng", res.InstanceID)
	require.NoError(t, err)

	pack := bot.Payload{TaskID: x.open("u_feng"), Version: view.Instance.Version}.String()
	reply, err := x.actions.Click(ctx, bot.Click{Platform: "sim", EventID: "e1", PlatformUserID: "feng", Payload: pack,
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
	actions := newClicks(t).actions
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

// TestStartFormBreakingARuleSaysSo: a start form whose dates disagree is
// refused in the flow rule's own words, in the reader's language.
func TestStartFormBreakingARuleSaysSo(t *testing.T) {
	t.Parallel()
	x := newClicks(t)
	ctx := t.Context()
	values := map[string]string{"campaign": "双12", "platform": "tmall", "starts_on": "2026-12-12", "ends_on": "2026-12-10",
		"budget": "5000.00", "plan": "https://example.com/plan.pdf"}
	for _, tc := range []struct{ user, want string }{
		{"chu", "结束日期不能早于开始日期"},
		{"shen", "The campaign cannot end before it starts"},
	} {
		cards, err := x.actions.Message(ctx, bot.Message{Platform: "sim", EventID: "m-" + tc.user, PlatformUserID: tc.user,
			Text: "/start campaign_launch"})
		require.NoError(t, err)
		require.NotEmpty(t, cards[0].Buttons)
		reply, err := x.actions.Click(ctx, bot.Click{Platform: "sim", EventID: "s-" + tc.user, PlatformUserID: tc.user,
			Payload: cards[0].Buttons[0].Payload, Action: flows.ActStart, Values: values})
		require.NoError(t, err)
		require.Equal(t, bot.ToastError, reply.Toast.Kind)
		require.Contains(t, reply.Toast.Text, tc.want)
	}
}

// TestApproverEditsAFieldOnTheCard: a step that may change a field shows
// it on its card as a box holding the current value; 同意 with a changed
// value changes the form (the audit keeps old and new), a blank box or
// another button changes nothing, and a bad value is refused by its label.
func TestApproverEditsAFieldOnTheCard(t *testing.T) {
	t.Parallel()
	x := newClicks(t)
	ctx := t.Context()
	start := func(order string) (flows.Result, string) {
		res, err := x.engine.Start(ctx, flows.StartRequest{Actor: "u_zhou", FlowID: "return_exchange", Form: map[string]any{
			"order_no": order, "kind": "退货", "reason": "破损", "refund_amount": "99.90"}})
		require.NoError(t, err)
		views, err := x.engine.Tasks(ctx, flows.TaskQuery{Assignee: "u_chen", Status: flows.TaskOpen, Limit: 10})
		require.NoError(t, err)
		for _, v := range views {
			if v.Task.InstanceID == res.InstanceID {
				return res, v.Task.ID
			}
		}
		t.Fatalf("no task of %s for 陈", res.InstanceID)
		return res, ""
	}
	res, task := start("JD-1")
	chen, err := x.engine.User(ctx, "u_chen")
	require.NoError(t, err)
	card, err := bot.NewCardRenderer(x.engine, x.engine, bot.RendererOptions{}).TaskCard(ctx, bot.ReaderFor(chen, ""), task, nil)
	require.NoError(t, err)
	var box *bot.Input
	for i, in := range card.Inputs {
		if in.Name == bot.InputEdit+"refund_amount" {
			box = &card.Inputs[i]
		}
	}
	require.NotNil(t, box, "the editable field has a box: %+v", card.Inputs)
	require.Equal(t, "99.90", box.Value)
	require.Equal(t, "退款金额", box.Label)
	require.True(t, card.Buttons[0].NeedsInput, "同意 opens the box first")

	click := func(id string, action flows.ActionKind, payloadTask string, version int64, values map[string]string) bot.ClickReply {
		reply, err := x.actions.Click(ctx, bot.Click{Platform: "sim", EventID: id, PlatformUserID: "chen",
			Payload: bot.Payload{TaskID: payloadTask, Version: version}.String(), Action: action, Values: values})
		require.NoError(t, err)
		return reply
	}
	reply := click("e1", flows.ActApprove, task, card.Version, map[string]string{bot.InputEdit + "refund_amount": "-1"})
	require.Equal(t, bot.ToastError, reply.Toast.Kind)
	require.Contains(t, reply.Toast.Text, "退款金额")
	reply = click("e2", flows.ActApprove, task, card.Version, map[string]string{bot.InputEdit + "refund_amount": "80.00", bot.InputComment: "部分退款"})
	require.Equal(t, bot.ToastSuccess, reply.Toast.Kind, reply.Toast.Text)
	view, err := x.engine.Instance(ctx, "u_zhou", res.InstanceID)
	require.NoError(t, err)
	for _, fv := range view.Form {
		if fv.Field.Key == "refund_amount" {
			require.Equal(t, "¥80.00", flows.DisplayValue(fv.Field, fv.Value, false))
		}
	}
	edited := false
	for _, a := range view.Audit {
		if strings.Contains(string(a.Detail), `"old":"99.90"`) && strings.Contains(string(a.Detail), `"new":"80.00"`) {
			edited = true
		}
	}
	require.True(t, edited, "the audit keeps the old and the new value: %+v", view.Audit)

	res, task = start("JD-2")
	reply = click("e3", flows.ActReject, task, res.Version, map[string]string{bot.InputEdit + "refund_amount": "1.00", bot.InputComment: "不符合退货条件"})
	require.Equal(t, bot.ToastSuccess, reply.Toast.Kind, reply.Toast.Text)
	view, err = x.engine.Instance(ctx, "u_zhou", res.InstanceID)
	require.NoError(t, err)
	for _, fv := range view.Form {
		if fv.Field.Key == "refund_amount" {
			require.Equal(t, "¥99.90", flows.DisplayValue(fv.Field, fv.Value, false), "a rejection changes no field")
		}
	}
}

// TestAlertCardSaysEachAlertsLatestFigures: an alert fired again with new
// figures (more oversold) shows them, not the first ones; a group of
// alerts is named by what they share, each alert listed with its own.
func TestAlertCardSaysEachAlertsLatestFigures(t *testing.T) {
	t.Parallel()
	x := newClicks(t)
	ctx := t.Context()
	fire := func(sku string, qty int, order string) {
		_, err := x.engine.Alert(ctx, flows.AlertEvent{Source: "stock-sync", Event: "stock.oversell",
			Form: map[string]any{"sku": sku, "warehouse": "main", "platform": "tmall", "oversold_qty": qty, "order_no": order}})
		require.NoError(t, err)
	}
	fire("COAT-1", 2, "E-1")
	fire("COAT-1", 5, "E-2")
	feng, err := x.engine.User(ctx, "u_feng")
	require.NoError(t, err)
	card, err := bot.NewCardRenderer(x.engine, x.engine, bot.RendererOptions{}).TaskCard(ctx, bot.ReaderFor(feng, ""), x.open("u_feng"), nil)
	require.NoError(t, err)
	require.Contains(t, card.Text, "COAT-1/main · 平台 天猫 · 超卖数量 5 · 最新订单号 E-2 · 2 次", card.Text)
	require.Contains(t, card.Fields, bot.Field{Label: "超卖数量", Value: "5", Short: true}, "the fields say the latest figures too")

	fire("X-B", 3, "G-4")
	card, err = bot.NewCardRenderer(x.engine, x.engine, bot.RendererOptions{}).TaskCard(ctx, bot.ReaderFor(feng, ""), x.open("u_feng"), nil)
	require.NoError(t, err)
	require.Equal(t, "超卖告警 · main · 2 条告警", card.Title)
	require.Contains(t, card.Text, "X-B/main · 平台 天猫 · 超卖数量 3 · 最新订单号 G-4 · 1 次", "the second alert's own figures")
}
