package stock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"cardflow/adapters/orders"
)

// OrderSource is the Source of the movements order events make.
const OrderSource = "orders"

// ApplyOrderEvent moves the ledger as a stored order event calls for, in
// the configured warehouse, one movement per order line (its SKU the
// merchant's code, OuterSKU, else the platform's):
//   - paid: reserve the line's quantity, unless the order already stands
//     past paid (its ship or cancel arrived first);
//   - shipped or finished: ship it out of the reservation (on hand and
//     reserved both fall);
//   - cancelled, closed or refunded: release the reservation;
//   - a line refunded on its own (a partial refund) is released, by any
//     event, and the order's other lines stay as they are (see lineMoves).
//
// A movement's id is the order's and the line's (its number and SKU), not
// the event's: a platform's push and an ERP's detail of one paid order
// reserve once. Ship and release share one id (the line's settlement), so
// whichever comes first settles the reservation and the other is a repeat:
// a refund after shipping releases nothing, and a refund before it stops
// the shipment from being counted. Other events (created, changed, a
// refund requested) move only refunded lines, and nothing moves for an
// event whose order has no lines yet (a thin push before the detail: the
// detail's own event moves it).
//
// Calls are idempotent. A line the ledger refuses (ErrInvalid: a SKU over
// 128 bytes) is logged and skipped; any other failure of a line is
// returned, every one, and the caller retries the event.
func (l *Ledger) ApplyOrderEvent(ctx context.Context, se orders.StoredEvent) error {
	o := se.Order
	var kind Kind
	switch se.Event.Kind {
	case orders.EventPaid:
		switch o.Status {
		case orders.StatusPartShipped, orders.StatusShipped, orders.StatusFinished,
			orders.StatusCancelled, orders.StatusClosed:
			return nil
		}
		kind = KindReserve
	case orders.EventShipped, orders.EventFinished:
		kind = KindShip
	case orders.EventCancelled, orders.EventRefunded:
		kind = KindRelease
	}
	if len(o.Lines) == 0 {
		if kind != "" {
			l.log.Info("order event moves no stock: no lines yet", "source", se.Source, "event", se.Event.ID, "order", o.No)
		}
		return nil
	}
	var errs []error
	for i, line := range o.Lines {
		for _, k := range lineMoves(o, kind, line) {
			if err := l.applyLine(ctx, se, i, line, k); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// lineMoves are the movements an event of kind makes of one line. A line
// refunded on its own (a partial refund: its refund done, the order's
// other lines not) is released and never shipped, whatever the event; a
// refund of the order releases only such lines when its lines say which
// were refunded, every line when they say nothing (the order's refund is
// all there is) or the order is closed.
func lineMoves(o orders.Order, kind Kind, line orders.Line) []Kind {
	refunded := line.Refund == orders.RefundDone
	switch kind {
	case KindReserve:
		if refunded {
			// Reserved and at once released, so that the release, shared
			// with a later shipment, settles what was reserved.
			return []Kind{KindReserve, KindRelease}
		}
		return []Kind{KindReserve}
	case KindShip:
		if refunded {
			return []Kind{KindRelease}
		}
		return []Kind{KindShip}
	case KindRelease:
		if o.Status != orders.StatusCancelled && o.Status != orders.StatusClosed && !refunded && lineRefunds(o) {
			return nil // a partial refund: this line is still sold
		}
		return []Kind{KindRelease}
	}
	if refunded {
		return []Kind{KindRelease}
	}
	return nil
}

// lineRefunds says the order's lines carry refund statuses of their own.
func lineRefunds(o orders.Order) bool {
	for _, l := range o.Lines {
		if l.Refund != "" {
			return true
		}
	}
	return false
}

// applyLine applies one movement of line i of the event's order.
func (l *Ledger) applyLine(ctx context.Context, se orders.StoredEvent, i int, line orders.Line, kind Kind) error {
	o := se.Order
	sku := strings.TrimSpace(line.OuterSKU)
	if sku == "" {
		sku = strings.TrimSpace(line.SKU)
	}
	step := "settle"
	if kind == KindReserve {
		step = "reserve"
	}
	m := Movement{Source: OrderSource, SKU: sku, Warehouse: l.cfg.Warehouse, Kind: kind, Qty: line.Qty,
		FromReserved: kind == KindShip, At: se.Event.At, OrderNo: o.No, Platform: o.Platform,
		EventID: strings.Join([]string{o.Platform, o.Shop, o.No, strconv.Itoa(i + 1), sku, step}, "/")}
	if m.At.IsZero() {
		m.At = l.now()
	}
	_, _, err := l.Apply(ctx, m)
	switch {
	case errors.Is(err, ErrInvalid):
		// Refused again however often it is retried: logged, so the other
		// lines and the events after it still move.
		l.log.Error("order line moves no stock", "source", se.Source, "event", se.Event.ID, "line", i+1, "err", err)
	case err != nil:
		return fmt.Errorf("order %s line %d: %w", o.No, i+1, err)
	}
	return nil
}
