package stock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"cardflow/adapters/orders"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/server"
)

// ParseSources reads the stock.sources entries, "name=generic:secret": a
// WMS or ERP posts cardflow's generic movement JSON, signed like an order
// webhook.
func ParseSources(entries []config.Secret) (map[string]orders.Source, error) {
	return orders.ParseGenericSources("stock", entries)
}

// Webhook is the handler of POST /webhooks/stock/{source}.
type Webhook struct {
	sources map[string]orders.Source
	ledger  *Ledger
	log     *slog.Logger
	now     func() time.Time
}

// NewWebhook returns the stock webhook of sources (from ParseSources);
// now may be nil.
func NewWebhook(sources map[string]orders.Source, ledger *Ledger, log *slog.Logger, now func() time.Time) *Webhook {
	if now == nil {
		now = time.Now
	}
	return &Webhook{sources: sources, ledger: ledger, log: log, now: now}
}

// Bounds of one webhook request.
const (
	maxBody      = 1 << 20
	maxMovements = 1000
)

// ServeHTTP checks the source's signature (orders.Verify: the same
// headers and secret scheme as the orders webhook), reads the movements
// and applies them in order, answering 202 {"accepted","duplicates"} once
// every one is stored. A body that cannot be read is refused whole with
// 400 and every reason, and nothing is stored.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := h.now()
	src, body, ok := orders.ReadSource(w, r, h.sources, "stock", now, h.log)
	if !ok {
		return
	}
	name := src.Name
	moves, err := Decode(name, body, now)
	if err != nil {
		h.log.Info("stock payload refused", "source", name, "err", err)
		orders.WriteProblems(w, "invalid_stock", "the stock payload was refused", err)
		return
	}
	accepted, dup := 0, 0
	for _, m := range moves {
		_, first, err := h.ledger.Apply(r.Context(), m)
		switch {
		case errors.Is(err, ErrInvalid):
			// Decode prepared every movement; only a row pushed beyond the
			// ledger's bounds gets here, and it is refused alone.
			orders.WriteProblems(w, "invalid_stock", "the stock payload was refused", err)
			return
		case err != nil:
			// Movements applied before this one stay; the sender's retry
			// finds them again and they count as duplicates.
			h.log.Error("stock movement not applied", "source", name, "event", m.EventID, "err", err)
			server.WriteUnavailable(w, 5*time.Second, "the stock ledger is unavailable; retry later")
			return
		case first:
			accepted++
		default:
			dup++
		}
	}
	server.WriteJSON(w, http.StatusAccepted, map[string]int{"accepted": accepted, "duplicates": dup})
}

// wireKinds are the kinds a WMS or ERP may send; reserve and release come
// from order events only.
var wireKinds = []Kind{KindSet, KindReceive, KindShip, KindAdjust}

// Decode reads a webhook body from source: one movement
// {"event_id","sku","warehouse","kind","qty","at"} or a JSON array of up
// to 1000. qty is a whole number; at is RFC 3339, now when absent. Every
// movement is checked with Prepare; the error lists every problem of
// every movement, and then no movement is returned.
func Decode(source string, body []byte, now time.Time) ([]Movement, error) {
	if err := flows.CheckText("payload", string(body), maxBody); err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(body)
	array := len(trimmed) > 0 && trimmed[0] == '['
	var items []json.RawMessage
	switch {
	case array:
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, fmt.Errorf("payload: not a JSON array of movements: %w", err)
		}
		if len(items) == 0 || len(items) > maxMovements {
			return nil, fmt.Errorf("payload: %d movements, expected 1 to %d", len(items), maxMovements)
		}
	default:
		items = []json.RawMessage{trimmed}
	}
	var out []Movement
	var errs []error
	for i, raw := range items {
		m, err := decodeOne(source, raw, now)
		if err != nil {
			prefix := ""
			if array {
				prefix = fmt.Sprintf("[%d] ", i)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				errs = append(errs, errors.New(prefix+line))
			}
			continue
		}
		out = append(out, m)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeOne reads one movement with every problem it has.
func decodeOne(source string, raw json.RawMessage, now time.Time) (Movement, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Movement{}, errors.New("expected a JSON object {event_id, sku, warehouse, kind, qty, at}")
	}
	var errs []error
	str := func(key string) string {
		v, ok := fields[key]
		if !ok {
			return ""
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			errs = append(errs, fmt.Errorf("%s: expected a string", key))
		}
		return s
	}
	for key := range fields {
		switch key {
		case "event_id", "sku", "warehouse", "kind", "qty", "at":
		default:
			errs = append(errs, fmt.Errorf("%s: unknown field", clip(key)))
		}
	}
	m := Movement{Source: source, EventID: str("event_id"), SKU: str("sku"), Warehouse: str("warehouse"),
		Kind: Kind(str("kind")), At: now}
	if !slices.Contains(wireKinds, m.Kind) {
		errs = append(errs, fmt.Errorf("kind %q: not one of set, receive, ship, adjust", clip(string(m.Kind))))
		m.Kind = KindSet // checked; keeps Prepare from naming the kind twice
	}
	if v, ok := fields["qty"]; !ok {
		errs = append(errs, errors.New("qty: missing"))
	} else if err := json.Unmarshal(v, &m.Qty); err != nil {
		errs = append(errs, fmt.Errorf("qty %s: expected a whole number", clip(string(v))))
	}
	if at := str("at"); at != "" {
		if t, err := time.Parse(time.RFC3339, at); err != nil {
			errs = append(errs, fmt.Errorf("at %q: expected an RFC 3339 time such as 2026-11-30T09:00:00+08:00", clip(at)))
		} else {
			m.At = t
		}
	}
	// Prepare's own reasons too, so the sender gets every one at once.
	prepared, err := Prepare(m)
	if len(errs) > 0 || err != nil {
		return Movement{}, errors.Join(append(errs, unwrapInvalid(err))...)
	}
	return prepared, nil
}

// unwrapInvalid is a Prepare error without its ErrInvalid prefix, or nil.
func unwrapInvalid(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
}
