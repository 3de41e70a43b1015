package kpi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"cardflow/adapters/orders"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/server"
)

// ParseSources reads the kpi.sources entries, "name=generic:secret": an ad
// platform's exporter or an ERP posts cardflow's metrics JSON, signed like
// an order webhook.
func ParseSources(entries []config.Secret) (map[string]orders.Source, error) {
	return orders.ParseGenericSources("kpi", entries)
}

// Webhook is the handler of POST /webhooks/kpi/{source}.
type Webhook struct {
	sources map[string]orders.Source
	store   Store
	log     *slog.Logger
	now     func() time.Time
}

// NewWebhook returns the metrics webhook of sources (from ParseSources);
// now may be nil.
func NewWebhook(sources map[string]orders.Source, store Store, log *slog.Logger, now func() time.Time) *Webhook {
	if now == nil {
		now = time.Now
	}
	return &Webhook{sources: sources, store: store, log: log, now: now}
}

// Bounds of one webhook request.
const (
	maxBody    = 1 << 20
	maxMetrics = 1000
)

// ServeHTTP checks the source's signature (orders.ReadSigned: the
// headers, secret scheme and 1 MiB cap of the order webhook), reads the
// metrics and stores them all in one transaction, answering 202
// {"stored": n} once they are. A body that cannot be read is refused whole
// with 400 and every reason, and nothing is stored. A resent body stores
// the same values again: it changes nothing.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	src, body, ok := orders.ReadSource(w, r, h.sources, "metrics", h.now(), h.log)
	if !ok {
		return
	}
	name := src.Name
	ms, err := Decode(name, body)
	if err == nil {
		err = h.store.PutMetrics(r.Context(), ms)
	}
	switch {
	case errors.Is(err, ErrInvalid) || errors.As(err, new(*decodeError)):
		h.log.Info("metrics refused", "source", name, "err", err)
		orders.WriteProblems(w, "invalid_metrics", "the metrics were refused", err)
	case err != nil:
		h.log.Error("metrics not stored", "source", name, "count", len(ms), "err", err)
		server.WriteUnavailable(w, 5*time.Second, "the metrics store is unavailable; retry later")
	default:
		server.WriteJSON(w, http.StatusAccepted, map[string]int{"stored": len(ms)})
	}
}

// decodeError is a body Decode refused, with every reason.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// Decode reads a webhook body from source:
//
//	{"metrics": [{"name": "ad_spend", "value": "1234.50", "day": "2026-11-29",
//	              "platform": "douyin", "shop": "s1", "zone": "Asia/Shanghai"}]}
//
// 1 to 1,000 metrics; value is a decimal written as a JSON string or
// number, read exactly (never through a float); day is a date in zone,
// Asia/Shanghai when absent; platform and shop may be absent. The error
// lists every problem of every metric, and then none is returned.
func Decode(source string, body []byte) ([]Metric, error) {
	if err := flows.CheckText("payload", string(body), maxBody); err != nil {
		return nil, &decodeError{err}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return nil, &decodeError{errors.New(`payload: expected a JSON object {"metrics": [...]}`)}
	}
	var errs []error
	for key := range top {
		if key != "metrics" {
			errs = append(errs, fmt.Errorf("%s: unknown field", clip(key)))
		}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(top["metrics"], &items); err != nil || len(items) == 0 || len(items) > maxMetrics {
		errs = append(errs, fmt.Errorf("metrics: expected a list of 1 to %d metrics", maxMetrics))
		return nil, &decodeError{errors.Join(errs...)}
	}
	var out []Metric
	seen := map[string]int{}
	for i, raw := range items {
		m, err := decodeMetric(source, raw)
		if err == nil {
			key := strings.Join([]string{m.Name, m.Platform, m.Shop, m.DayKey()}, "\x00")
			if first, dup := seen[key]; dup {
				err = fmt.Errorf("the same name, platform, shop and day as metrics[%d]", first)
			} else {
				seen[key] = i
			}
		}
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				errs = append(errs, fmt.Errorf("metrics[%d]: %s", i, line))
			}
			continue
		}
		out = append(out, m)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, &decodeError{err}
	}
	return out, nil
}

// decodeMetric reads one metric with every problem it has.
func decodeMetric(source string, raw json.RawMessage) (Metric, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Metric{}, errors.New("expected a JSON object {name, value, day, platform, shop, zone}")
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
	for _, key := range slices.Sorted(maps.Keys(fields)) {
		if !slices.Contains([]string{"name", "value", "day", "platform", "shop", "zone"}, key) {
			errs = append(errs, fmt.Errorf("%s: unknown field", clip(key)))
		}
	}
	m := Metric{Source: source, Name: str("name"), Platform: str("platform"), Shop: str("shop")}
	m.Value, errs = decodeValue(fields["value"], errs)
	zone := China
	if z := str("zone"); z != "" {
		loc, err := time.LoadLocation(z)
		if err != nil || z == "Local" || len(z) > 64 {
			errs = append(errs, fmt.Errorf("zone %q: not an IANA time zone such as Asia/Shanghai", clip(z)))
		} else {
			zone = loc
		}
	}
	day := str("day")
	if d, err := time.ParseInLocation("2006-01-02", day, zone); err != nil {
		errs = append(errs, fmt.Errorf("day %q: expected a date such as 2026-11-29", clip(day)))
	} else {
		m.Day = d
	}
	if len(errs) > 0 {
		return Metric{}, errors.Join(errs...)
	}
	if err := m.Validate(); err != nil {
		return Metric{}, errors.New(strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
	}
	return m, nil
}

// decodeValue reads a metric's value as the digits sent: a JSON string or
// number, never through a float64.
func decodeValue(raw json.RawMessage, errs []error) (decimal.Decimal, []error) {
	text := string(bytes.TrimSpace(raw))
	if strings.HasPrefix(text, `"`) {
		if err := json.Unmarshal(raw, &text); err != nil {
			return decimal.Zero, append(errs, errors.New("value: expected a decimal"))
		}
	}
	text = strings.TrimSpace(text)
	if text == "" || len(text) > 32 || strings.ContainsAny(text, "eE") {
		return decimal.Zero, append(errs, fmt.Errorf("value %q: expected a decimal such as 1234.50", clip(text)))
	}
	d, err := decimal.NewFromString(text)
	if err != nil {
		return decimal.Zero, append(errs, fmt.Errorf("value %q: expected a decimal such as 1234.50", clip(text)))
	}
	return d, errs
}
