package orders

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"cardflow/config"
	"cardflow/flows"
	"cardflow/server"
)

// Source is one system that posts orders to /webhooks/orders/{name}: its
// payload format (a key of Normalisers) and its secret; for Douyin Shop's
// native push, its app key and app secret instead.
type Source struct {
	Name   string
	Format string
	Secret config.Secret
	AppKey string
}

var sourceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// ParseSources reads the orders.sources entries: "name=format:secret", or
// "name=douyin:app_key:app_secret" for Douyin Shop's own push.
func ParseSources(entries []config.Secret) (map[string]Source, error) {
	out := map[string]Source{}
	for i, e := range entries {
		name, rest, ok := strings.Cut(e.Reveal(), "=")
		if !ok || !sourceName.MatchString(name) {
			return nil, fmt.Errorf("item %d: expected name=format:secret, the name in lower-case letters, digits, - and _", i)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("item %d: source %q is named twice", i, name)
		}
		format, secret, _ := strings.Cut(rest, ":")
		if _, known := Normalisers[format]; !known {
			return nil, fmt.Errorf("item %d (source %s): format %q is not one of generic, taobao, jd, pdd, douyin", i, name, clip(format))
		}
		s := Source{Name: name, Format: format, Secret: config.Secret(secret)}
		if format == "douyin" {
			key, sec, _ := strings.Cut(secret, ":")
			s.AppKey, s.Secret = key, config.Secret(sec)
		}
		if len(s.Secret.Reveal()) < 16 {
			return nil, fmt.Errorf("item %d (source %s): the secret needs at least 16 characters", i, name)
		}
		out[name] = s
	}
	return out, nil
}

// ParseGenericSources reads entries as ParseSources does for a webhook
// whose senders post cardflow's own JSON (stock movements, metrics), so
// generic is the only format; what names the senders in errors ("stock",
// "kpi").
func ParseGenericSources(what string, entries []config.Secret) (map[string]Source, error) {
	sources, err := ParseSources(entries)
	if err != nil {
		return nil, fmt.Errorf("%s sources: %w", what, err)
	}
	for _, name := range slices.Sorted(maps.Keys(sources)) {
		if f := sources[name].Format; f != "generic" {
			return nil, fmt.Errorf("%s sources: source %s: format %q: a %s source posts the generic format", what, name, f, what)
		}
	}
	return sources, nil
}

// Webhook is the handler of POST /webhooks/orders/{source}.
type Webhook struct {
	sources map[string]Source
	store   Store
	log     *slog.Logger
	now     func() time.Time
	// routed is told when events were stored, so the router acts at once.
	routed func()
}

// NewWebhook returns the orders webhook; now and routed may be nil.
func NewWebhook(sources map[string]Source, store Store, log *slog.Logger, now func() time.Time, routed func()) *Webhook {
	if now == nil {
		now = time.Now
	}
	if routed == nil {
		routed = func() {}
	}
	return &Webhook{sources: sources, store: store, log: log, now: now, routed: routed}
}

// maxBody bounds an order payload; a Douyin push batches several.
const maxBody = 1 << 20

// ServeHTTP checks the source's signature, normalises the payload and
// stores its events, answering 202 only once every event is stored. A
// payload that cannot be read is refused whole with 400 and every reason,
// and nothing is stored.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := h.now()
	src, body, ok := ReadSource(w, r, h.sources, "order", now, h.log)
	if !ok {
		return
	}
	name := src.Name
	events, err := decode(src, body, now)
	if err != nil {
		h.log.Info("order payload refused", "source", name, "err", err)
		WriteProblems(w, "invalid_order", "the order payload was refused", err)
		return
	}
	accepted, dup := 0, 0
	for _, e := range events {
		first, _, err := h.store.IngestOrderEvent(r.Context(), name, e)
		switch {
		case errors.Is(err, ErrInvalid):
			WriteProblems(w, "invalid_order", "the order payload was refused", err)
			return
		case err != nil:
			// Events stored before this one stay stored; the sender's retry
			// finds them again and they count as duplicates.
			h.log.Error("order event not stored", "source", name, "event", e.ID, "err", err)
			server.WriteUnavailable(w, 5*time.Second, "the order store is unavailable; retry later")
			return
		case first:
			accepted++
		default:
			dup++
		}
	}
	if accepted > 0 {
		h.routed()
	}
	if src.Format == "douyin" {
		server.WriteJSON(w, http.StatusOK, map[string]any{"code": 0, "msg": "success"})
		return
	}
	server.WriteJSON(w, http.StatusAccepted, map[string]int{"accepted": accepted, "duplicates": dup})
}

// decode turns a payload into its events.
func decode(src Source, body []byte, now time.Time) ([]Event, error) {
	if err := flows.CheckText("payload", string(body), maxBody); err != nil {
		return nil, err
	}
	if src.Format == "douyin" {
		return DouyinPush(body, now)
	}
	o, err := Normalisers[src.Format](body)
	if err != nil {
		return nil, err
	}
	return []Event{OrderEvent(src.Name, o, now)}, nil
}

// ReadSource finds among sources the one the request's {source} names,
// answering 404 "no such <what> source" when there is none, and reads its
// signed body (ReadSigned): the orders, stock and KPI webhooks share it.
func ReadSource(w http.ResponseWriter, r *http.Request, sources map[string]Source, what string, now time.Time,
	log *slog.Logger) (Source, []byte, bool) {
	src, ok := sources[chi.URLParam(r, "source")]
	if !ok {
		server.WriteError(w, http.StatusNotFound, server.CodeNotFound, "no such "+what+" source")
		return Source{}, nil, false
	}
	body, ok := ReadSigned(w, r, src, now, log)
	return src, body, ok
}

// ReadSigned reads a webhook's body (at most 1 MiB) and checks it was
// signed by src (Douyin's event-sign for a douyin source, Verify for the
// others), answering 413 or 401 itself when not: the orders and the stock
// webhooks share it.
func ReadSigned(w http.ResponseWriter, r *http.Request, src Source, now time.Time, log *slog.Logger) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		server.WriteError(w, http.StatusRequestEntityTooLarge, server.CodeBodyTooLarge, "the payload is larger than 1 MiB")
		return nil, false
	}
	if src.Format == "douyin" {
		err = VerifyDouyin(r.Header, body, src.AppKey, src.Secret.Reveal())
	} else {
		err = Verify(r.Header, body, []byte(src.Secret.Reveal()), now)
	}
	if err != nil {
		log.Warn("webhook refused", "path", r.URL.Path, "source", src.Name, "reason", err.Error())
		server.WriteError(w, http.StatusUnauthorized, "bad_signature", "signature refused: "+err.Error())
		return nil, false
	}
	return body, true
}

// jsonKind names what JSON a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another value"
}

// WriteProblems answers 400 with code, message and every reason err
// lists (one per line), as the orders and the stock webhooks refuse a
// payload.
func WriteProblems(w http.ResponseWriter, code, message string, err error) {
	var problems []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			problems = append(problems, line)
		}
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		// In the sender's terms, not Go's: which field, and what JSON it
		// holds where the format wants another.
		field := cmp.Or(te.Field, "the body")
		problems = []string{fmt.Sprintf("%s: a JSON %s where the format wants %s", field, te.Value, jsonKind(te.Type))}
	}
	server.WriteJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
		"code": code, "message": message, "problems": problems}})
}
