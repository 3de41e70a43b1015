package stock_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/adapters/stock"
	"cardflow/bot/bottest"
	"cardflow/config"
)

const wmsSecret = "whsec-wms-0123456789"

type hookBundle struct {
	*ledgerBundle
	server *httptest.Server
	now    time.Time
}

func newHook(t *testing.T) *hookBundle {
	t.Helper()
	sources, err := stock.ParseSources([]config.Secret{"wms=generic:" + wmsSecret})
	require.NoError(t, err)
	b := &hookBundle{ledgerBundle: newLedger(t, stock.Config{}, nil), now: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}
	h := stock.NewWebhook(sources, b.ledger, b.log.Logger, func() time.Time { return b.now })
	r := chi.NewRouter()
	r.Method(http.MethodPost, "/webhooks/stock/{source}", h)
	b.server = httptest.NewServer(r)
	t.Cleanup(b.server.Close)
	return b
}

func (b *hookBundle) post(t *testing.T, source string, body []byte, sign func(http.Header)) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.server.URL+"/webhooks/stock/"+source, bytes.NewReader(body))
	require.NoError(t, err)
	if sign != nil {
		sign(req.Header)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func signed(secret string, ts int64, body []byte) func(http.Header) {
	return func(h http.Header) {
		h.Set(orders.HeaderTimestamp, strconv.FormatInt(ts, 10))
		h.Set(orders.HeaderSignature, orders.Sign([]byte(secret), ts, body))
	}
}

func TestWebhookAppliesOnceAndAnswers202(t *testing.T) {
	t.Parallel()
	b := newHook(t)
	body := []byte(`[{"event_id":"wms-1","sku":"TEA-LJ-250","warehouse":"hz-1","kind":"set","qty":12,"at":"2026-11-30T17:00:00+08:00"},
		{"event_id":"wms-2","sku":"TEA-LJ-250","warehouse":"hz-1","kind":"ship","qty":5}]`)
	status, out := b.post(t, "wms", body, signed(wmsSecret, b.now.Unix(), body))
	require.Equal(t, http.StatusAccepted, status, out)
	require.Equal(t, map[string]any{"accepted": 2.0, "duplicates": 0.0}, out)
	l := b.store.level("TEA-LJ-250", "hz-1")
	require.Equal(t, int64(7), l.OnHand)
	require.Equal(t, b.now.UTC(), l.UpdatedAt, "a movement without at is now")

	// Sent again (a retry), with one new movement.
	body = append(body[:len(body)-1], []byte(`,{"event_id":"wms-3","sku":"TEA-LJ-250","warehouse":"bj-1","kind":"receive","qty":4}]`)...)
	status, out = b.post(t, "wms", body, signed(wmsSecret, b.now.Unix()-60, body))
	require.Equal(t, http.StatusAccepted, status, out)
	require.Equal(t, map[string]any{"accepted": 1.0, "duplicates": 2.0}, out)
	require.Equal(t, int64(7), b.store.level("TEA-LJ-250", "hz-1").OnHand, "applied once")

	one := []byte(`{"event_id":"wms-4","sku":"CUP-01","warehouse":"hz-1","kind":"adjust","qty":-1}`)
	status, out = b.post(t, "wms", one, signed(wmsSecret, b.now.Unix(), one))
	require.Equal(t, http.StatusAccepted, status, out)
	require.Equal(t, int64(-1), b.store.level("CUP-01", "hz-1").OnHand)
	require.Len(t, b.alerts.sent(), 1, "sellable -1 is an oversell")
}

func TestWebhookRefusals(t *testing.T) {
	t.Parallel()
	good := []byte(`{"event_id":"wms-1","sku":"TEA-LJ-250","warehouse":"hz-1","kind":"receive","qty":3}`)
	bad := []byte(`[{"event_id":"wms-1","sku":"TEA-LJ-250","warehouse":"hz-1","kind":"receive","qty":3},
		{"event_id":"","sku":"A","warehouse":"hz-1","kind":"steal","qty":1.5,"at":"yesterday","colour":"red"}]`)
	tests := []struct {
		name   string
		source string
		body   []byte
		sign   func(b *hookBundle, body []byte) func(http.Header)
		status int
		code   string
		want   []string
	}{
		{name: "unknown source", source: "nope", body: good, status: 404, code: "not_found"},
		{name: "no signature", source: "wms", body: good, status: 401, code: "bad_signature"},
		{name: "forged signature", source: "wms", body: good, status: 401, code: "bad_signature",
			sign: func(b *hookBundle, body []byte) func(http.Header) {
				return signed("another-secret-0123", b.now.Unix(), body)
			}},
		{name: "stale", source: "wms", body: good, status: 401, code: "bad_signature",
			sign: func(b *hookBundle, body []byte) func(http.Header) { return signed(wmsSecret, b.now.Unix()-301, body) }},
		{name: "every reason at once, nothing applied", source: "wms", body: bad, status: 400, code: "invalid_stock",
			sign: func(b *hookBundle, body []byte) func(http.Header) { return signed(wmsSecret, b.now.Unix(), body) },
			want: []string{"[1] colour: unknown field", `[1] kind "steal": not one of set, receive, ship, adjust`,
				"[1] qty 1.5: expected a whole number", `[1] at "yesterday": expected an RFC 3339 time`, "[1] event_id: missing"}},
		{name: "reserve is for orders", source: "wms", status: 400, code: "invalid_stock",
			body: []byte(`{"event_id":"w","sku":"A","warehouse":"h","kind":"reserve","qty":1}`),
			sign: func(b *hookBundle, body []byte) func(http.Header) { return signed(wmsSecret, b.now.Unix(), body) },
			want: []string{`kind "reserve": not one of`}},
		{name: "not JSON", source: "wms", body: []byte(`[{"event_id":`), status: 400, code: "invalid_stock",
			sign: func(b *hookBundle, body []byte) func(http.Header) { return signed(wmsSecret, b.now.Unix(), body) },
			want: []string{"not a JSON array of movements"}},
		{name: "an empty array", source: "wms", body: []byte(`[]`), status: 400, code: "invalid_stock",
			sign: func(b *hookBundle, body []byte) func(http.Header) { return signed(wmsSecret, b.now.Unix(), body) },
			want: []string{"0 movements, expected 1 to 1000"}},
		{name: "NUL in the payload", source: "wms", body: []byte("{\"sku\":\"A\x00\"}"), status: 400, code: "invalid_stock",
			sign: func(b *hookBundle, body []byte) func(http.Header) { return signed(wmsSecret, b.now.Unix(), body) }},
		{name: "too large", source: "wms", body: bytes.Repeat([]byte(" "), 1<<20+1), status: 413, code: "body_too_large",
			sign: func(b *hookBundle, body []byte) func(http.Header) { return signed(wmsSecret, b.now.Unix(), body) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newHook(t)
			var sign func(http.Header)
			if tt.sign != nil {
				sign = tt.sign(b, tt.body)
			}
			status, out := b.post(t, tt.source, tt.body, sign)
			require.Equal(t, tt.status, status, out)
			e := out["error"].(map[string]any)
			require.Equal(t, tt.code, e["code"])
			text := fmt.Sprint(e["problems"])
			for _, w := range tt.want {
				require.Contains(t, text, w)
			}
			require.Zero(t, b.store.recorded(), "nothing stored")
			bottest.AssertNoLeak(t, []string{wmsSecret}, nil, b.log.String())
		})
	}
}

func TestWebhookUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(b *hookBundle)
	}{
		{name: "the store down", setup: func(b *hookBundle) { b.store.fail = errStoreDown }},
		{name: "the alert engine down", setup: func(b *hookBundle) { b.alerts.fail = errStoreDown }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newHook(t)
			tt.setup(b)
			body := []byte(`{"event_id":"wms-1","sku":"TEA-LJ-250","warehouse":"hz-1","kind":"ship","qty":3}`)
			status, out := b.post(t, "wms", body, signed(wmsSecret, b.now.Unix(), body))
			require.Equal(t, http.StatusServiceUnavailable, status, "not 202: the sender must retry")
			require.Equal(t, "unavailable", out["error"].(map[string]any)["code"])
		})
	}
}

func TestParseSources(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		entry config.Secret
		want  string
	}{
		{name: "a platform format", entry: "tm=taobao:" + wmsSecret, want: `source tm: format "taobao": a stock source posts the generic format`},
		{name: "short secret", entry: "wms=generic:short", want: "the secret needs at least 16 characters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := stock.ParseSources([]config.Secret{tt.entry})
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), wmsSecret)
		})
	}
}
