package chart

import (
	"bytes"
	"errors"
	"image"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"
)

// serve mounts the handler on a chi router as server.Deps.Routes would and
// returns the router and the log it writes.
func serve(t *testing.T, s *Signer) (http.Handler, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := chi.NewRouter()
	r.Handle("/charts/{token}", s.Handler(log))
	return r, &logs
}

func TestHandlerServesPNG(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	h, _ := serve(t, s)
	u, err := s.URL("", week())
	require.NoError(t, err)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "image/png", rec.Header().Get("Content-Type"))
	require.Equal(t, "public, max-age=31536000, immutable", rec.Header().Get("Cache-Control"))
	require.Equal(t, image.Rect(0, 0, Width, Height), decodePNG(t, rec.Body.Bytes()).Bounds())

	spec, err := s.Verify(strings.TrimSuffix(strings.TrimPrefix(u, "/charts/"), ".png"))
	require.NoError(t, err)
	want, err := Render(spec)
	require.NoError(t, err)
	require.Equal(t, want, rec.Body.Bytes())
}

func TestHandlerRefuses(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	h, logs := serve(t, s)
	u, err := s.URL("", week())
	require.NoError(t, err)
	tok := strings.TrimSuffix(strings.TrimPrefix(u, "/charts/"), ".png")
	payload, mac, _ := strings.Cut(tok, ".")
	tests := []struct {
		name   string
		method string
		path   string
		code   int
	}{
		{name: "tampered MAC", path: "/charts/" + payload + "." + strings.ToUpper(mac) + ".png", code: http.StatusNotFound},
		{name: "truncated", path: "/charts/" + tok[:len(tok)/2] + ".png", code: http.StatusNotFound},
		{name: "no .png", path: "/charts/" + tok, code: http.StatusNotFound},
		{name: "oversized", path: "/charts/" + strings.Repeat("A", MaxTokenLen+1) + ".png", code: http.StatusNotFound},
		{name: "POST", method: http.MethodPost, path: u, code: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, tt.path, nil))
			require.Equal(t, tt.code, rec.Code)
			require.NotContains(t, rec.Body.String(), "MAC", "a refusal says nothing of why")
			require.Empty(t, rec.Header().Get("Cache-Control"))
		})
	}
	t.Cleanup(func() {
		require.NotContains(t, logs.String(), string(testSecret))
	})
}

func TestHandlerHead(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	h, _ := serve(t, s)
	u, err := s.URL("", week())
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, u, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "image/png", rec.Header().Get("Content-Type"))
}

func TestHandlerRenderFailureIs500(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	s.draw = func(Spec) ([]byte, error) { return nil, errors.New("chart: draw: out of ink") }
	h, logs := serve(t, s)
	u, err := s.URL("", week())
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.NotContains(t, rec.Body.String(), "ink", "the cause is logged, not shown")
	require.Empty(t, rec.Header().Get("Cache-Control"), "a failure must not be cached for a year")
	require.Contains(t, logs.String(), "level=ERROR msg=\"chart: render\" err=\"chart: draw: out of ink\"")

	// The failure is not kept: once drawing works, the same URL serves.
	s.draw = render
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
	require.Equal(t, http.StatusOK, rec.Code)
}

func TestHandlerDrawsEachChartOnce(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	var draws atomic.Int32
	s.draw = func(spec Spec) ([]byte, error) {
		draws.Add(1)
		return render(spec)
	}
	h, _ := serve(t, s)
	other := week()
	other.Title = "客单价"
	get := func(spec Spec) []byte {
		u, err := s.URL("", spec)
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
		require.Equal(t, http.StatusOK, rec.Code)
		return rec.Body.Bytes()
	}
	first := get(week())
	require.Equal(t, first, get(week()))
	require.Equal(t, first, get(week()))
	require.EqualValues(t, 1, draws.Load(), "the same chart is drawn once")
	require.NotEqual(t, first, get(other))
	require.EqualValues(t, 2, draws.Load())
}
