package api_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/server/api"
)

// TestOpenAPIAnswers validates real answers, successes and errors,
// against the schemas the document gives their route and status: the
// server is wrapped in checked, which validates each answer; check adds
// that every route asked here is documented, so none goes unchecked.
func TestOpenAPIAnswers(t *testing.T) {
	t.Parallel()
	router, err := answerRouter()
	require.NoError(t, err)
	base, engine := newServerEngine(t, token)
	_, err = engine.Alert(t.Context(), flows.AlertEvent{Source: "stock-sync", Event: "stock.oversell",
		Form: map[string]any{"sku": "SKU-9", "warehouse": "gz-1", "platform": "jd", "oversold_qty": 1}})
	require.NoError(t, err)

	// check sends a request, checks its route is documented and its
	// status, and returns its body.
	check := func(t *testing.T, method, path, body string, status int) []byte {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, base+path, r)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, status, resp.StatusCode, string(raw))

		// The document's paths carry /api/v1 and its server is "/".
		req.URL.Scheme, req.URL.Host, req.Host = "", "", ""
		_, _, err = router.FindRoute(req)
		require.NoError(t, err, "%s %s is not documented", method, path)
		return raw
	}

	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{name: "start", method: "POST", path: "/instances", body: order("42.00"), status: http.StatusCreated},
		{name: "a page of instances", method: "GET", path: "/instances?viewer=u_chen&limit=1", status: http.StatusOK},
		{name: "a page of tasks", method: "GET", path: "/tasks?assignee=u_qian", status: http.StatusOK},
		{name: "a page of alerts", method: "GET", path: "/alerts?viewer=u_feng", status: http.StatusOK},
		{name: "a flow version", method: "GET", path: "/flows/order_fulfilment/versions/1", status: http.StatusOK},
		{name: "a forecast", method: "POST", path: "/flows/order_fulfilment/forecast",
			body: strings.Replace(order("42.00"), `"flow_id":"order_fulfilment",`, "", 1), status: http.StatusOK},
		{name: "a user", method: "GET", path: "/org/users/u_chen", status: http.StatusOK},
		{name: "not found", method: "GET", path: "/instances/nope?viewer=u_chen", status: http.StatusNotFound},
		{name: "an invalid form", method: "POST", path: "/instances",
			body: `{"flow_id":"order_fulfilment","applicant":"u_chen","form":{"amount":"x"}}`, status: http.StatusUnprocessableEntity},
		{name: "a bad parameter", method: "GET", path: "/alerts?viewer=u_feng&state=closed", status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, tt.method, tt.path, tt.body, tt.status)
		})
	}

	// An action, and the same task decided again: 409 with the decision.
	raw := check(t, "POST", "/instances", order("43.00"), http.StatusCreated)
	task := between(t, string(raw), `"opened":["`, `"`)
	check(t, "POST", "/tasks/"+task+"/decision", `{"actor":"u_qian","action":"approve"}`, http.StatusOK)
	check(t, "POST", "/tasks/"+task+"/decision", `{"actor":"u_qian","action":"approve"}`, http.StatusConflict)
}

// between returns the text of s between before and after.
func between(t *testing.T, s, before, after string) string {
	t.Helper()
	_, rest, ok := strings.Cut(s, before)
	require.True(t, ok, "%q not in %s", before, s)
	out, _, ok := strings.Cut(rest, after)
	require.True(t, ok)
	return out
}

// answerRouter finds a request's documented route; loaded once.
var answerRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		return nil, err
	}
	return legacy.NewRouter(doc)
})

// checked serves h and validates every answer of a documented route
// against the document, so every test of this package that talks HTTP
// also checks that the document tells the truth about what it saw. A
// request for no route or a method a path lacks is the router's business
// (404, 405) and not checked.
func checked(t *testing.T, h http.Handler) http.Handler {
	router, err := answerRouter()
	require.NoError(t, err)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())

		req := r.Clone(r.Context())
		req.URL.Scheme, req.URL.Host, req.Host = "", "", ""
		route, params, err := router.FindRoute(req)
		if err != nil {
			return
		}
		err = openapi3filter.ValidateResponse(r.Context(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 rec.Code,
			Header:                 rec.Header(),
			Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		})
		if err != nil {
			t.Errorf("%s %s answered %d, not as documented: %v\n%s", r.Method, r.URL.Path, rec.Code, err, rec.Body.Bytes())
		}
	})
}
