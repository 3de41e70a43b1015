package orders_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/flows"
	"cardflow/internal/exampletest"
)

// TestOrderCardListsInstances: the fulfilment flow a rule started for an
// order, and the return flow started from the order's card, are linked to
// the order; its card lists both, latest first, with their flow, state and
// start time in the reader's zone, linked to the console.
func TestOrderCardListsInstances(t *testing.T) {
	t.Parallel()
	flowStore, engine := exampletest.World(t)
	store := newMemStore()
	ctx := t.Context()
	tb, err := orders.Taobao(sample(t, "taobao_fullinfo.json"))
	require.NoError(t, err)
	_, _, err = store.IngestOrderEvent(ctx, "tmall-main", orders.OrderEvent("tmall-main", tb, time.Now()))
	require.NoError(t, err)
	n, err := orders.NewRouter(store, exampleRules(t), engine, bottest.NewLog().Logger, nil).RouteOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	links, err := store.OrderInstances(ctx, tb.Platform, tb.Shop, tb.No, 5)
	require.NoError(t, err)
	require.Len(t, links, 1, "the router links the instance it started")
	require.Equal(t, "order_fulfilment", links[0].FlowID)
	fulfil, err := flowStore.Instance(ctx, links[0].InstanceID)
	require.NoError(t, err)

	returns, err := engine.Flow(ctx, "return_exchange", 0)
	require.NoError(t, err)
	router := bot.NewRouter()
	orders.RegisterCommands(router, store, orders.CommandOptions{ReturnFlow: returns, Instances: flowStore,
		ConsoleURL: "https://oa.example.com/"})
	actions := bot.NewActions(bot.ActionsDeps{Engine: engine, Directory: engine, Router: router,
		Render: bot.NewCardRenderer(engine, engine, bot.RendererOptions{}), Started: orders.CardStarts(store, nil)})
	ask := func(user string) bot.Card {
		cards, err := actions.Message(ctx, bot.Message{Platform: "sim", EventID: "m-" + user, PlatformUserID: user,
			Text: "查单 " + tb.No})
		require.NoError(t, err)
		require.Len(t, cards, 1)
		return cards[0]
	}
	china := time.FixedZone("CST", 8*3600)
	c := ask("chen")
	require.Equal(t, "**相关流程**\n- [订单履约](https://oa.example.com/console/instances/"+fulfil.ID+") · 进行中 · "+
		fulfil.CreatedAt.In(china).Format("2006-01-02 15:04"), c.Text)

	b := c.Buttons[0]
	values := map[string]string{"kind": "退货", "reason": "尺码不合适"}
	maps.Copy(values, b.Values)
	reply, err := actions.Click(ctx, bot.Click{Platform: "sim", EventID: "c1", PlatformUserID: "chen",
		Payload: b.Payload, Action: b.Action, Values: values})
	require.NoError(t, err)
	require.Equal(t, bot.ToastSuccess, reply.Toast.Kind, reply.Toast.Text)
	started, err := flowStore.Instance(ctx, reply.Card.InstanceID)
	require.NoError(t, err)
	_, err = engine.Withdraw(ctx, flows.InstanceRequest{Actor: started.Applicant, InstanceID: started.ID})
	require.NoError(t, err)

	links, err = store.OrderInstances(ctx, tb.Platform, tb.Shop, tb.No, 5)
	require.NoError(t, err)
	require.Len(t, links, 2, "the card's start is linked too")
	require.Equal(t, started.ID, links[0].InstanceID)
	require.Equal(t, "return_exchange", links[0].FlowID)

	c = ask("chen")
	require.Contains(t, c.Text, "- [退换货](https://oa.example.com/console/instances/"+started.ID+") · 已撤回 · ")
	require.Less(t, strings.Index(c.Text, "退换货"), strings.Index(c.Text, "订单履约"), "latest first")

	cards, err := router.Handle(ctx, bot.Request{Reader: bot.Reader{UserID: "u_chen", Locale: bot.LocaleEN, Zone: time.UTC},
		Message: bot.Message{Text: "/order " + tb.No}})
	require.NoError(t, err)
	require.Equal(t, "**Flows**\n- [退换货](https://oa.example.com/console/instances/"+started.ID+") · Withdrawn · "+
		started.CreatedAt.UTC().Format("2006-01-02 15:04")+"\n- [订单履约](https://oa.example.com/console/instances/"+
		fulfil.ID+") · In progress · "+fulfil.CreatedAt.UTC().Format("2006-01-02 15:04"), cards[0].Text, "in English, in UTC")

	// A click from a card about no stored order links nothing.
	hook := orders.CardStarts(store, nil)
	require.NoError(t, hook(ctx, bot.Click{Values: map[string]string{orders.ValueOrder: "p=taobao&s=x&n=nope"}},
		flows.Result{InstanceID: "in-x"}))
	require.NoError(t, hook(ctx, bot.Click{}, flows.Result{InstanceID: "in-y"}))
	links, err = store.OrderInstances(ctx, "taobao", "x", "nope", 5)
	require.NoError(t, err)
	require.Empty(t, links)
}
