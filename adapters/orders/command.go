package orders

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"cardflow/bot"
	"cardflow/flows"
)

// maxOrderCards bounds the cards one look-up answers with (one number on
// several platforms).
const maxOrderCards = 5

// CommandOptions tune the order commands.
type CommandOptions struct {
	// ReturnFlow, when set, is the flow an order card offers to start
	// (退换货): the order's number and paid amount fill its order_no and
	// refund_amount fields, the card asks for the others.
	ReturnFlow *flows.Flow
	// Instances, when set, reads the flow instances started for an order,
	// which its card lists (flows.Store).
	Instances Instances
	// ConsoleURL is the web console's base URL; the instances a card
	// lists link to it when it is set.
	ConsoleURL string
}

// RegisterCommands adds /order (查单) to the chat router: an order looked
// up by number, answered as a card.
func RegisterCommands(r *bot.Router, store Store, opts CommandOptions) {
	cmd := bot.Command{Names: []string{"/order", "查单", "订单"},
		UsageZH: "/order <订单号> 或 查单 <订单号>  查询订单", UsageEN: "/order <order no.>  look an order up"}
	cmd.Run = func(ctx context.Context, req bot.Request, args []string) ([]bot.Card, error) {
		if len(args) != 1 || len(args[0]) > 64 {
			return []bot.Card{bot.UsageCard(req.Reader.Locale, cmd)}, nil
		}
		found, err := store.OrdersByNo(ctx, args[0])
		if err != nil {
			return nil, fmt.Errorf("orders: look up %s: %w", clip(args[0]), err)
		}
		en := req.Reader.Locale == bot.LocaleEN
		if len(found) == 0 {
			c := bot.Card{Subject: "order-" + args[0], Status: bot.StatusInfo, Title: "没有找到订单 " + args[0],
				Text: "请核对订单号；刚付款的订单可能要几秒后才能查到。"}
			if en {
				c.Title, c.Text = "No order "+args[0], "Check the number; an order just paid may take a few seconds to show."
			}
			return []bot.Card{c}, nil
		}
		var cards []bot.Card
		for _, o := range found[:min(len(found), maxOrderCards)] {
			c := OrderCard(o, req.Reader)
			if err := addInstances(ctx, &c, o, store, opts, req.Reader); err != nil {
				return nil, fmt.Errorf("orders: look up %s: %w", clip(args[0]), err)
			}
			offerReturn(&c, o, opts.ReturnFlow, req.Reader.Locale)
			cards = append(cards, c)
		}
		return cards, nil
	}
	r.Register(cmd)
}

// platformNames are the shop platforms as people call them.
var platformNames = map[string][2]string{"taobao": {"淘宝/天猫", "Taobao/Tmall"}, "jd": {"京东", "JD"},
	"pdd": {"拼多多", "Pinduoduo"}, "douyin": {"抖店", "Douyin Shop"}}

var statusEN = map[Status]string{StatusUnpaid: "Awaiting payment", StatusPaid: "To ship", StatusPaused: "Shipping paused",
	StatusPartShipped: "Partly shipped", StatusShipped: "Shipped", StatusFinished: "Completed",
	StatusCancelled: "Cancelled", StatusClosed: "Closed"}

var refundWords = map[RefundStatus][2]string{RefundRequested: {"退款处理中", "Refund in progress"},
	RefundDone: {"已退款", "Refunded"}, RefundRefused: {"退款被拒绝", "Refund refused"}, RefundClosed: {"退款已关闭", "Refund closed"}}

// OrderCard shows an order to a reader: in their language, its times in
// their zone.
func OrderCard(o Order, r bot.Reader) bot.Card {
	en := r.Locale == bot.LocaleEN
	pick := func(zh, english string) string {
		if en {
			return english
		}
		return zh
	}
	platform := o.Platform
	if n, ok := platformNames[o.Platform]; ok {
		platform = pick(n[0], n[1])
	}
	status := o.Status.Label()
	if en {
		status = statusEN[o.Status]
	}
	zone := r.Zone
	if zone == nil {
		zone = china
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(zone).Format("2006-01-02 15:04")
	}
	c := bot.Card{Subject: "order-" + o.Platform + "-" + o.No, Status: bot.StatusInfo,
		Title:    pick("订单 ", "Order ") + o.No + " · " + o.Paid.String(),
		Subtitle: strings.Join(nonEmpty(platform, o.Shop, status), " · ")}
	add := func(zh, english, value string, short bool) {
		if value != "" {
			c.Fields = append(c.Fields, bot.Field{Label: pick(zh, english), Value: value, Short: short})
		}
	}
	add("状态", "Status", status, true)
	if w, ok := refundWords[o.Refund]; ok {
		add("退款", "Refund", pick(w[0], w[1]), true)
		if o.Refund == RefundRequested {
			c.Status = bot.StatusReturned
		}
	}
	add("实付", "Paid", o.Paid.String(), true)
	if o.Total != 0 {
		add("商品金额", "Goods", o.Total.String(), true)
	}
	if o.Postage != 0 {
		add("运费", "Postage", o.Postage.String(), true)
	}
	if o.Discount != 0 {
		add("优惠", "Discount", o.Discount.String(), true)
	}
	add("买家", "Buyer", o.Buyer, true)
	add("收货地区", "Ship to", strings.Join(nonEmpty(o.Province, o.City), " "), true)
	add("下单时间", "Placed", when(o.CreatedAt), true)
	add("付款时间", "Paid at", when(o.PaidAt), true)
	add("发货时间", "Shipped", when(o.ShippedAt), true)
	if len(o.Lines) > 0 {
		t := bot.Table{Columns: []string{"SKU", pick("商品", "Item"), pick("数量", "Qty"), pick("单价", "Price")}}
		for _, l := range o.Lines {
			sku := l.OuterSKU
			if sku == "" {
				sku = l.SKU
			}
			t.Rows = append(t.Rows, []string{sku, l.Title, strconv.FormatInt(l.Qty, 10), l.Price.String()})
		}
		c.Tables = []bot.Table{t}
	}
	return c
}

func nonEmpty(s ...string) []string {
	out := s[:0:0]
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// Fields of a return flow an order card fills in itself.
const (
	returnOrderNo = "order_no"
	returnAmount  = "refund_amount"
)

// offerReturn adds to an order card the inputs and the button that start
// the return flow for it, when the flow takes the order's number and a
// refund amount; the card asks for the flow's other fields (what kind of
// return, why). A field of a kind a card cannot take (attachments) is left
// to the full form.
func offerReturn(c *bot.Card, o Order, f *flows.Flow, l bot.Locale) {
	if f == nil || o.Status == StatusUnpaid || o.Status == StatusCancelled {
		return
	}
	var ask []*flows.Field
	has := map[string]bool{}
	for _, fd := range f.Form {
		has[fd.Key] = true
		switch {
		case fd.Key == returnOrderNo || fd.Key == returnAmount:
		case fd.Type == flows.FieldAttachment || fd.Type == flows.FieldTable:
			if fd.Required {
				return // the card cannot take it
			}
		default:
			ask = append(ask, fd)
		}
	}
	if !has[returnOrderNo] || !has[returnAmount] {
		return
	}
	label := "申请" + f.Name
	if l == bot.LocaleEN {
		label = "Start " + f.Name
	}
	c.Inputs = bot.FormInputs(ask, l)
	c.Buttons = []bot.Button{{Label: label, Style: bot.StyleDefault, Action: flows.ActStart,
		Payload: bot.Payload{FlowID: f.ID}.String(), NeedsInput: len(ask) > 0,
		Values: map[string]string{returnOrderNo: o.No, returnAmount: o.Paid.Decimal().StringFixed(2),
			ValueOrder: orderValue(o)}}}
}
