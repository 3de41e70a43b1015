// Package orders brings shop orders into cardflow: the order events of
// Taobao/Tmall, JD, Pinduoduo and Douyin Shop (抖店), and a generic JSON
// shape for ERPs, each normalised into one Order; the signed webhook they
// arrive on; and the rules that start flows from them.
//
// Amounts are fen (Money), never floats; 64-bit ids are kept as the digits
// they were sent as; times without a zone are China time, as the platforms
// mean them. A buyer is only ever kept masked.
package orders

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Order is one shop order, whichever platform it came from.
type Order struct {
	// Platform is taobao, jd, pdd, douyin, or the generic shape's own.
	Platform string `json:"platform"`
	// Shop is the shop's id on the platform (JD venderId, Douyin shop_id,
	// PDD mall_id, Taobao seller nick), or the source's name when the
	// platform gives none.
	Shop string `json:"shop"`
	// No is the platform's order number, as the shop's staff search it.
	No string `json:"no"`
	// Status is where the order stands, the same words for every platform;
	// PlatformStatus is the platform's own code it was mapped from.
	Status         Status       `json:"status"`
	PlatformStatus string       `json:"platform_status"`
	Refund         RefundStatus `json:"refund,omitempty"`
	// Total is the goods' value before discounts; Paid what the buyer paid
	// (postage included).
	Total    Money `json:"total"`
	Paid     Money `json:"paid"`
	Postage  Money `json:"postage,omitempty"`
	Discount Money `json:"discount,omitempty"`
	// Buyer is masked as the platform sends it (李*, 138****0000) or empty;
	// cardflow never stores a buyer in clear.
	Buyer    string `json:"buyer,omitempty"`
	Province string `json:"province,omitempty"`
	City     string `json:"city,omitempty"`
	Lines    []Line `json:"lines"`

	CreatedAt time.Time `json:"created_at"`
	PaidAt    time.Time `json:"paid_at,omitzero"`
	ShippedAt time.Time `json:"shipped_at,omitzero"`
	// UpdatedAt is when the platform last changed the order; an event
	// older than the order stored is not applied over it.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Line is one SKU of an order.
type Line struct {
	// SKU is the platform's SKU id; OuterSKU the merchant's own code
	// (outer_sku_id, outerSkuId, outer_id, out_sku_id / code), which is what
	// the stock ledger goes by.
	SKU      string       `json:"sku"`
	OuterSKU string       `json:"outer_sku,omitempty"`
	Title    string       `json:"title,omitempty"`
	Qty      int64        `json:"qty"`
	Price    Money        `json:"price"`
	Paid     Money        `json:"paid,omitempty"`
	Refund   RefundStatus `json:"refund,omitempty"`
}

// Status is where an order stands.
type Status string

// Order statuses.
const (
	StatusUnpaid      Status = "unpaid"
	StatusPaid        Status = "paid" // paid, to be shipped
	StatusPaused      Status = "paused"
	StatusPartShipped Status = "part_shipped"
	StatusShipped     Status = "shipped"
	StatusFinished    Status = "finished"
	// StatusCancelled is closed before it was paid; StatusClosed closed
	// after, by a full refund.
	StatusCancelled Status = "cancelled"
	StatusClosed    Status = "closed"
)

// RefundStatus is where an order's (or a line's) refund stands.
type RefundStatus string

// Refund statuses; "" is none.
const (
	RefundRequested RefundStatus = "requested" // asked for, being handled
	RefundDone      RefundStatus = "refunded"
	RefundRefused   RefundStatus = "refused"
	RefundClosed    RefundStatus = "closed" // withdrawn or closed without a refund
)

// Label names a status for people, in Chinese.
func (s Status) Label() string {
	return map[Status]string{StatusUnpaid: "待付款", StatusPaid: "待发货", StatusPaused: "暂停发货",
		StatusPartShipped: "部分发货", StatusShipped: "已发货", StatusFinished: "已完成",
		StatusCancelled: "已取消", StatusClosed: "已关闭"}[s]
}

// Validate checks what every normaliser must have produced: an order
// number, a platform, a known status, lines with a SKU and a positive
// quantity. It returns every problem at once.
func (o Order) Validate() error {
	var errs []error
	if o.No == "" {
		errs = append(errs, errors.New("order number: missing"))
	}
	if o.Platform == "" {
		errs = append(errs, errors.New("platform: missing"))
	}
	if o.Status.Label() == "" {
		errs = append(errs, fmt.Errorf("status %q: unknown", o.Status))
	}
	for i, l := range o.Lines {
		if l.SKU == "" && l.OuterSKU == "" {
			errs = append(errs, fmt.Errorf("line %d: no SKU", i+1))
		}
		if l.Qty <= 0 {
			errs = append(errs, fmt.Errorf("line %d: quantity %d is not positive", i+1, l.Qty))
		}
	}
	for _, s := range []struct{ name, v string }{{"order number", o.No}, {"shop", o.Shop}, {"buyer", o.Buyer}} {
		if len(s.v) > 128 {
			errs = append(errs, fmt.Errorf("%s: longer than 128 bytes", s.name))
		}
	}
	return errors.Join(errs...)
}

// text is a JSON scalar read as the text it was sent as: a string, or a
// number kept digit for digit (a 64-bit order id must never pass through a
// float64). null is "".
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case plainString(b):
		// The common case, without a second pass of the decoder.
		*t = text(b[1 : len(b)-1])
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*t = text(n)
	default:
		return fmt.Errorf("expected a string or a number, got %s", clip(string(b)))
	}
	return nil
}

// plainString reports whether b is a JSON string that reads as the bytes
// between its quotes: no escape, no control character, valid UTF-8 (the
// decoder would replace an invalid byte).
func plainString(b []byte) bool {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return false
	}
	for _, c := range b[1 : len(b)-1] {
		if c == '\\' || c == '"' || c < 0x20 {
			return false
		}
	}
	return utf8.Valid(b[1 : len(b)-1])
}

func (t text) String() string { return strings.TrimSpace(string(t)) }

// china is the zone the platforms' zone-less times are in.
var china = time.FixedZone("CST", 8*3600)

// parseLocal reads "2006-01-02 15:04:05" in China time; "" and the
// platforms' not-set values (0001-01-01…, 1970-01-01 00:00:00) are zero.
func parseLocal(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0001-01-01") || s == "1970-01-01 00:00:00" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(time.DateTime, s, china)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: expected a time such as 2024-06-18 20:15:03", field, clip(s))
	}
	return t, nil
}

// parseUnix reads Unix seconds; 0 and "" are zero.
func parseUnix(field string, v text) (time.Time, error) {
	s := v.String()
	if s == "" || s == "0" {
		return time.Time{}, nil
	}
	var sec int64
	if _, err := fmt.Sscan(s, &sec); err != nil || sec < 0 || sec > 1<<40 {
		return time.Time{}, fmt.Errorf("%s %q: expected Unix seconds", field, clip(s))
	}
	return time.Unix(sec, 0).In(china), nil
}

// parseQty reads a line's quantity, sent as a number or a string (JD).
func parseQty(field string, v text) (int64, error) {
	var n int64
	if _, err := fmt.Sscan(v.String(), &n); err != nil || n <= 0 || n > 1_000_000 {
		return 0, fmt.Errorf("%s %q: expected a positive whole quantity", field, clip(v.String()))
	}
	return n, nil
}

// problems gathers a normaliser's errors, so that a payload gets every
// reason it was refused at once.
type problems struct{ errs []error }

func (p *problems) add(err error) {
	if err != nil {
		p.errs = append(p.errs, err)
	}
}

func (p *problems) money(field string, v text, dst *Money) {
	if v.String() == "" {
		return
	}
	m, err := ParseYuan(v.String())
	if err != nil {
		p.add(fmt.Errorf("%s: %w", field, err))
	}
	*dst = m
}

func (p *problems) err() error { return errors.Join(p.errs...) }
