package orders

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Store is what the orders adapter keeps: the orders as they now stand and
// every event that moved them, with whether it has been routed to flows.
// storage/postgres and storage/sqlite implement it; one conformance suite
// (storage/storetest) runs on both.
type Store interface {
	// IngestOrderEvent records e, from source, unless an event with the
	// same source and ID was recorded before, and in the same transaction
	// applies it to the stored order with Merge. first reports whether this
	// call recorded it; order is the order as stored after the call (for a
	// repeat: as it stands, unchanged by it). Concurrent calls with one id
	// see exactly one first. An event failing Validate is refused with
	// ErrInvalid and nothing is written.
	IngestOrderEvent(ctx context.Context, source string, e Event) (first bool, order Order, err error)

	// OrdersByNo returns the stored orders with this number, on every
	// platform and shop (numbers may repeat across them), most recently
	// updated first; none is not an error.
	OrdersByNo(ctx context.Context, no string) ([]Order, error)

	// UnroutedOrderEvents returns up to limit recorded events not yet
	// marked routed, oldest recorded first, with the order as it was
	// stored right after each (StoredEvent.Order).
	UnroutedOrderEvents(ctx context.Context, limit int) ([]StoredEvent, error)

	// MarkOrderEventRouted records that the event was routed at at; marking
	// an unknown or already routed event is not an error.
	MarkOrderEventRouted(ctx context.Context, source, id string, at time.Time) error

	// OrderCursor returns where a poller of source stopped in shop's
	// orders, "" when it never polled there.
	OrderCursor(ctx context.Context, source, shop string) (string, error)

	// SetOrderCursor records where a poller of source stopped in shop's
	// orders. A source, shop or cursor that is empty, longer than 512 bytes,
	// not UTF-8 or holding NUL is refused with ErrInvalid.
	SetOrderCursor(ctx context.Context, source, shop, cursor string, at time.Time) error

	// LinkOrderInstance records that a flow instance was started for an
	// order. Recording the same order and instance again changes nothing
	// (the first FlowID and StartedAt stay). A link failing CheckLink is
	// refused with ErrInvalid. The order need not be stored.
	LinkOrderInstance(ctx context.Context, l InstanceLink) error

	// OrderInstances returns up to limit links of the order, the latest
	// started first, ties by instance id in byte order; none is not an
	// error, and a limit of 0 or less returns none.
	OrderInstances(ctx context.Context, platform, shop, no string, limit int) ([]InstanceLink, error)
}

// InstanceLink says a flow instance was started for an order: by a rule
// on one of its events, or from its card.
type InstanceLink struct {
	Platform, Shop, No string
	InstanceID         string
	FlowID             string
	StartedAt          time.Time
}

// CheckLink is the check LinkOrderInstance makes of a link: an order
// number, platform and instance, every text at most 512 bytes of UTF-8
// without NUL (the shop may be empty, as an order's may).
func CheckLink(l InstanceLink) error {
	if l.Platform == "" || l.No == "" || l.InstanceID == "" {
		return fmt.Errorf("instance link %q/%q: %w", clip(l.No), clip(l.InstanceID), ErrInvalid)
	}
	for _, v := range []string{l.Platform, l.Shop, l.No, l.InstanceID, l.FlowID} {
		if len(v) > 512 || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return fmt.Errorf("instance link %q/%q: %w", clip(l.No), clip(l.InstanceID), ErrInvalid)
		}
	}
	return nil
}

// CheckCursor is the check SetOrderCursor makes of its arguments.
func CheckCursor(source, shop, cursor string) error {
	for _, v := range []string{source, shop, cursor} {
		if v == "" || len(v) > 512 || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return fmt.Errorf("cursor %q/%q: %w", clip(source), clip(shop), ErrInvalid)
		}
	}
	return nil
}

// StoredEvent is an event as the store recorded it.
type StoredEvent struct {
	Source string
	Event  Event
	// Order is the whole order as stored after the event was applied: what
	// a routing rule reads, even when the event itself was a thin push.
	Order      Order
	RecordedAt time.Time
}

// ErrInvalid is returned by a Store for an event it cannot record.
var ErrInvalid = errors.New("invalid order event")

// Validate checks an event before it is recorded: an id, a kind, and an
// order that names its platform and number. A full event's order must be
// valid as a whole.
func (e Event) Validate() error {
	var errs []error
	if e.ID == "" || len(e.ID) > 512 {
		errs = append(errs, errors.New("event id: missing or longer than 512 bytes"))
	}
	if e.Kind == "" {
		errs = append(errs, errors.New("event kind: missing"))
	}
	if e.Order.No == "" || e.Order.Platform == "" {
		errs = append(errs, errors.New("order: no number or platform"))
	}
	if e.Full {
		if err := e.Order.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Merge applies an event to the order stored for it (nil when none is):
//   - a full order replaces the stored one, unless the stored one was
//     updated later than it (an event delivered late changes nothing);
//   - a thin push moves the stored order's status and refund to the ones
//     it reports and fills the paid amount if it gives one; with no stored
//     order, the thin order is kept as it is until its detail comes.
func Merge(stored *Order, e Event) Order {
	if e.Full {
		if stored != nil && !stored.UpdatedAt.IsZero() && !e.Order.UpdatedAt.IsZero() &&
			stored.UpdatedAt.After(e.Order.UpdatedAt) {
			return *stored
		}
		return e.Order
	}
	if stored == nil {
		o := e.Order
		o.Refund = refundOfKind(e.Kind, o.Refund)
		return o
	}
	o := *stored
	if e.Order.Status != "" {
		o.Status, o.PlatformStatus = e.Order.Status, e.Order.PlatformStatus
	}
	if e.Order.Paid != 0 {
		o.Paid = e.Order.Paid
	}
	o.Refund = refundOfKind(e.Kind, o.Refund)
	if e.At.After(o.UpdatedAt) {
		o.UpdatedAt = e.At
	}
	return o
}

// refundOfKind is the refund status after an event of kind.
func refundOfKind(k EventKind, was RefundStatus) RefundStatus {
	switch k {
	case EventRefundRequested:
		return RefundRequested
	case EventRefunded:
		return RefundDone
	}
	return was
}
