package orders

import (
	"encoding/json"
	"fmt"
)

// pddOrder is pdd.order.information.get's order_info. PDD sends amounts as
// JSON numbers in yuan (some SDKs as strings: both are read).
type pddOrder struct {
	OrderSN          text `json:"order_sn"`
	MallID           text `json:"mall_id"`
	OrderStatus      text `json:"order_status"`
	RefundStatus     text `json:"refund_status"`
	ConfirmStatus    text `json:"confirm_status"`
	PayAmount        text `json:"pay_amount"`
	GoodsAmount      text `json:"goods_amount"`
	DiscountAmount   text `json:"discount_amount"`
	Postage          text `json:"postage"`
	CreatedTime      text `json:"created_time"`
	PayTime          text `json:"pay_time"`
	ShippingTime     text `json:"shipping_time"`
	UpdatedAt        text `json:"updated_at"`
	Province         text `json:"province"`
	City             text `json:"city"`
	ReceiverNameMask text `json:"receiver_name_mask"`
	ItemList         []struct {
		SkuID      text `json:"sku_id"`
		OuterID    text `json:"outer_id"`
		GoodsName  text `json:"goods_name"`
		GoodsCount text `json:"goods_count"`
		GoodsPrice text `json:"goods_price"`
	} `json:"item_list"`
}

var pddStatus = map[string]Status{"1": StatusPaid, "2": StatusShipped, "3": StatusFinished}

var pddRefund = map[string]RefundStatus{"": "", "1": "", "2": RefundRequested, "3": RefundRequested, "4": RefundDone}

// PDD normalises a Pinduoduo order: the pdd.order.information.get response,
// or its bare order_info.
func PDD(raw []byte) (Order, error) {
	var env struct {
		Resp *struct {
			OrderInfo *pddOrder `json:"order_info"`
		} `json:"order_info_get_response"`
		OrderInfo *pddOrder `json:"order_info"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return Order{}, fmt.Errorf("pdd: %w", err)
	}
	d := env.OrderInfo
	if env.Resp != nil && env.Resp.OrderInfo != nil {
		d = env.Resp.OrderInfo
	}
	if d == nil {
		return Order{}, fmt.Errorf("pdd: no order (expected order_info_get_response.order_info)")
	}
	p := &problems{}
	o := Order{Platform: "pdd", Shop: d.MallID.String(), No: d.OrderSN.String(), PlatformStatus: d.OrderStatus.String(),
		Province: d.Province.String(), City: d.City.String(), Buyer: d.ReceiverNameMask.String()}
	var ok bool
	if o.Status, ok = pddStatus[o.PlatformStatus]; !ok {
		p.add(fmt.Errorf("order_status %q: not a PDD order status (1, 2 or 3)", clip(o.PlatformStatus)))
	}
	if d.ConfirmStatus.String() == "2" {
		o.Status, o.PlatformStatus = StatusCancelled, o.PlatformStatus+"/confirm 2"
	}
	if o.Refund, ok = pddRefund[d.RefundStatus.String()]; !ok {
		p.add(fmt.Errorf("refund_status %q: not a PDD refund status (1 to 4)", clip(d.RefundStatus.String())))
	}
	p.money("pay_amount", d.PayAmount, &o.Paid)
	p.money("goods_amount", d.GoodsAmount, &o.Total)
	p.money("discount_amount", d.DiscountAmount, &o.Discount)
	p.money("postage", d.Postage, &o.Postage)
	var err error
	o.CreatedAt, err = parseLocal("created_time", d.CreatedTime.String())
	p.add(err)
	o.PaidAt, err = parseLocal("pay_time", d.PayTime.String())
	p.add(err)
	o.ShippedAt, err = parseLocal("shipping_time", d.ShippingTime.String())
	p.add(err)
	o.UpdatedAt, err = parseLocal("updated_at", d.UpdatedAt.String())
	p.add(err)
	for i, l := range d.ItemList {
		line := Line{SKU: l.SkuID.String(), OuterSKU: l.OuterID.String(), Title: l.GoodsName.String()}
		line.Qty, err = parseQty(fmt.Sprintf("item_list[%d].goods_count", i), l.GoodsCount)
		p.add(err)
		p.money(fmt.Sprintf("item_list[%d].goods_price", i), l.GoodsPrice, &line.Price)
		o.Lines = append(o.Lines, line)
	}
	if err := p.err(); err != nil {
		return Order{}, fmt.Errorf("pdd: %w", err)
	}
	return o, o.Validate()
}
