// Package shopday plays a small shop's day against a running cardflow, as
// its shop platforms and warehouse would: the warehouse counts its stock,
// paid orders arrive from Tmall, JD, Pinduoduo and Douyin (through the
// shop's ERP), one big order needs the sales director, a buyer asks for a
// refund, socks run low, a cup oversells and is restocked, and the day's
// KPI digest goes out. Every event is a signed webhook over HTTP, the path
// a real shop's events take. cardflow demo plays it so that the chat
// simulator shows every kind of card within a minute of start.
package shopday

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"cardflow/adapters/orders"
)

// Sources are the webhook source names the day posts to; the demo
// configures them with secrets it makes up.
const (
	SourceTmall = "tmall"
	SourceJD    = "jd"
	SourcePDD   = "pdd"
	// SourceERP forwards Douyin Shop orders in the generic shape, as an ERP
	// does (Douyin's own push carries no order lines).
	SourceERP = "erp"
	SourceWMS = "wms"
)

// Target is the cardflow the day is played against.
type Target struct {
	BaseURL string
	// Secrets are the sources' signing secrets by source name.
	Secrets map[string]string
	// Digest, when set, sends the day's digest at its step.
	Digest func(ctx context.Context) error
	Client *http.Client
	Log    *slog.Logger
	// After waits; time.After when nil (tests pass a faster one).
	After func(d time.Duration) <-chan time.Time
	Now   func() time.Time
}

// Step is one moment of the day: when it comes (after the previous step)
// and what happens.
type Step struct {
	Wait time.Duration
	Say  string
	Do   func(ctx context.Context, p *Player) error
}

// Player posts the day's events.
type Player struct{ t Target }

// Play plays Day against t until it ends or ctx does. A step that fails
// is logged and the day goes on; Play returns every failure at the end.
func Play(ctx context.Context, t Target) error {
	if t.Client == nil {
		t.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if t.Log == nil {
		t.Log = slog.New(slog.DiscardHandler)
	}
	if t.After == nil {
		t.After = time.After
	}
	if t.Now == nil {
		t.Now = time.Now
	}
	p := &Player{t: t}
	var failed []error
	for _, s := range Day() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.After(s.Wait):
		}
		if err := s.Do(ctx, p); err != nil {
			t.Log.Warn("shop day: a step failed", "step", s.Say, "err", err)
			failed = append(failed, fmt.Errorf("%s: %w", s.Say, err))
			continue
		}
		t.Log.Info("shop day: "+s.Say, "step", s.Say)
	}
	return errors.Join(failed...)
}

// Day is the script: about 45 seconds from the warehouse's count to the
// digest.
func Day() []Step {
	return []Step{
		{time.Second, "仓库盘点入库", func(ctx context.Context, p *Player) error {
			return p.stock(ctx, "count", []move{{"TS-BLK-L", "set", 60}, {"MUG-350", "set", 40}, {"SOCK-3P", "set", 13},
				{"CUP-WHT", "set", 3}, {"COAT-1", "set", 10}})
		}},
		{2 * time.Second, "天猫订单付款 ¥198.00", func(ctx context.Context, p *Player) error {
			return p.tmall(ctx, "4012345678901230001", "TS-BLK-L", "纯棉T恤 黑 L", 2, "99.00", false)
		}},
		{2 * time.Second, "京东订单付款 ¥259.00", func(ctx context.Context, p *Player) error {
			return p.jd(ctx, "298765432100001", "MUG-350", "陶瓷马克杯 350ml", 2, "129.50")
		}},
		{2 * time.Second, "拼多多订单付款 ¥49.80", func(ctx context.Context, p *Player) error {
			return p.pdd(ctx, "261130-512345678900001", "SOCK-3P", "棉袜三双装", 2, 24.9, 1)
		}},
		{2 * time.Second, "抖店订单付款 ¥99.00（经 ERP）", func(ctx context.Context, p *Player) error {
			return p.erp(ctx, "6923456789012340001", "CUP-WHT", "白色保温杯", 1, "99.00")
		}},
		{3 * time.Second, "天猫大单 ¥6,800.00：超过 5,000，销售总监审批", func(ctx context.Context, p *Player) error {
			return p.tmall(ctx, "4012345678901230002", "COAT-1", "羊毛大衣", 2, "3400.00", false)
		}},
		{3 * time.Second, "拼多多买家申请退款", func(ctx context.Context, p *Player) error {
			return p.pdd(ctx, "261130-512345678900001", "SOCK-3P", "棉袜三双装", 2, 24.9, 2)
		}},
		{3 * time.Second, "拼多多又卖出 3 单袜子：库存偏低", func(ctx context.Context, p *Player) error {
			for i := range 3 {
				if err := p.pdd(ctx, fmt.Sprintf("261130-51234567890001%d", i), "SOCK-3P", "棉袜三双装", 1, 24.9, 1); err != nil {
					return err
				}
			}
			return nil
		}},
		{3 * time.Second, "抖店卖出 3 个保温杯，只剩 2 个：超卖", func(ctx context.Context, p *Player) error {
			return p.erp(ctx, "6923456789012340002", "CUP-WHT", "白色保温杯", 3, "99.00")
		}},
		{15 * time.Second, "保温杯补货 50 个：超卖解除", func(ctx context.Context, p *Player) error {
			return p.stock(ctx, "restock", []move{{"CUP-WHT", "receive", 50}})
		}},
		{5 * time.Second, "发送今日经营日报", func(ctx context.Context, p *Player) error {
			if p.t.Digest == nil {
				return nil
			}
			return p.t.Digest(ctx)
		}},
	}
}

type move struct {
	sku, kind string
	qty       int64
}

// stock posts warehouse movements; name makes their event ids.
func (p *Player) stock(ctx context.Context, name string, moves []move) error {
	now := p.t.Now()
	var body []map[string]any
	for _, m := range moves {
		body = append(body, map[string]any{"event_id": "shopday-" + name + "-" + m.sku + "-" + now.Format("20060102"),
			"sku": m.sku, "warehouse": "main", "kind": m.kind, "qty": m.qty, "at": now.Format(time.RFC3339)})
	}
	return p.post(ctx, "/webhooks/stock/"+SourceWMS, SourceWMS, body)
}

// localTime is now as the platforms write it: China time, no zone.
func (p *Player) localTime() string {
	return p.t.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateTime)
}

func (p *Player) tmall(ctx context.Context, tid, sku, title string, qty int64, price string, refund bool) error {
	total := money(price, qty)
	status := "NO_REFUND"
	if refund {
		status = "WAIT_SELLER_AGREE"
	}
	now := p.localTime()
	return p.post(ctx, "/webhooks/orders/"+SourceTmall, SourceTmall, map[string]any{"trade_fullinfo_get_response": map[string]any{
		"trade": map[string]any{"tid": json.Number(tid), "status": "WAIT_SELLER_SEND_GOODS", "seller_nick": "云栖旗舰店",
			"buyer_nick": "t**1", "payment": total, "total_fee": total, "post_fee": "0.00", "created": now, "pay_time": now,
			"modified": now, "receiver_state": "浙江省", "receiver_city": "杭州市",
			"orders": []any{map[string]any{"oid": json.Number(tid), "sku_id": "5123456789012", "outer_sku_id": sku,
				"title": title, "num": qty, "price": price, "payment": total, "status": "WAIT_SELLER_SEND_GOODS",
				"refund_status": status}}}}})
}

func (p *Player) jd(ctx context.Context, id, sku, title string, qty int64, price string) error {
	total := money(price, qty)
	now := p.localTime()
	return p.post(ctx, "/webhooks/orders/"+SourceJD, SourceJD, map[string]any{"jingdong_pop_order_enGet_responce": map[string]any{
		"orderDetailInfo": map[string]any{"orderInfo": map[string]any{"orderId": id, "venderId": "10012345",
			"orderState": "WAIT_SELLER_STOCK_OUT", "orderTotalPrice": total, "orderPayment": total, "freightPrice": "0.00",
			"orderStartTime": now, "paymentConfirmTime": now, "consigneeInfo": map[string]any{"province": "广东", "city": "深圳市"},
			"itemInfoList": []any{map[string]any{"skuId": "100012345678", "outerSkuId": sku, "skuName": title,
				"jdPrice": price, "itemTotal": strconv.FormatInt(qty, 10)}}}}}})
}

// pdd posts a Pinduoduo order; refundStatus is PDD's: 1 none, 2 being
// refunded.
func (p *Player) pdd(ctx context.Context, sn, sku, title string, qty int64, price float64, refundStatus int) error {
	now := p.localTime()
	total := price * float64(qty)
	return p.post(ctx, "/webhooks/orders/"+SourcePDD, SourcePDD, map[string]any{"order_info_get_response": map[string]any{
		"order_info": map[string]any{"order_sn": sn, "mall_id": 778899, "order_status": 1, "refund_status": refundStatus,
			"confirm_status": 1, "pay_amount": total, "goods_amount": total, "postage": 0, "created_time": now,
			"pay_time": now, "updated_at": now, "province": "四川省", "city": "成都市", "receiver_name_mask": "李*",
			"item_list": []any{map[string]any{"sku_id": 987654321, "outer_id": sku, "goods_name": title,
				"goods_count": qty, "goods_price": price}}}}})
}

func (p *Player) erp(ctx context.Context, no, sku, title string, qty int64, price string) error {
	total := money(price, qty)
	now := p.t.Now().Format(time.RFC3339)
	return p.post(ctx, "/webhooks/orders/"+SourceERP, SourceERP, map[string]any{"platform": "douyin", "shop": "4463798",
		"order_no": no, "status": "paid", "total": total, "paid": total, "buyer": "王**", "province": "江苏省", "city": "南京市",
		"created_at": now, "paid_at": now, "lines": []any{map[string]any{"sku": sku, "title": title, "qty": qty, "price": price}}})
}

// money is price × qty in yuan with two decimals; prices here are exact.
func money(price string, qty int64) string {
	m, err := orders.ParseYuan(price)
	if err != nil {
		panic(err) // the script's own prices
	}
	return (m * orders.Money(qty)).Decimal().StringFixed(2)
}

// post sends body signed for source and wants a 2xx.
func (p *Player) post(ctx context.Context, path, source string, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.t.BaseURL+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	ts := p.t.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(orders.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(orders.HeaderSignature, orders.Sign([]byte(p.t.Secrets[source]), ts, data))
	resp, err := p.t.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, bytes.TrimSpace(answer))
	}
	return nil
}

// NewSecrets makes up a signing secret for every source of the day.
func NewSecrets() map[string]string {
	out := map[string]string{}
	for _, s := range []string{SourceTmall, SourceJD, SourcePDD, SourceERP, SourceWMS} {
		out[s] = "shopday-" + rand.Text()
	}
	return out
}

// Sources are the orders.sources and stock.sources entries (name=format:secret)
// that accept the day's posts signed with secrets.
func Sources(secrets map[string]string) (orderSources, stockSources []string) {
	for _, s := range []struct{ name, format string }{{SourceTmall, "taobao"}, {SourceJD, "jd"}, {SourcePDD, "pdd"},
		{SourceERP, "generic"}} {
		orderSources = append(orderSources, s.name+"="+s.format+":"+secrets[s.name])
	}
	return orderSources, []string{SourceWMS + "=generic:" + secrets[SourceWMS]}
}

// LowStock is the low-stock threshold the day runs into (stock.low_stock).
const LowStock = "SOCK-3P=10"
