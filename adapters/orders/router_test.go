package orders_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/flows"
	"cardflow/internal/exampletest"
)

func TestRouterStartsFlowsOnceAndSkipsRefusals(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	store := newMemStore()
	log := bottest.NewLog()
	r := orders.NewRouter(store, exampleRules(t), engine, log.Logger, nil)
	ctx := t.Context()
	now := time.Now()

	tb, err := orders.Taobao(sample(t, "taobao_fullinfo.json"))
	require.NoError(t, err)
	erp, err := orders.Generic(sample(t, "generic.json")) // platform erp: the flow's "other" channel
	require.NoError(t, err)
	bad := erp
	bad.No, bad.Lines = "E-NO-LINES", nil // the flow needs its items
	for _, e := range []orders.Event{orders.OrderEvent("erp", erp, now), orders.OrderEvent("tmall-main", tb, now),
		orders.OrderEvent("erp", bad, now)} {
		_, _, err := store.IngestOrderEvent(ctx, e.Order.Platform, e)
		require.NoError(t, err)
	}
	n, err := r.RouteOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	left, err := store.UnroutedOrderEvents(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, left, "a start the flow refuses is logged, not retried for ever")
	require.Contains(t, log.String(), "order event could not start its flow")
	require.Contains(t, log.String(), `"flow":"order_fulfilment"`)
	require.Contains(t, log.String(), "E-NO-LINES")

	views, err := engine.Tasks(ctx, flows.TaskQuery{Assignee: "u_qian", Status: flows.TaskOpen, Limit: 10})
	require.NoError(t, err)
	require.Len(t, views, 2, "the Taobao order and the ERP's wait for finance; the order without lines starts nothing")
	platforms := map[string]bool{}
	for _, v := range views {
		for _, fv := range v.Form {
			if fv.Field.Key == "platform" {
				platforms[fv.Value.(string)] = true
			}
		}
	}
	require.Equal(t, map[string]bool{"tmall": true, "other": true}, platforms, "an ERP's order is of the other channel")
}

type downEngine struct{ calls int }

func (d *downEngine) Start(context.Context, flows.StartRequest) (flows.Result, error) {
	d.calls++
	return flows.Result{}, fmt.Errorf("start: %w", flows.ErrUnavailable)
}

func TestRouterKeepsEventsWhileTheStoreIsDown(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	down := &downEngine{}
	r := orders.NewRouter(store, exampleRules(t), down, bottest.NewLog().Logger, nil)
	tb, err := orders.Taobao(sample(t, "taobao_fullinfo.json"))
	require.NoError(t, err)
	_, _, err = store.IngestOrderEvent(t.Context(), "tmall-main", orders.OrderEvent("tmall-main", tb, time.Now()))
	require.NoError(t, err)
	_, err = r.RouteOnce(t.Context())
	require.ErrorIs(t, err, flows.ErrUnavailable)
	left, err := store.UnroutedOrderEvents(t.Context(), 10)
	require.NoError(t, err)
	require.Len(t, left, 1, "kept for the next round")
	require.Equal(t, 1, down.calls)
}

// TestRouterKeepsEventsUntilLinked: an instance started but not linked to
// its order leaves the event unrouted; the next round starts it again (the
// same instance, by the event's key) and links it.
func TestRouterKeepsEventsUntilLinked(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	store := newMemStore()
	r := orders.NewRouter(store, exampleRules(t), engine, bottest.NewLog().Logger, nil)
	tb, err := orders.Taobao(sample(t, "taobao_fullinfo.json"))
	require.NoError(t, err)
	_, _, err = store.IngestOrderEvent(t.Context(), "tmall-main", orders.OrderEvent("tmall-main", tb, time.Now()))
	require.NoError(t, err)
	store.mu.Lock()
	store.linkFail = fmt.Errorf("link: %w", flows.ErrUnavailable)
	store.mu.Unlock()
	_, err = r.RouteOnce(t.Context())
	require.ErrorIs(t, err, flows.ErrUnavailable)
	left, err := store.UnroutedOrderEvents(t.Context(), 10)
	require.NoError(t, err)
	require.Len(t, left, 1, "kept for the next round")

	store.mu.Lock()
	store.linkFail = nil
	store.mu.Unlock()
	n, err := r.RouteOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	links, err := store.OrderInstances(t.Context(), tb.Platform, tb.Shop, tb.No, 5)
	require.NoError(t, err)
	require.Len(t, links, 1)
	views, err := engine.Tasks(t.Context(), flows.TaskQuery{Status: flows.TaskOpen, Limit: 10})
	require.NoError(t, err)
	require.NotEmpty(t, views)
	for _, v := range views {
		require.Equal(t, links[0].InstanceID, v.Task.InstanceID, "one instance, started twice")
	}
}

func TestOrderCommand(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	tb, err := orders.Taobao(sample(t, "taobao_fullinfo.json"))
	require.NoError(t, err)
	_, _, err = store.IngestOrderEvent(t.Context(), "tmall-main", orders.OrderEvent("tmall-main", tb, time.Now()))
	require.NoError(t, err)
	router := bot.NewRouter()
	orders.RegisterCommands(router, store, orders.CommandOptions{})
	reader := bot.Reader{UserID: "chen", Locale: bot.LocaleZH, Zone: time.FixedZone("CST", 8*3600)}
	ask := func(text string) []bot.Card {
		cards, err := router.Handle(t.Context(), bot.Request{Reader: reader, Message: bot.Message{Text: text}})
		require.NoError(t, err)
		return cards
	}
	cards := ask("查单 4012345678901234567")
	require.Len(t, cards, 1)
	c := cards[0]
	require.Equal(t, "订单 4012345678901234567 · ¥188.00", c.Title)
	require.Equal(t, "淘宝/天猫 · 云栖旗舰店 · 待发货", c.Subtitle)
	require.Contains(t, c.Fields, bot.Field{Label: "付款时间", Value: "2024-06-18 20:15", Short: true})
	require.Contains(t, c.Fields, bot.Field{Label: "优惠", Value: "¥10.00", Short: true})
	require.Equal(t, [][]string{{"TS-BLK-L", "纯棉T恤 黑 L", "2", "¥99.00"}}, c.Tables[0].Rows)

	reader.Locale, reader.Zone = bot.LocaleEN, time.UTC
	c = ask("/order 4012345678901234567")[0]
	require.Equal(t, "Order 4012345678901234567 · ¥188.00", c.Title)
	require.Contains(t, c.Fields, bot.Field{Label: "Paid at", Value: "2024-06-18 12:15", Short: true}, "in the reader's zone")
	require.Equal(t, "No order 999", ask("/order 999")[0].Title)
	require.Equal(t, "Usage", ask("/order")[0].Title)
}

// TestOrderCardStartsAReturn: the order card offers the return flow, filled
// with the order's number and paid amount; customer service picks the kind
// and gives the reason on the card, and the click starts the flow.
func TestOrderCardStartsAReturn(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	store := newMemStore()
	tb, err := orders.Taobao(sample(t, "taobao_fullinfo.json"))
	require.NoError(t, err)
	_, _, err = store.IngestOrderEvent(t.Context(), "tmall-main", orders.OrderEvent("tmall-main", tb, time.Now()))
	require.NoError(t, err)
	returns, err := engine.Flow(t.Context(), "return_exchange", 0)
	require.NoError(t, err)
	router := bot.NewRouter()
	orders.RegisterCommands(router, store, orders.CommandOptions{ReturnFlow: returns})
	render := bot.NewCardRenderer(engine, engine, bot.RendererOptions{})
	actions := bot.NewActions(bot.ActionsDeps{Engine: engine, Directory: engine, Render: render, Router: router})

	cards, err := actions.Message(t.Context(), bot.Message{Platform: "sim", EventID: "m1", PlatformUserID: "chen",
		Text: "查单 4012345678901234567"})
	require.NoError(t, err)
	c := cards[0]
	require.Len(t, c.Buttons, 1)
	b := c.Buttons[0]
	require.Equal(t, "申请退换货", b.Label)
	require.True(t, b.NeedsInput)
	var asked []string
	for _, in := range c.Inputs {
		asked = append(asked, in.Name)
	}
	require.Equal(t, []string{"kind", "reason"}, asked, "the card asks what it cannot fill; photos wait for the full form")

	values := map[string]string{"kind": "退货", "reason": "尺码不合适"}
	for k, v := range b.Values {
		values[k] = v
	}
	reply, err := actions.Click(t.Context(), bot.Click{Platform: "sim", EventID: "c1", PlatformUserID: "chen",
		Payload: b.Payload, Action: b.Action, Values: values})
	require.NoError(t, err)
	require.Equal(t, bot.ToastSuccess, reply.Toast.Kind, reply.Toast.Text)
	require.Equal(t, "退货 · 4012345678901234567 · ¥188.00", reply.Card.Title)
}

// TestRouterFollowsAnOrdersLife: an order's states each start what they
// call for once per order, however often or late they come; a refund
// asked again after a refusal is a new request; a refusal is no second
// payment; an amount corrected is news, not a duplicate.
func TestRouterFollowsAnOrdersLife(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	store := newMemStore()
	r := orders.NewRouter(store, exampleRules(t), engine, bottest.NewLog().Logger, nil)
	ctx := t.Context()
	base, err := orders.Taobao(sample(t, "taobao_fullinfo.json"))
	require.NoError(t, err)
	t0 := base.UpdatedAt
	send := func(minutes int, change func(*orders.Order)) bool {
		o := base
		o.Lines = slices.Clone(base.Lines)
		o.UpdatedAt = t0.Add(time.Duration(minutes) * time.Minute)
		change(&o)
		first, _, err := store.IngestOrderEvent(ctx, "tmall-main", orders.OrderEvent("tmall-main", o, time.Now()))
		require.NoError(t, err)
		_, err = r.RouteOnce(ctx)
		require.NoError(t, err)
		return first
	}
	flowsOf := func() map[string]int {
		views, err := engine.ListInstances(ctx, flows.InstanceQuery{Viewer: "u_shen"})
		require.NoError(t, err)
		n := map[string]int{}
		for _, v := range views.Instances {
			n[v.Instance.FlowID]++
		}
		return n
	}
	paid := func(o *orders.Order) { o.Status, o.Refund = orders.StatusPaid, "" }
	require.True(t, send(0, paid))
	require.False(t, send(0, paid), "the same message twice is one event")
	require.True(t, send(5, paid), "the paid state sent again later is news")
	require.Equal(t, map[string]int{"order_fulfilment": 1}, flowsOf(), "but the order is fulfilled once")

	asked := func(o *orders.Order) { o.Status, o.Refund = orders.StatusPaid, orders.RefundRequested }
	require.True(t, send(10, asked))
	require.True(t, send(20, func(o *orders.Order) { o.Status, o.Refund = orders.StatusPaid, orders.RefundRefused }))
	require.Equal(t, map[string]int{"order_fulfilment": 1, "return_exchange": 1}, flowsOf(), "a refusal is no second payment")
	require.True(t, send(30, asked), "a refund asked again after a refusal is news")
	require.Equal(t, map[string]int{"order_fulfilment": 1, "return_exchange": 2}, flowsOf(), "and a new request")

	require.True(t, send(40, func(o *orders.Order) { o.Status, o.Refund = orders.StatusShipped, "" }))
	require.True(t, send(35, paid), "an older paid state arriving late is recorded")
	require.Equal(t, map[string]int{"order_fulfilment": 1, "return_exchange": 2}, flowsOf(), "and starts nothing")

	require.True(t, send(40, func(o *orders.Order) { o.Status, o.Refund, o.Paid = orders.StatusShipped, "", o.Paid-100 }),
		"an amount corrected at the same time is news")
}
