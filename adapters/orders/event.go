package orders

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event is one thing that happened to an order, as a source told it.
type Event struct {
	// ID identifies the event for dedupe: the platform's message id, or,
	// when it has none, the order's state and a digest of what it says as
	// of its update time (OrderEvent), so the same news sent twice is
	// applied once and a later change is news.
	ID   string    `json:"id"`
	Kind EventKind `json:"kind"`
	// Order is the order as the event gives it: whole when the source sent
	// the order's detail (Full), only its number, shop, status and paid
	// amount when it sent a platform's thin push.
	Order Order     `json:"order"`
	Full  bool      `json:"full"`
	At    time.Time `json:"at"`
}

// EventKind says what happened.
type EventKind string

// Event kinds, the words routing rules match on.
const (
	EventCreated         EventKind = "order.created"
	EventPaid            EventKind = "order.paid"
	EventShipped         EventKind = "order.shipped"
	EventFinished        EventKind = "order.finished"
	EventCancelled       EventKind = "order.cancelled"
	EventChanged         EventKind = "order.changed"
	EventRefundRequested EventKind = "refund.requested"
	EventRefunded        EventKind = "refund.done"
)

// kindOfOrder is the event a whole order's state amounts to.
func kindOfOrder(o Order) EventKind {
	switch o.Refund {
	case RefundRequested:
		return EventRefundRequested
	case RefundDone:
		return EventRefunded
	case RefundRefused, RefundClosed:
		// A refund refused or withdrawn changes the order; it is not paid
		// again (the paid rule would start its flow a second time).
		if o.Status == StatusPaid {
			return EventChanged
		}
	}
	return map[Status]EventKind{StatusUnpaid: EventCreated, StatusPaid: EventPaid, StatusPaused: EventChanged,
		StatusPartShipped: EventShipped, StatusShipped: EventShipped, StatusFinished: EventFinished,
		StatusCancelled: EventCancelled, StatusClosed: EventRefunded}[o.Status]
}

// OrderEvent is the event of a whole order a source sent (a detail
// response, the generic shape): its kind follows from its state, and its
// id is that state's as of its update time, with a digest of what it
// says (amounts, lines and their refunds): the same message sent twice
// makes one event, while a state the order comes back to later (a refund
// asked again after a refusal, shipping released after a pause), a line
// refunded after another, or an amount an ERP corrects is news.
func OrderEvent(source string, o Order, now time.Time) Event {
	at := o.UpdatedAt
	if at.IsZero() {
		at = now
	}
	kind := kindOfOrder(o)
	id := strings.Join([]string{source, o.Shop, o.No, string(o.Status), string(o.Refund), stateDigest(o)}, "/")
	return Event{ID: id, Kind: kind, Order: o, Full: true, At: at}
}

// stateDigest is a short digest of an order's update time, amounts and
// lines, for its event id.
func stateDigest(o Order) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%v|%v|", o.UpdatedAt.UTC().Format(time.RFC3339Nano), o.Total, o.Paid)
	for _, l := range o.Lines {
		fmt.Fprintf(h, "%s|%s|%d|%v|%v|%s;", l.SKU, l.OuterSKU, l.Qty, l.Price, l.Paid, l.Refund)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// douyinTags maps Douyin Shop's message tags to events.
var douyinTags = map[string]EventKind{
	"100": EventCreated, "101": EventPaid, "102": EventShipped, "103": EventFinished, "106": EventCancelled,
	"109": EventChanged, "110": EventChanged, "200": EventRefundRequested, "201": EventRefundRequested,
	"206": EventRefunded,
}

// DouyinPush decodes Douyin Shop's push body: a JSON array of
// {tag, msg_id, data} whose data is a JSON string. Tags cardflow does not
// act on are left out; a message it cannot read fails the whole push (so
// Douyin sends it again) with every reason.
func DouyinPush(body []byte, now time.Time) ([]Event, error) {
	var msgs []struct {
		Tag   text `json:"tag"`
		MsgID text `json:"msg_id"`
		// Douyin's documents spell it both ways.
		MsgIDCamel text `json:"msgId"`
		Data       text `json:"data"`
	}
	if err := json.Unmarshal(body, &msgs); err != nil {
		return nil, fmt.Errorf("douyin push: %w", err)
	}
	var out []Event
	var errs []error
	for i, m := range msgs {
		kind, ok := douyinTags[m.Tag.String()]
		if !ok {
			continue
		}
		var d struct {
			PID         text `json:"p_id"`
			ShopID      text `json:"shop_id"`
			OrderStatus text `json:"order_status"`
			PayAmount   text `json:"pay_amount"`
			UpdateTime  text `json:"update_time"`
		}
		if err := json.Unmarshal([]byte(m.Data.String()), &d); err != nil {
			errs = append(errs, fmt.Errorf("message %d (tag %s): data: %w", i, m.Tag, err))
			continue
		}
		id := m.MsgID.String()
		if id == "" {
			id = m.MsgIDCamel.String()
		}
		o := Order{Platform: "douyin", Shop: d.ShopID.String(), No: d.PID.String(), PlatformStatus: d.OrderStatus.String()}
		o.Status = douyinStatus[o.PlatformStatus]
		if d.PayAmount.String() != "" {
			paid, err := parseFen(json.Number(d.PayAmount.String()))
			if err != nil {
				errs = append(errs, fmt.Errorf("message %d: pay_amount: %w", i, err))
			}
			o.Paid = paid
		}
		switch {
		case id == "":
			errs = append(errs, fmt.Errorf("message %d: no msg_id", i))
		case o.No == "":
			errs = append(errs, fmt.Errorf("message %d: no p_id", i))
		}
		out = append(out, Event{ID: "douyin/" + id, Kind: kind, Order: o, At: now})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("douyin push: %w", err)
	}
	return out, nil
}
