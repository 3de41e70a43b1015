package orders

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// genericOrder is cardflow's own order shape, for ERPs and scripts: our
// field names, amounts as yuan decimals in strings, the statuses of Status.
type genericOrder struct {
	Platform  text `json:"platform"`
	Shop      text `json:"shop"`
	OrderNo   text `json:"order_no"`
	Status    text `json:"status"`
	Refund    text `json:"refund"`
	Total     text `json:"total"`
	Paid      text `json:"paid"`
	Postage   text `json:"postage"`
	Discount  text `json:"discount"`
	Buyer     text `json:"buyer"`
	Province  text `json:"province"`
	City      text `json:"city"`
	CreatedAt text `json:"created_at"`
	PaidAt    text `json:"paid_at"`
	ShippedAt text `json:"shipped_at"`
	UpdatedAt text `json:"updated_at"`
	Lines     []struct {
		SKU      text `json:"sku"`
		OuterSKU text `json:"outer_sku"`
		Title    text `json:"title"`
		Qty      text `json:"qty"`
		Price    text `json:"price"`
		Paid     text `json:"paid"`
	} `json:"lines"`
}

// Generic normalises cardflow's own order shape (see the README). Unknown
// fields are refused, so a misspelt one is not silently dropped.
func Generic(raw []byte) (Order, error) {
	var g genericOrder
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return Order{}, fmt.Errorf("generic: %w", err)
	}
	p := &problems{}
	o := Order{Platform: strings.ToLower(g.Platform.String()), Shop: g.Shop.String(), No: g.OrderNo.String(),
		Status: Status(g.Status.String()), PlatformStatus: g.Status.String(), Refund: RefundStatus(g.Refund.String()),
		Buyer: maskNick(g.Buyer.String()), Province: g.Province.String(), City: g.City.String()}
	if o.Status.Label() == "" {
		p.add(fmt.Errorf("status %q: unknown (expected unpaid, paid, paused, part_shipped, shipped, finished, cancelled or closed)", clip(string(o.Status))))
	}
	switch o.Refund {
	case "", RefundRequested, RefundDone, RefundRefused, RefundClosed:
	default:
		p.add(fmt.Errorf("refund %q: expected requested, refunded, refused or closed", clip(string(o.Refund))))
	}
	p.money("total", g.Total, &o.Total)
	p.money("paid", g.Paid, &o.Paid)
	p.money("postage", g.Postage, &o.Postage)
	p.money("discount", g.Discount, &o.Discount)
	for _, t := range []struct {
		name string
		v    text
		dst  *time.Time
	}{{"created_at", g.CreatedAt, &o.CreatedAt}, {"paid_at", g.PaidAt, &o.PaidAt},
		{"shipped_at", g.ShippedAt, &o.ShippedAt}, {"updated_at", g.UpdatedAt, &o.UpdatedAt}} {
		*t.dst = parseAnyTime(p, t.name, t.v.String())
	}
	for i, l := range g.Lines {
		line := Line{SKU: l.SKU.String(), OuterSKU: l.OuterSKU.String(), Title: l.Title.String()}
		var err error
		line.Qty, err = parseQty(fmt.Sprintf("lines[%d].qty", i), l.Qty)
		p.add(err)
		p.money(fmt.Sprintf("lines[%d].price", i), l.Price, &line.Price)
		p.money(fmt.Sprintf("lines[%d].paid", i), l.Paid, &line.Paid)
		o.Lines = append(o.Lines, line)
	}
	if err := p.err(); err != nil {
		return Order{}, fmt.Errorf("generic: %w", err)
	}
	return o, o.Validate()
}

// parseAnyTime reads RFC 3339, or a zone-less time in China time.
func parseAnyTime(p *problems, field, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	t, err := parseLocal(field, s)
	p.add(err)
	return t
}

// Normalisers are the order shapes a source may send, by format name.
var Normalisers = map[string]func([]byte) (Order, error){
	"generic": Generic, "taobao": Taobao, "jd": JD, "pdd": PDD, "douyin": Douyin,
}
