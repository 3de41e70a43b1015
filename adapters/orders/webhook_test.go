package orders_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"cardflow/adapters/orders"
	"cardflow/bot/bottest"
	"cardflow/config"
	"cardflow/flows"
)

const (
	erpSecret    = "whsec-erp-0123456789"
	douyinKey    = "7000000000000000001"
	douyinSecret = "dy-secret-0123456789"
)

type hookBundle struct {
	store  *memStore
	server *httptest.Server
	log    *bottest.Log
	now    time.Time
	woken  chan struct{}
}

func newHook(t *testing.T) *hookBundle {
	t.Helper()
	sources, err := orders.ParseSources([]config.Secret{"erp=generic:" + erpSecret, "tmall-main=taobao:" + erpSecret,
		config.Secret("dy=douyin:" + douyinKey + ":" + douyinSecret)})
	require.NoError(t, err)
	b := &hookBundle{store: newMemStore(), log: bottest.NewLog(), now: time.Unix(1764460800, 0), woken: make(chan struct{}, 10)}
	h := orders.NewWebhook(sources, b.store, b.log.Logger, func() time.Time { return b.now }, func() { b.woken <- struct{}{} })
	r := chi.NewRouter()
	r.Method(http.MethodPost, "/webhooks/orders/{source}", h)
	b.server = httptest.NewServer(r)
	t.Cleanup(b.server.Close)
	return b
}

func (b *hookBundle) post(t *testing.T, source string, body []byte, sign func(http.Header)) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.server.URL+"/webhooks/orders/"+source, bytes.NewReader(body))
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

func signedAt(ts int64, body []byte) func(http.Header) {
	return func(h http.Header) {
		h.Set(orders.HeaderTimestamp, strconv.FormatInt(ts, 10))
		h.Set(orders.HeaderSignature, orders.Sign([]byte(erpSecret), ts, body))
	}
}

func TestWebhookStoresOnceAndAnswers202(t *testing.T) {
	t.Parallel()
	b := newHook(t)
	body := sample(t, "generic.json")
	status, out := b.post(t, "erp", body, signedAt(b.now.Unix(), body))
	require.Equal(t, http.StatusAccepted, status, out)
	require.Equal(t, map[string]any{"accepted": 1.0, "duplicates": 0.0}, out)
	<-b.woken
	status, out = b.post(t, "erp", body, signedAt(b.now.Unix()-60, body))
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, map[string]any{"accepted": 0.0, "duplicates": 1.0}, out, "the same order state sent again is one event")
	found, err := b.store.OrdersByNo(t.Context(), "TM-1001")
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, orders.Money(680000), found[0].Paid)

	tb := sample(t, "taobao_fullinfo.json")
	status, _ = b.post(t, "tmall-main", tb, signedAt(b.now.Unix(), tb))
	require.Equal(t, http.StatusAccepted, status)
}

func TestWebhookRefusals(t *testing.T) {
	t.Parallel()
	good := sample(t, "generic.json")
	bad := []byte(`{"order_no":"1","platform":"erp","status":"sold","paid":"1.001","lines":[{"sku":"A","qty":0}]}`)
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
		{name: "no signature", source: "erp", body: good, status: 401, code: "bad_signature"},
		{name: "forged signature", source: "erp", body: good, status: 401, code: "bad_signature",
			sign: func(b *hookBundle, body []byte) func(http.Header) {
				return func(h http.Header) {
					h.Set(orders.HeaderTimestamp, strconv.FormatInt(b.now.Unix(), 10))
					h.Set(orders.HeaderSignature, orders.Sign([]byte("another-secret-0123"), b.now.Unix(), body))
				}
			}},
		{name: "stale", source: "erp", body: good, status: 401, code: "bad_signature",
			sign: func(b *hookBundle, body []byte) func(http.Header) { return signedAt(b.now.Unix()-301, body) }},
		{name: "every reason at once", source: "erp", body: bad, status: 400, code: "invalid_order",
			sign: func(b *hookBundle, body []byte) func(http.Header) { return signedAt(b.now.Unix(), body) },
			want: []string{`status "sold": unknown`, `paid: amount "1.001": more than two decimals`, `lines[0].qty "0": expected a positive whole quantity`}},
		{name: "JSON of the wrong shape, said without Go's words", source: "erp", body: []byte(`[1,2]`), status: 400,
			code: "invalid_order", sign: func(b *hookBundle, body []byte) func(http.Header) { return signedAt(b.now.Unix(), body) },
			want: []string{"the body: a JSON array where the format wants an object"}},
		{name: "NUL in the payload", source: "erp", body: []byte("{\"order_no\":\"1\x00\"}"), status: 400, code: "invalid_order",
			sign: func(b *hookBundle, body []byte) func(http.Header) { return signedAt(b.now.Unix(), body) }},
		{name: "too large", source: "erp", body: bytes.Repeat([]byte(" "), 1<<20+1), status: 413, code: "body_too_large",
			sign: func(b *hookBundle, body []byte) func(http.Header) { return signedAt(b.now.Unix(), body) }},
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
			require.NotContains(t, text, "Go value", "no Go type names to integrators")
			require.Empty(t, b.store.events, "nothing stored")
			bottest.AssertNoLeak(t, []string{erpSecret, douyinSecret}, nil, b.log.String())
		})
	}
}

func TestWebhookDouyinNative(t *testing.T) {
	t.Parallel()
	b := newHook(t)
	body := []byte(`[{"tag":"101","msg_id":"7381234567890","data":"{\"p_id\":6923456789012345678,\"shop_id\":4463798,\"order_status\":105,\"pay_amount\":8900}"}]`)
	sign := func(h http.Header) {
		h.Set("app-id", douyinKey)
		h.Set("event-sign", orders.DouyinSign(douyinKey, douyinSecret, body))
	}
	status, out := b.post(t, "dy", body, sign)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{"code": 0.0, "msg": "success"}, out, "Douyin's own answer")
	status, _ = b.post(t, "dy", body, sign)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, b.store.events, 1, "a redelivered push is stored once")
	status, _ = b.post(t, "dy", body, func(h http.Header) { h.Set("app-id", douyinKey); h.Set("event-sign", strings.Repeat("0", 32)) })
	require.Equal(t, http.StatusUnauthorized, status)
}

func TestWebhookStoreDown(t *testing.T) {
	t.Parallel()
	b := newHook(t)
	b.store.fail = fmt.Errorf("store: %w", flows.ErrUnavailable)
	body := sample(t, "generic.json")
	status, out := b.post(t, "erp", body, signedAt(b.now.Unix(), body))
	require.Equal(t, http.StatusServiceUnavailable, status, "not 202: the sender must retry")
	require.Equal(t, "unavailable", out["error"].(map[string]any)["code"])
}

func TestParseSources(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		entry config.Secret
		want  string
	}{
		{name: "no format", entry: "erp=" + erpSecret, want: `format "whsec-erp-0123456789" is not one of`},
		{name: "short secret", entry: "erp=generic:short", want: "the secret needs at least 16 characters"},
		{name: "bad name", entry: "ERP=generic:" + erpSecret, want: "expected name=format:secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := orders.ParseSources([]config.Secret{tt.entry})
			require.ErrorContains(t, err, tt.want)
		})
	}
}
