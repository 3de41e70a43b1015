package kpi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi"
	"cardflow/adapters/orders"
	"cardflow/config"
	"cardflow/storage/sqlite"
)

const adsSecret = "whsec-ads-0123456789"

type hook struct {
	store  *sqlite.Store
	server *httptest.Server
	now    time.Time
}

func newHook(t *testing.T) *hook {
	t.Helper()
	sources, err := kpi.ParseSources([]config.Secret{"ads=generic:" + adsSecret})
	require.NoError(t, err)
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cardflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	h := &hook{store: store, now: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}
	r := chi.NewRouter()
	r.Method(http.MethodPost, "/webhooks/kpi/{source}",
		kpi.NewWebhook(sources, store, slog.New(slog.DiscardHandler), func() time.Time { return h.now }))
	h.server = httptest.NewServer(r)
	t.Cleanup(h.server.Close)
	return h
}

// post sends body to source signed with secret at ts, returning the
// status and the decoded answer.
func (h *hook) post(t *testing.T, source, secret string, ts time.Time, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.server.URL+"/webhooks/kpi/"+source, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(orders.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(orders.HeaderSignature, orders.Sign([]byte(secret), ts.Unix(), body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	return resp.StatusCode, out
}

// sum is a metric's sum over 29 November 2026 in China, or "none".
func (h *hook) sum(t *testing.T, name string) string {
	t.Helper()
	from := time.Date(2026, 11, 29, 0, 0, 0, 0, kpi.China)
	v, found, err := h.store.SumMetric(t.Context(), name, from, from.AddDate(0, 0, 1), kpi.Filter{})
	require.NoError(t, err)
	if !found {
		return "none"
	}
	return v.String()
}

func TestWebhookStoresMetrics(t *testing.T) {
	t.Parallel()
	h := newHook(t)
	body := []byte(`{"metrics":[
		{"name":"ad_spend","value":"1234.50","day":"2026-11-29","platform":"douyin","shop":"s1"},
		{"name":"ad_spend","value":0.1,"day":"2026-11-29","platform":"jd"},
		{"name":"visitors","value":12000,"day":"2026-11-29","zone":"UTC"},
		{"name":"visitors","value":"7","day":"2026-11-30","zone":"UTC"}]}`)
	status, answer := h.post(t, "ads", adsSecret, h.now, body)
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, map[string]any{"stored": 4.0}, answer)
	require.Equal(t, "1234.6", h.sum(t, "ad_spend"), "0.1 is read as its digits, not as a float")
	require.Equal(t, "12000", h.sum(t, "visitors"), "29 November in UTC starts at 08:00 that day in China; the 30th's after it")

	// The same body again, later: the same values, nothing added.
	status, _ = h.post(t, "ads", adsSecret, h.now.Add(time.Minute), body)
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, "1234.6", h.sum(t, "ad_spend"))
}

func TestWebhookRefusals(t *testing.T) {
	t.Parallel()
	h := newHook(t)
	good := []byte(`{"metrics":[{"name":"ad_spend","value":"1","day":"2026-11-29"}]}`)
	many := `{"metrics":[` + strings.Repeat(`{"name":"a","value":"1","day":"2026-11-29"},`, 1000) +
		`{"name":"a","value":"1","day":"2026-11-29"}]}`
	tests := []struct {
		name       string
		source     string
		secret     string
		at         time.Time
		body       []byte
		wantStatus int
		wantAnswer map[string]any
	}{
		{name: "an unknown source", source: "nope", secret: adsSecret, at: time.Time{}, body: good,
			wantStatus: http.StatusNotFound},
		{name: "a bad signature", source: "ads", secret: "whsec-other-0123456789", body: good,
			wantStatus: http.StatusUnauthorized},
		{name: "a stale timestamp", source: "ads", secret: adsSecret, at: time.Date(2026, 11, 30, 9, 54, 0, 0, time.UTC),
			body: good, wantStatus: http.StatusUnauthorized},
		{name: "larger than 1 MiB", source: "ads", secret: adsSecret,
			body: []byte(`{"metrics":[{"name":"` + strings.Repeat("a", 1<<20) + `"}]}`), wantStatus: http.StatusRequestEntityTooLarge},
		{name: "every problem, and nothing stored", source: "ads", secret: adsSecret, body: []byte(`{"metrics":[
			{"name":"ad_spend","value":"1","day":"2026-11-29"},
			{"name":"Ad Spend","value":1e3,"day":"29/11/2026","colour":"red"},
			{"name":"cost","value":"12.3456789","day":"2026-11-29","platform":7,"zone":"Mars/Olympus"},
			{"name":"cost","day":"1999-12-31"},
			{"name":"ad_spend","value":"2","day":"2026-11-29"},
			"x"], "extra": 1}`), wantStatus: http.StatusBadRequest,
			wantAnswer: map[string]any{"error": map[string]any{"code": "invalid_metrics", "message": "the metrics were refused",
				"problems": []any{
					"extra: unknown field",
					"metrics[1]: colour: unknown field",
					`metrics[1]: value "1e3": expected a decimal such as 1234.50`,
					`metrics[1]: day "29/11/2026": expected a date such as 2026-11-29`,
					"metrics[2]: platform: expected a string",
					`metrics[2]: zone "Mars/Olympus": not an IANA time zone such as Asia/Shanghai`,
					`metrics[3]: value "": expected a decimal such as 1234.50`,
					"metrics[4]: the same name, platform, shop and day as metrics[0]",
					"metrics[5]: expected a JSON object {name, value, day, platform, shop, zone}",
				}}}},
		{name: "bounds Validate checks", source: "ads", secret: adsSecret, body: []byte(`{"metrics":[
			{"name":"Ad Spend","value":"12.1234567","day":"1999-12-31","shop":"` + strings.Repeat("s", 65) + `"}]}`),
			wantStatus: http.StatusBadRequest,
			wantAnswer: map[string]any{"error": map[string]any{"code": "invalid_metrics", "message": "the metrics were refused",
				"problems": []any{
					`metrics[0]: name "Ad Spend": expected lower-case letters, digits and _, at most 64`,
					"metrics[0]: shop: longer than 64 bytes, not UTF-8 or holds NUL",
					"metrics[0]: day 1999-12-31: expected a day of the years 2000 to 2999",
					"metrics[0]: value 12.1234567: more than 6 decimals",
				}}}},
		{name: "more than 1,000 metrics", source: "ads", secret: adsSecret, body: []byte(many),
			wantStatus: http.StatusBadRequest,
			wantAnswer: map[string]any{"error": map[string]any{"code": "invalid_metrics", "message": "the metrics were refused",
				"problems": []any{"metrics: expected a list of 1 to 1000 metrics"}}}},
		{name: "not JSON", source: "ads", secret: adsSecret, body: []byte(`[1, 2]`), wantStatus: http.StatusBadRequest,
			wantAnswer: map[string]any{"error": map[string]any{"code": "invalid_metrics", "message": "the metrics were refused",
				"problems": []any{`payload: expected a JSON object {"metrics": [...]}`}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			if at.IsZero() {
				at = h.now
			}
			status, answer := h.post(t, tt.source, tt.secret, at, tt.body)
			require.Equal(t, tt.wantStatus, status, "%v", answer)
			if tt.wantAnswer != nil {
				require.Equal(t, tt.wantAnswer, answer)
			}
			require.Equal(t, "none", h.sum(t, "ad_spend"), "nothing stored")
			require.Equal(t, "none", h.sum(t, "a"), "nothing stored")
		})
	}
}

func TestParseSourcesTakesGenericOnly(t *testing.T) {
	t.Parallel()
	_, err := kpi.ParseSources([]config.Secret{"ads=douyin:key:" + adsSecret})
	require.EqualError(t, err, `kpi sources: source ads: format "douyin": a kpi source posts the generic format`)
	_, err = kpi.ParseSources([]config.Secret{"ads=generic:short"})
	require.ErrorContains(t, err, "at least 16 characters")
}
