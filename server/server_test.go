package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"cardflow/config"
)

// lockedBuffer collects log output written from server goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// bundle is one server under test, reachable over real HTTP at url.
type bundle struct {
	srv  *Server
	url  string
	logs *lockedBuffer
}

// setup builds a server with the test routes below (unless deps has its
// own), logging JSON into a buffer, and serves it with httptest.
func setup(t *testing.T, cfg *config.Config, deps Deps) *bundle {
	t.Helper()
	if cfg == nil {
		cfg = config.Default()
	}
	b := &bundle{logs: &lockedBuffer{}}
	if deps.Logger == nil {
		deps.Logger = jsonLogger(b.logs)
	}
	if deps.Routes == nil {
		deps.Routes = testRoutes
	}
	b.srv = New(cfg, deps)
	ts := httptest.NewServer(b.srv.Router())
	t.Cleanup(ts.Close)
	b.url = ts.URL
	return b
}

func jsonLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testRoutes stand in for the routes other packages mount.
func testRoutes(r chi.Router) {
	r.Post("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := ReadBody(w, r)
		if err != nil {
			return
		}
		WriteJSON(w, http.StatusOK, map[string]int{"bytes": len(body)})
	})
	r.Get("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"id": chi.URLParam(r, "id")})
	})
	r.Get("/id", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, RequestID(r.Context()))
	})
	r.Get("/panic", func(http.ResponseWriter, *http.Request) {
		panic("boom: postgres://cardflow:pg-PASS@db/cardflow")
	})
	r.Get("/panic-late", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		panic("boom after the headers")
	})
}

// do sends one request and returns the response with its body read.
func do(t *testing.T, method, url string, body io.Reader, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, Deps{})
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantBody   string
		wantAllow  string
	}{
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "readyz with no checks", method: "GET", path: "/readyz", wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "mounted route", method: "GET", path: "/items/42", wantStatus: 200, wantBody: `{"id":"42"}`},
		{name: "unknown route", method: "GET", path: "/nope", wantStatus: 404,
			wantBody: `{"error":{"code":"not_found","message":"no route for /nope"}}`},
		{name: "wrong method", method: "POST", path: "/healthz", wantStatus: 405, wantAllow: "GET",
			wantBody: `{"error":{"code":"method_not_allowed","message":"POST is not allowed for /healthz"}}`},
		{name: "panic", method: "GET", path: "/panic", wantStatus: 500,
			wantBody: `{"error":{"code":"internal","message":"internal error"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := do(t, tt.method, b.url+tt.path, nil, nil)
			require.Equal(t, tt.wantStatus, resp.StatusCode)
			require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
			require.JSONEq(t, tt.wantBody, body)
			require.Equal(t, tt.wantAllow, resp.Header.Get("Allow"))
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, Deps{})
	do(t, "GET", b.url+"/healthz", nil, nil)
	do(t, "GET", b.url+"/items/1", nil, nil)
	do(t, "GET", b.url+"/items/2", nil, nil)
	do(t, "GET", b.url+"/no/such/route", nil, nil)
	do(t, "BREW", b.url+"/healthz", nil, nil)

	resp, body := do(t, "GET", b.url+"/metrics", nil, nil)
	require.Equal(t, 200, resp.StatusCode)
	for _, want := range []string{
		`cardflow_http_requests_total{code="200",method="GET",route="/healthz"} 1`,
		`cardflow_http_requests_total{code="200",method="GET",route="/items/{id}"} 2`,
		`cardflow_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`cardflow_http_requests_total{code="405",method="OTHER",route="unmatched"} 1`,
		`cardflow_http_request_duration_seconds_count{method="GET",route="/items/{id}"} 2`,
		`go_goroutines `,
	} {
		require.Contains(t, body, want)
	}
	require.NotContains(t, body, "/items/1", "raw paths never become labels")
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, Deps{})
	tests := []struct {
		name     string
		incoming string
		kept     bool
	}{
		{name: "sane id is kept", incoming: "req-42_a.b:c", kept: true},
		{name: "missing id is generated", incoming: ""},
		{name: "id with spaces is replaced", incoming: "a b"},
		{name: "id with a quote is replaced", incoming: `x"y`},
		{name: "overlong id is replaced", incoming: strings.Repeat("a", maxRequestIDLen+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.incoming != "" {
				h.Set(RequestIDHeader, tt.incoming)
			}
			resp, body := do(t, "GET", b.url+"/id", nil, h)
			got := resp.Header.Get(RequestIDHeader)
			require.Equal(t, got, body, "the handler sees the id the client gets")
			if tt.kept {
				require.Equal(t, tt.incoming, got)
				return
			}
			require.Regexp(t, `^[0-9a-f]{32}$`, got)
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Server.BodyLimit = 64
	b := setup(t, cfg, Deps{})
	const tooLarge = `{"error":{"code":"body_too_large","message":"the request body is larger than the limit of 64 bytes"}}`
	tests := []struct {
		name       string
		path       string
		body       io.Reader // a *strings.Reader gets a Content-Length; a MultiReader is sent chunked
		wantStatus int
		wantBody   string
	}{
		{name: "at the limit", path: "/echo", body: strings.NewReader(strings.Repeat("a", 64)), wantStatus: 200, wantBody: `{"bytes":64}`},
		{name: "over, with Content-Length", path: "/echo", body: strings.NewReader(strings.Repeat("a", 65)), wantStatus: 413, wantBody: tooLarge},
		// Refused on its Content-Length before routing, though nothing reads it.
		{name: "over, with Content-Length, unread", path: "/nope", body: strings.NewReader(strings.Repeat("a", 65)), wantStatus: 413, wantBody: tooLarge},
		{name: "at the limit, chunked", path: "/echo", body: io.MultiReader(strings.NewReader(strings.Repeat("a", 64))), wantStatus: 200, wantBody: `{"bytes":64}`},
		{name: "over, chunked", path: "/echo", body: io.MultiReader(strings.NewReader(strings.Repeat("a", 4096))), wantStatus: 413, wantBody: tooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := do(t, "POST", b.url+tt.path, tt.body, nil)
			require.Equal(t, tt.wantStatus, resp.StatusCode)
			require.JSONEq(t, tt.wantBody, body)
		})
	}
}

func TestAccessLogKeepsCredentialsOut(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	srv := New(config.Default(), Deps{Logger: jsonLogger(&logs), Routes: testRoutes})
	req := httptest.NewRequest("GET", "/items/7?token=qs-SECRET&x=1", nil)
	req.Header.Set("Authorization", "Bearer auth-SECRET")
	req.Header.Set("Cookie", "session=cookie-SECRET")
	req.Header.Set(RequestIDHeader, "trace-1")
	rec := httptest.NewRecorder()
	srv.Router().ServeHTTP(rec, req)
	require.Equal(t, 200, rec.Code)

	out := logs.String()
	require.NotContains(t, out, "SECRET")
	var line struct {
		Msg       string `json:"msg"`
		Method    string `json:"method"`
		Route     string `json:"route"`
		Path      string `json:"path"`
		Status    int    `json:"status"`
		Duration  *int64 `json:"duration"`
		Bytes     int    `json:"bytes"`
		RequestID string `json:"request_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &line), out)
	require.Equal(t, "http request", line.Msg)
	require.Equal(t, "GET", line.Method)
	require.Equal(t, "/items/{id}", line.Route)
	require.Equal(t, "/items/7", line.Path)
	require.Equal(t, 200, line.Status)
	require.NotNil(t, line.Duration)
	require.Equal(t, rec.Body.Len(), line.Bytes)
	require.Equal(t, "trace-1", line.RequestID)
}

func TestPanicIsLoggedWithoutSecrets(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", func(k string) (string, bool) {
		if k == "CARDFLOW_STORE_DSN" {
			return "postgres://cardflow:pg-PASS@db/cardflow", true
		}
		if k == "CARDFLOW_QUEUE_REDIS_URL" {
			return "redis://redis:6379/0", true
		}
		return "", false
	})
	require.NoError(t, err)
	b := setup(t, cfg, Deps{})
	resp, _ := do(t, "GET", b.url+"/panic", nil, nil)
	require.Equal(t, 500, resp.StatusCode)
	logs := b.logs.String()
	require.Contains(t, logs, `"msg":"http handler panicked"`)
	require.Contains(t, logs, "boom: postgres://cardflow:xxxxx@db/cardflow")
	require.NotContains(t, logs, "pg-PASS")
}

// TestPanicAfterHeadersCutsTheResponse: once a 200 is on the wire a 500
// cannot follow, so the client must see a broken body rather than a
// truncated one that looks complete.
func TestPanicAfterHeadersCutsTheResponse(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, Deps{})
	req, err := http.NewRequestWithContext(t.Context(), "GET", b.url+"/panic-late", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	_, err = io.ReadAll(resp.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// TestAccessLogNamesTheCaller: a handler's SetCaller reaches the access
// log line; without it the line has no caller at all.
func TestAccessLogNamesTheCaller(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, caller string
	}{
		{"named", "token:tok_abcd2345"},
		{"not named", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs lockedBuffer
			srv := New(config.Default(), Deps{Logger: jsonLogger(&logs), Routes: func(r chi.Router) {
				r.Get("/who", func(w http.ResponseWriter, r *http.Request) {
					if tt.caller != "" {
						SetCaller(r.Context(), tt.caller)
					}
				})
			}})
			rec := httptest.NewRecorder()
			srv.Router().ServeHTTP(rec, httptest.NewRequest("GET", "/who", nil))
			var line map[string]any
			require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(logs.String())), &line), logs.String())
			got, logged := line["caller"]
			require.Equal(t, tt.caller != "", logged, line)
			if logged {
				require.Equal(t, tt.caller, got)
			}
		})
	}
	SetCaller(t.Context(), "outside a request: no effect, no panic")
}
