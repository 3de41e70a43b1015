package orders_test

import (
	"io/fs"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/configs"
	"cardflow/flows"
	"cardflow/internal/exampletest"
)

func exampleRules(t *testing.T) *orders.Rules {
	t.Helper()
	data, err := fs.ReadFile(configs.Examples, "order_rules.example.yaml")
	require.NoError(t, err)
	rs, err := orders.ParseRules("order_rules.example.yaml", data)
	require.NoError(t, err)
	byID := map[string]*flows.Flow{}
	for _, f := range exampletest.Flows(t) {
		byID[f.ID] = f
	}
	require.NoError(t, rs.Check(func(id string) (*flows.Flow, bool) { f, ok := byID[id]; return f, ok }))
	return rs
}

// TestExampleRulesStartTheExampleFlows routes the samples through the
// example rules and starts what they call for on the example flows: the
// forms the rules build must pass the flows' own validation.
func TestExampleRulesStartTheExampleFlows(t *testing.T) {
	t.Parallel()
	rs := exampleRules(t)
	_, engine := exampletest.World(t)
	o, err := orders.Taobao(sample(t, "taobao_fullinfo.json"))
	require.NoError(t, err)
	now := time.Now()

	starts, err := rs.Starts(orders.StoredEvent{Source: "tmall-main", Event: orders.OrderEvent("tmall-main", o, now), Order: o})
	require.NoError(t, err)
	require.Len(t, starts, 1)
	require.Equal(t, "order_fulfilment", starts[0].FlowID)
	require.Equal(t, map[string]any{"order_no": "4012345678901234567", "platform": "tmall", "amount": "188.00",
		"items": []any{map[string]any{"sku": "TS-BLK-L", "qty": int64(2), "price": "99.00"}}}, starts[0].Form)
	res, err := engine.Start(t.Context(), starts[0])
	require.NoError(t, err)
	again, err := engine.Start(t.Context(), starts[0])
	require.NoError(t, err)
	require.Equal(t, res.InstanceID, again.InstanceID, "one event starts its flow once")

	o.Refund = orders.RefundRequested
	starts, err = rs.Starts(orders.StoredEvent{Source: "tmall-main", Event: orders.OrderEvent("tmall-main", o, now), Order: o})
	require.NoError(t, err)
	require.Len(t, starts, 1)
	require.Equal(t, "return_exchange", starts[0].FlowID)
	_, err = engine.Start(t.Context(), starts[0])
	require.NoError(t, err)

	o.Refund, o.Status = "", orders.StatusShipped
	starts, err = rs.Starts(orders.StoredEvent{Source: "tmall-main", Event: orders.OrderEvent("tmall-main", o, now), Order: o})
	require.NoError(t, err)
	require.Empty(t, starts, "no rule acts on a shipment")
}

func TestRulesWhen(t *testing.T) {
	t.Parallel()
	rs, err := orders.ParseRules("r.yaml", []byte(`
rules:
  - on: order.paid
    when: order.paid_yuan > 5000 && order.province == "浙江省"
    start: big
    form: {order_no: order.no}
`))
	require.NoError(t, err)
	o := orders.Order{Platform: "jd", No: "1", Status: orders.StatusPaid, Paid: 500001, Province: "浙江省"}
	ev := orders.StoredEvent{Source: "s", Event: orders.OrderEvent("s", o, time.Now()), Order: o}
	starts, err := rs.Starts(ev)
	require.NoError(t, err)
	require.Len(t, starts, 1)
	ev.Order.Paid = 500000
	starts, err = rs.Starts(ev)
	require.NoError(t, err)
	require.Empty(t, starts, "¥5,000.00 is not over 5000")
}

func TestBadRules(t *testing.T) {
	t.Parallel()
	_, err := orders.ParseRules("r.yaml", []byte(`
rules:
  - on: order.payed
    start: order_fulfilment
  - on: order.paid
    when: order.amount >
    form: {order_no: order.nope}
  - start: x
    colour: red
`))
	require.EqualError(t, err, `r.yaml:3: on: unknown event "order.payed" (one of order.created, order.paid, order.shipped, order.finished, order.cancelled, order.changed, refund.requested, refund.done)
r.yaml:6: when: unexpected token EOF (1:14)
r.yaml:7: form.order_no: type orders.OrderEnv has no field nope (1:7)
r.yaml:5: a rule needs start: the flow it starts
r.yaml:9: unknown key "colour" (expected name, on, when, start, form)
r.yaml:8: a rule needs on: the event it acts on`)

	rs, err := orders.ParseRules("r.yaml", []byte("rules:\n  - {on: order.paid, start: order_fulfilment, form: {order_no: order.no, colour: order.shop}}\n  - {on: order.paid, start: nope}\n  - {on: order.paid, start: oversell_alert}\n"))
	require.NoError(t, err)
	byID := map[string]*flows.Flow{}
	for _, f := range exampletest.Flows(t) {
		byID[f.ID] = f
	}
	require.EqualError(t, rs.Check(func(id string) (*flows.Flow, bool) { f, ok := byID[id]; return f, ok }),
		`r.yaml:2: form.colour: flow order_fulfilment has no such field
r.yaml:3: start: no flow "nope"
r.yaml:4: start: oversell_alert is an alert flow, opened by its events, not started`)
}
