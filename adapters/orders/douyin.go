package orders

import (
	"encoding/json"
	"fmt"
)

// douyinOrder is order.orderDetail's shop_order_detail. Douyin sends
// amounts in fen and times as Unix seconds.
type douyinOrder struct {
	OrderID      text `json:"order_id"`
	ShopID       text `json:"shop_id"`
	OrderStatus  text `json:"order_status"`
	MainStatus   text `json:"main_status"`
	OrderAmount  text `json:"order_amount"`
	PayAmount    text `json:"pay_amount"`
	PostAmount   text `json:"post_amount"`
	Promotion    text `json:"promotion_amount"`
	CreateTime   text `json:"create_time"`
	PayTime      text `json:"pay_time"`
	ShipTime     text `json:"ship_time"`
	UpdateTime   text `json:"update_time"`
	MaskPostName text `json:"mask_post_receiver"`
	PostAddr     struct {
		Province struct {
			Name text `json:"name"`
		} `json:"province"`
		City struct {
			Name text `json:"name"`
		} `json:"city"`
	} `json:"post_addr"`
	SkuOrderList []struct {
		OrderID       text `json:"order_id"`
		SkuID         text `json:"sku_id"`
		OutSkuID      text `json:"out_sku_id"`
		Code          text `json:"code"`
		ProductName   text `json:"product_name"`
		ItemNum       text `json:"item_num"`
		OriginAmount  text `json:"origin_amount"`
		PayAmount     text `json:"pay_amount"`
		AfterSaleInfo struct {
			RefundStatus text `json:"refund_status"`
		} `json:"after_sale_info"`
	} `json:"sku_order_list"`
}

var douyinStatus = map[string]Status{
	"1": StatusUnpaid, "103": StatusUnpaid, "105": StatusPaid, "2": StatusPaid, "101": StatusPartShipped,
	"3": StatusShipped, "4": StatusCancelled, "5": StatusFinished,
	// main_status: refunded in full before shipping, after, after receipt.
	"21": StatusClosed, "22": StatusClosed, "39": StatusClosed,
}

var douyinRefund = map[string]RefundStatus{"": "", "0": "", "1": RefundRequested, "3": RefundDone, "4": RefundRefused}

// Douyin normalises a Douyin Shop (抖店) order: the order.orderDetail
// response ({"data":{"shop_order_detail":…}}), or its bare detail.
func Douyin(raw []byte) (Order, error) {
	var env struct {
		Data *struct {
			Detail *douyinOrder `json:"shop_order_detail"`
		} `json:"data"`
		Detail *douyinOrder `json:"shop_order_detail"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return Order{}, fmt.Errorf("douyin: %w", err)
	}
	d := env.Detail
	if env.Data != nil && env.Data.Detail != nil {
		d = env.Data.Detail
	}
	if d == nil {
		return Order{}, fmt.Errorf("douyin: no order (expected data.shop_order_detail)")
	}
	p := &problems{}
	o := Order{Platform: "douyin", Shop: d.ShopID.String(), No: d.OrderID.String(), PlatformStatus: d.OrderStatus.String(),
		Province: d.PostAddr.Province.Name.String(), City: d.PostAddr.City.Name.String(), Buyer: d.MaskPostName.String()}
	status := o.PlatformStatus
	if m := d.MainStatus.String(); m == "21" || m == "22" || m == "39" {
		status, o.PlatformStatus = m, o.PlatformStatus+"/main "+m
	}
	var ok bool
	if o.Status, ok = douyinStatus[status]; !ok {
		p.add(fmt.Errorf("order_status %q: not a Douyin order status", clip(status)))
	}
	fen := func(field string, v text, dst *Money) {
		if v.String() == "" {
			return
		}
		m, err := parseFen(json.Number(v.String()))
		if err != nil {
			p.add(fmt.Errorf("%s: %w", field, err))
		}
		*dst = m
	}
	fen("order_amount", d.OrderAmount, &o.Total)
	fen("pay_amount", d.PayAmount, &o.Paid)
	fen("post_amount", d.PostAmount, &o.Postage)
	fen("promotion_amount", d.Promotion, &o.Discount)
	var err error
	o.CreatedAt, err = parseUnix("create_time", d.CreateTime)
	p.add(err)
	o.PaidAt, err = parseUnix("pay_time", d.PayTime)
	p.add(err)
	o.ShippedAt, err = parseUnix("ship_time", d.ShipTime)
	p.add(err)
	o.UpdatedAt, err = parseUnix("update_time", d.UpdateTime)
	p.add(err)
	for i, l := range d.SkuOrderList {
		line := Line{SKU: l.SkuID.String(), OuterSKU: l.OutSkuID.String(), Title: l.ProductName.String()}
		if line.OuterSKU == "" {
			line.OuterSKU = l.Code.String()
		}
		line.Qty, err = parseQty(fmt.Sprintf("sku_order_list[%d].item_num", i), l.ItemNum)
		p.add(err)
		fen(fmt.Sprintf("sku_order_list[%d].origin_amount", i), l.OriginAmount, &line.Price)
		fen(fmt.Sprintf("sku_order_list[%d].pay_amount", i), l.PayAmount, &line.Paid)
		if line.Refund, ok = douyinRefund[l.AfterSaleInfo.RefundStatus.String()]; !ok {
			p.add(fmt.Errorf("sku_order_list[%d].after_sale_info.refund_status %q: unknown", i, clip(l.AfterSaleInfo.RefundStatus.String())))
		}
		o.Refund = mergeRefund(o.Refund, line.Refund)
		o.Lines = append(o.Lines, line)
	}
	if err := p.err(); err != nil {
		return Order{}, fmt.Errorf("douyin: %w", err)
	}
	return o, o.Validate()
}
