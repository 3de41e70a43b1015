// Package orderdoc is what the PostgreSQL and SQLite order stores share:
// the check of an event before anything is written, and the JSON documents
// an order and an event are kept as. Sharing it keeps the two stores
// answering alike by construction: both keep the same bytes and read them
// back the same way.
package orderdoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"cardflow/adapters/orders"
)

// Prepared is an event checked and ready to be recorded.
type Prepared struct {
	// Event is the event with its times in UTC, as it reads back.
	Event orders.Event
	// Doc is Event as the JSON document the stores keep.
	Doc json.RawMessage
}

// Prepare checks an event from source before anything is written: it must
// pass Validate, the text kept in columns (source, id, kind, platform,
// shop, number, status, refund) must be UTF-8 without NUL, which
// PostgreSQL's text cannot hold, and its times must fit JSON's years 0 to
// 9999. Any failure wraps orders.ErrInvalid: the store cannot record the
// event.
func Prepare(source string, e orders.Event) (Prepared, error) {
	var errs []error
	if err := e.Validate(); err != nil {
		errs = append(errs, err)
	}
	for _, f := range []struct{ name, v string }{
		{"source", source}, {"event id", e.ID}, {"event kind", string(e.Kind)},
		{"platform", e.Order.Platform}, {"shop", e.Order.Shop}, {"order number", e.Order.No},
		{"status", string(e.Order.Status)}, {"refund", string(e.Order.Refund)},
	} {
		if !Storable(f.v) {
			errs = append(errs, fmt.Errorf("%s: not UTF-8 or holds NUL", f.name))
		}
	}
	e.At, e.Order = e.At.UTC(), utc(e.Order)
	doc, err := json.Marshal(e)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Prepared{}, fmt.Errorf("%w: %w", orders.ErrInvalid, err)
	}
	return Prepared{Event: e, Doc: doc}, nil
}

// Storable reports whether s can be kept in a text column of both stores.
// A lookup by a key that is not storable finds nothing without asking the
// database.
func Storable(s ...string) bool {
	for _, v := range s {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return false
		}
	}
	return true
}

// EncodeOrder returns the document o is kept as and the order as it reads
// back from it (its times in UTC), which is what a store answers with.
func EncodeOrder(o orders.Order) (json.RawMessage, orders.Order, error) {
	doc, err := json.Marshal(utc(o))
	if err != nil {
		return nil, orders.Order{}, fmt.Errorf("encode order %s/%s/%s: %w", o.Platform, o.Shop, o.No, err)
	}
	back, err := DecodeOrder(doc)
	return doc, back, err
}

// DecodeOrder reads an order's document.
func DecodeOrder(doc []byte) (orders.Order, error) {
	var o orders.Order
	if err := json.Unmarshal(doc, &o); err != nil {
		return orders.Order{}, fmt.Errorf("decode order: %w", err)
	}
	return o, nil
}

// DecodeEvent reads an event's document.
func DecodeEvent(doc []byte) (orders.Event, error) {
	var e orders.Event
	if err := json.Unmarshal(doc, &e); err != nil {
		return orders.Event{}, fmt.Errorf("decode event: %w", err)
	}
	return e, nil
}

// utc returns o with its times in UTC, so that its document reads back in
// UTC whichever zone the source gave them in. The zero time stays zero.
func utc(o orders.Order) orders.Order {
	o.CreatedAt, o.PaidAt, o.ShippedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.PaidAt.UTC(), o.ShippedAt.UTC(), o.UpdatedAt.UTC()
	return o
}

// Units is the pieces an order is for, its lines' quantities summed: the
// column the KPI figures sum as units sold.
func Units(o orders.Order) int64 {
	var n int64
	for _, l := range o.Lines {
		n += l.Qty
	}
	return n
}
