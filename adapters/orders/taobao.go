package orders

import (
	"encoding/json"
	"fmt"
)

// taobaoTrade is a trade of taobao.trade.fullinfo.get (simplify=true), the
// detail a shop's ISV pushes on after a TMC message.
type taobaoTrade struct {
	Tid           text `json:"tid"`
	TidStr        text `json:"tid_str"`
	Status        text `json:"status"`
	SellerNick    text `json:"seller_nick"`
	BuyerNick     text `json:"buyer_nick"`
	Payment       text `json:"payment"`
	TotalFee      text `json:"total_fee"`
	PostFee       text `json:"post_fee"`
	DiscountFee   text `json:"discount_fee"`
	Created       text `json:"created"`
	PayTime       text `json:"pay_time"`
	ConsignTime   text `json:"consign_time"`
	Modified      text `json:"modified"`
	ReceiverState text `json:"receiver_state"`
	ReceiverCity  text `json:"receiver_city"`
	Orders        []struct {
		Oid          text `json:"oid"`
		SkuID        text `json:"sku_id"`
		NumIID       text `json:"num_iid"`
		OuterSkuID   text `json:"outer_sku_id"`
		OuterIID     text `json:"outer_iid"`
		Title        text `json:"title"`
		Num          text `json:"num"`
		Price        text `json:"price"`
		Payment      text `json:"payment"`
		RefundStatus text `json:"refund_status"`
	} `json:"orders"`
}

var taobaoStatus = map[string]Status{
	"WAIT_BUYER_PAY": StatusUnpaid, "TRADE_NO_CREATE_PAY": StatusUnpaid, "WAIT_SELLER_SEND_GOODS": StatusPaid,
	"PAID_FORBID_CONSIGN": StatusPaused, "SELLER_CONSIGNED_PART": StatusPartShipped,
	"WAIT_BUYER_CONFIRM_GOODS": StatusShipped, "TRADE_BUYER_SIGNED": StatusShipped, "TRADE_FINISHED": StatusFinished,
	"TRADE_CLOSED": StatusClosed, "TRADE_CLOSED_BY_TAOBAO": StatusCancelled,
}

var taobaoRefund = map[string]RefundStatus{
	"": "", "NO_REFUND": "", "WAIT_SELLER_AGREE": RefundRequested, "WAIT_BUYER_RETURN_GOODS": RefundRequested,
	"WAIT_SELLER_CONFIRM_GOODS": RefundRequested, "SELLER_REFUSE_BUYER": RefundRefused, "CLOSED": RefundClosed,
	"SUCCESS": RefundDone,
}

// Taobao normalises a Taobao/Tmall trade: the taobao.trade.fullinfo.get
// response, or its bare trade object.
func Taobao(raw []byte) (Order, error) {
	var env struct {
		Resp *struct {
			Trade *taobaoTrade `json:"trade"`
		} `json:"trade_fullinfo_get_response"`
		Trade *taobaoTrade `json:"trade"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return Order{}, fmt.Errorf("taobao: %w", err)
	}
	t := env.Trade
	if env.Resp != nil && env.Resp.Trade != nil {
		t = env.Resp.Trade
	}
	if t == nil {
		return Order{}, fmt.Errorf("taobao: no trade (expected trade_fullinfo_get_response.trade)")
	}
	p := &problems{}
	o := Order{Platform: "taobao", Shop: t.SellerNick.String(), No: t.TidStr.String(),
		PlatformStatus: t.Status.String(), Province: t.ReceiverState.String(), City: t.ReceiverCity.String()}
	if o.No == "" {
		o.No = t.Tid.String()
	}
	o.Buyer = maskNick(t.BuyerNick.String())
	var ok bool
	if o.Status, ok = taobaoStatus[o.PlatformStatus]; !ok {
		p.add(fmt.Errorf("status %q: not a Taobao trade status", clip(o.PlatformStatus)))
	}
	p.money("payment", t.Payment, &o.Paid)
	p.money("total_fee", t.TotalFee, &o.Total)
	p.money("post_fee", t.PostFee, &o.Postage)
	p.money("discount_fee", t.DiscountFee, &o.Discount)
	var err error
	o.CreatedAt, err = parseLocal("created", t.Created.String())
	p.add(err)
	o.PaidAt, err = parseLocal("pay_time", t.PayTime.String())
	p.add(err)
	o.ShippedAt, err = parseLocal("consign_time", t.ConsignTime.String())
	p.add(err)
	o.UpdatedAt, err = parseLocal("modified", t.Modified.String())
	p.add(err)
	for i, l := range t.Orders {
		line := Line{SKU: l.SkuID.String(), OuterSKU: l.OuterSkuID.String(), Title: l.Title.String()}
		if line.SKU == "" {
			line.SKU = l.NumIID.String()
		}
		if line.OuterSKU == "" {
			line.OuterSKU = l.OuterIID.String()
		}
		line.Qty, err = parseQty(fmt.Sprintf("orders[%d].num", i), l.Num)
		p.add(err)
		p.money(fmt.Sprintf("orders[%d].price", i), l.Price, &line.Price)
		p.money(fmt.Sprintf("orders[%d].payment", i), l.Payment, &line.Paid)
		if line.Refund, ok = taobaoRefund[l.RefundStatus.String()]; !ok {
			p.add(fmt.Errorf("orders[%d].refund_status %q: unknown", i, clip(l.RefundStatus.String())))
		}
		o.Refund = mergeRefund(o.Refund, line.Refund)
		o.Lines = append(o.Lines, line)
	}
	if err := p.err(); err != nil {
		return Order{}, fmt.Errorf("taobao: %w", err)
	}
	return o, o.Validate()
}

// mergeRefund is an order's refund status from its lines': a refund being
// handled shows first, then a done one.
func mergeRefund(order, line RefundStatus) RefundStatus {
	rank := map[RefundStatus]int{"": 0, RefundClosed: 1, RefundRefused: 2, RefundDone: 3, RefundRequested: 4}
	if rank[line] > rank[order] {
		return line
	}
	return order
}

// maskNick keeps a buyer nick only masked: its first character and
// asterisks. Taobao sends nicks encrypted or masked already; a nick that
// is clear is masked here, so none is ever stored in clear.
func maskNick(s string) string {
	r := []rune(s)
	switch {
	case len(r) == 0:
		return ""
	case len(r) > 32 || containsRune(r, '*'):
		return string(r[:min(len(r), 32)])
	}
	return string(r[:1]) + "**"
}

func containsRune(r []rune, c rune) bool {
	for _, x := range r {
		if x == c {
			return true
		}
	}
	return false
}
