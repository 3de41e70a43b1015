package orders

import (
	"encoding/json"
	"fmt"
)

// jdOrder is jingdong.pop.order.enGet's orderInfo.
type jdOrder struct {
	OrderID            text `json:"orderId"`
	VenderID           text `json:"venderId"`
	OrderState         text `json:"orderState"`
	OrderTotalPrice    text `json:"orderTotalPrice"`
	OrderPayment       text `json:"orderPayment"`
	FreightPrice       text `json:"freightPrice"`
	SellerDiscount     text `json:"sellerDiscount"`
	OrderStartTime     text `json:"orderStartTime"`
	PaymentConfirmTime text `json:"paymentConfirmTime"`
	Modified           text `json:"modified"`
	ConsigneeInfo      struct {
		Province    text `json:"province"`
		City        text `json:"city"`
		DesenMobile text `json:"desen_mobile"`
	} `json:"consigneeInfo"`
	ItemInfoList []struct {
		SkuID      text `json:"skuId"`
		OuterSkuID text `json:"outerSkuId"`
		SkuName    text `json:"skuName"`
		JdPrice    text `json:"jdPrice"`
		ItemTotal  text `json:"itemTotal"`
	} `json:"itemInfoList"`
}

var jdStatus = map[string]Status{
	"WAIT_SELLER_STOCK_OUT": StatusPaid, "WAIT_SELLER_DELIVERY": StatusPaid, "WAIT_SEND_CODE": StatusPaid,
	"POP_ORDER_PAUSE": StatusPaused, "LOCKED": StatusPaused, "WAIT_GOODS_RECEIVE_CONFIRM": StatusShipped,
	"FINISHED_L": StatusFinished, "TRADE_CANCELED": StatusCancelled,
}

// JD normalises a JD order: the jingdong.pop.order.enGet response (JD
// spells it "responce"), or its bare orderInfo.
func JD(raw []byte) (Order, error) {
	var env struct {
		Resp *struct {
			Detail *struct {
				OrderInfo *jdOrder `json:"orderInfo"`
			} `json:"orderDetailInfo"`
		} `json:"jingdong_pop_order_enGet_responce"`
		OrderInfo *jdOrder `json:"orderInfo"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return Order{}, fmt.Errorf("jd: %w", err)
	}
	j := env.OrderInfo
	if env.Resp != nil && env.Resp.Detail != nil && env.Resp.Detail.OrderInfo != nil {
		j = env.Resp.Detail.OrderInfo
	}
	if j == nil {
		return Order{}, fmt.Errorf("jd: no order (expected jingdong_pop_order_enGet_responce.orderDetailInfo.orderInfo)")
	}
	p := &problems{}
	o := Order{Platform: "jd", Shop: j.VenderID.String(), No: j.OrderID.String(), PlatformStatus: j.OrderState.String(),
		Province: j.ConsigneeInfo.Province.String(), City: j.ConsigneeInfo.City.String(),
		Buyer: j.ConsigneeInfo.DesenMobile.String()}
	var ok bool
	if o.Status, ok = jdStatus[o.PlatformStatus]; !ok {
		p.add(fmt.Errorf("orderState %q: not a JD order state", clip(o.PlatformStatus)))
	}
	p.money("orderTotalPrice", j.OrderTotalPrice, &o.Total)
	p.money("orderPayment", j.OrderPayment, &o.Paid)
	p.money("freightPrice", j.FreightPrice, &o.Postage)
	p.money("sellerDiscount", j.SellerDiscount, &o.Discount)
	var err error
	o.CreatedAt, err = parseLocal("orderStartTime", j.OrderStartTime.String())
	p.add(err)
	o.PaidAt, err = parseLocal("paymentConfirmTime", j.PaymentConfirmTime.String())
	p.add(err)
	o.UpdatedAt, err = parseLocal("modified", j.Modified.String())
	p.add(err)
	for i, l := range j.ItemInfoList {
		line := Line{SKU: l.SkuID.String(), OuterSKU: l.OuterSkuID.String(), Title: l.SkuName.String()}
		line.Qty, err = parseQty(fmt.Sprintf("itemInfoList[%d].itemTotal", i), l.ItemTotal)
		p.add(err)
		p.money(fmt.Sprintf("itemInfoList[%d].jdPrice", i), l.JdPrice, &line.Price)
		o.Lines = append(o.Lines, line)
	}
	if err := p.err(); err != nil {
		return Order{}, fmt.Errorf("jd: %w", err)
	}
	return o, o.Validate()
}
