package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/server"
	"cardflow/server/api"
)

const token = "test-token-0123456789abcdef"

// newServer runs the real router, API and engine on a fresh SQLite store
// loaded with the example flows and org, and returns the API's base URL.
func newServer(t *testing.T, tokens ...config.Secret) string {
	t.Helper()
	base, _ := newServerEngine(t, tokens...)
	return base
}

// newServerEngine is newServer that also returns the engine, for what the
// API does not start (alerts come from events).
func newServerEngine(t *testing.T, tokens ...config.Secret) (string, *flows.Engine) {
	t.Helper()
	_, engine := exampletest.World(t)
	cfg := config.Default()
	cfg.Server.BodyLimit = 4096
	return serveAPI(t, cfg, server.Deps{Routes: api.New(engine, tokens, nil).Routes}), engine
}

// serveAPI serves deps behind the real router with cfg, every answer
// checked against the OpenAPI document, and returns the API's base URL.
func serveAPI(t *testing.T, cfg *config.Config, deps server.Deps) string {
	t.Helper()
	ts := httptest.NewServer(checked(t, server.New(cfg, deps).Router()))
	t.Cleanup(ts.Close)
	return ts.URL + "/api/v1"
}

// bearer is a client of the API at base that sends secret as its bearer
// token.
func bearer(t *testing.T, base, secret string) *client {
	return &client{t: t, base: base, auth: "Bearer " + secret}
}

type client struct {
	t    *testing.T
	base string
	auth string
}

func newClient(t *testing.T) *client {
	return bearer(t, newServer(t, token), token)
}

// do sends body (a string of JSON, or nil) and decodes the JSON answer.
func (c *client) do(method, path string, body any, header ...string) (int, map[string]any) {
	c.t.Helper()
	var r io.Reader
	if s, ok := body.(string); ok {
		r = strings.NewReader(s)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	require.NoError(c.t, err)
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	var out map[string]any
	require.NoError(c.t, json.Unmarshal(raw, &out), string(raw))
	return resp.StatusCode, out
}

// send sends a request without a body and returns the status and the raw
// answer, for answers that are not a JSON object (204, a document).
func (c *client) send(method, path string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, nil)
	require.NoError(c.t, err)
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, raw
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// order is a valid order_fulfilment start form for amount.
func order(amount string) string {
	return `{"flow_id":"order_fulfilment","applicant":"u_chen","form":{"order_no":"TM-1","platform":"tmall",
		"amount":"` + amount + `","cost":"100.00","items":[{"sku":"SKU-1","qty":1,"price":"` + amount + `"}]}}`
}

// start starts an order and returns the instance id and its open task ids.
func (c *client) start(amount string) (string, []string) {
	c.t.Helper()
	code, body := c.do("POST", "/instances", order(amount))
	require.Equal(c.t, http.StatusCreated, code, body)
	res := body["result"].(map[string]any)
	var opened []string
	for _, id := range res["opened"].([]any) {
		opened = append(opened, id.(string))
	}
	return res["instance_id"].(string), opened
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	tests := []struct {
		name, auth, code string
	}{
		{"no header", "", api.CodeUnauthorized},
		{"wrong token", "Bearer nope-nope-nope-nope-nope", api.CodeInvalidToken},
		{"not bearer", "Basic " + token, api.CodeUnauthorized},
		{"empty bearer", "Bearer ", api.CodeUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			anon := &client{t: t, base: c.base, auth: tt.auth}
			code, body := anon.do("GET", "/tasks?assignee=u_qian", nil)
			require.Equal(t, http.StatusUnauthorized, code)
			require.Equal(t, tt.code, errCode(body))
		})
	}

	off := bearer(t, newServer(t), token)
	code, body := off.do("GET", "/tasks?assignee=u_qian", nil)
	require.Equal(t, http.StatusServiceUnavailable, code, "no configured token: the API is off")
	require.Equal(t, api.CodeAPIDisabled, errCode(body))
}

func TestStartRejectsBadInput(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	tests := []struct {
		name, body string
		status     int
		code       string
		contains   string
	}{
		{"missing fields", `{}`, 400, server.CodeBadRequest, "missing required fields: flow_id, applicant"},
		{"unknown field", `{"flow_id":"order_fulfilment","applicant":"u_chen","amount":1}`, 400, server.CodeBadRequest, `unknown field "amount"`},
		{"not JSON", `{"flow_id":`, 400, server.CodeBadRequest, "invalid JSON body"},
		{"two values", `{} {}`, 400, server.CodeBadRequest, "more than one value"},
		{"unknown flow", `{"flow_id":"nope","applicant":"u_chen","form":{}}`, 404, server.CodeNotFound, "nope"},
		{"unknown applicant", strings.Replace(order("10.00"), "u_chen", "u_nobody", 1), 422, api.CodeUnknownUser, "u_nobody"},
		{"alert flow", `{"flow_id":"oversell_alert","applicant":"u_chen","form":{}}`, 409, api.CodeNotApplicable, "opened by its events"},
		{"too large", `{"flow_id":"` + strings.Repeat("x", 5000) + `"}`, 413, server.CodeBodyTooLarge, "4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := c.do("POST", "/instances", tt.body)
			require.Equal(t, tt.status, code, body)
			require.Equal(t, tt.code, errCode(body))
			require.Contains(t, body["error"].(map[string]any)["message"], tt.contains)
		})
	}

	code, body := c.do("POST", "/instances", `{"flow_id":"order_fulfilment","applicant":"u_chen","form":{"amount":"1.001","platform":"ebay"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Equal(t, api.CodeInvalidForm, errCode(body))
	var fields []string
	for _, f := range body["error"].(map[string]any)["fields"].([]any) {
		fields = append(fields, f.(map[string]any)["field"].(string))
	}
	require.Subset(t, fields, []string{"order_no", "platform", "amount", "items"}, "every bad field is listed")
}

func TestStartIsIdempotent(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	code, first := c.do("POST", "/instances", order("88.00"), api.IdempotencyHeader, "order-TM-1")
	require.Equal(t, http.StatusCreated, code)
	code, again := c.do("POST", "/instances", order("88.00"), api.IdempotencyHeader, "order-TM-1")
	require.Equal(t, http.StatusOK, code, "a replay answers the first instance, not a new one")
	require.Equal(t, first["result"].(map[string]any)["instance_id"], again["result"].(map[string]any)["instance_id"])

	code, body := c.do("GET", "/tasks?assignee=u_qian", nil)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["tasks"], 1, "one instance, so one finance task")
}

// TestWalkOrderFulfilment drives a small order to the end through the API,
// with the mistakes a real client makes on the way.
func TestWalkOrderFulfilment(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	inst, opened := c.start("500.00")
	require.Len(t, opened, 3, "或签 among the three finance users (u_qian, u_sun, u_zhao)")

	code, body := c.do("POST", "/tasks/"+opened[0]+"/decision", `{"actor":"u_zheng","action":"approve"}`)
	require.Equal(t, http.StatusForbidden, code)
	require.Equal(t, api.CodeNotAssignee, errCode(body))

	code, body = c.do("POST", "/tasks/"+opened[0]+"/decision", `{"actor":"u_qian","action":"reject"}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "a rejection needs a reason")
	require.Equal(t, api.CodeCommentNeeded, errCode(body))

	code, body = c.do("POST", "/tasks/"+opened[0]+"/decision", `{"actor":"u_qian","action":"sign"}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, api.CodeUnknownAction, errCode(body))
	require.Contains(t, body["error"].(map[string]any)["message"], "approve, reject, complete, return")

	code, body = c.do("POST", "/tasks/"+opened[0]+"/decision", `{"actor":"u_qian","action":"approve","comment":"ok"}`)
	require.Equal(t, http.StatusOK, code, body)
	packTasks := body["result"].(map[string]any)["opened"].([]any)
	require.NotEmpty(t, packTasks, "500 ≤ 5000: the director is skipped, the pack task opens")

	code, body = c.do("POST", "/tasks/"+opened[1]+"/decision", `{"actor":"u_sun","action":"approve"}`)
	require.Equal(t, http.StatusConflict, code, "the other finance user clicks late: nothing changed, so no 2xx")
	require.Equal(t, api.CodeAlreadyDecided, errCode(body))
	decision := body["error"].(map[string]any)["decision"].(map[string]any)
	require.Equal(t, "approve", decision["outcome"])
	require.Equal(t, "u_qian", decision["by"])

	code, body = c.do("GET", "/instances/"+inst+"?viewer=u_zheng", nil)
	require.Equal(t, http.StatusOK, code, body)
	for _, f := range body["instance"].(map[string]any)["form"].([]any) {
		key := f.(map[string]any)["key"]
		require.NotContains(t, []string{"amount", "cost"}, key, "the pack step must not see hidden fields")
	}

	pack := packTasks[0].(string) // u_feng's; u_zheng holds the other
	code, body = c.do("POST", "/tasks/"+pack+"/decision", `{"actor":"u_feng","action":"complete","result":{"tracking_no":"SF1","carrier":"sf"}}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "approved", body["result"].(map[string]any)["status"])

	code, body = c.do("POST", "/instances/"+inst+"/actions", `{"actor":"u_chen","action":"withdraw"}`)
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, api.CodeFinished, errCode(body))

	code, body = c.do("GET", "/instances/"+inst+"?viewer=u_chen", nil)
	require.Equal(t, http.StatusOK, code)
	got := body["instance"].(map[string]any)
	require.Equal(t, "approved", got["status"])
	require.Empty(t, got["current"])
	var actions []string
	for _, a := range got["audit"].([]any) {
		actions = append(actions, a.(map[string]any)["action"].(string))
	}
	require.Equal(t, "start", actions[0])
	require.Equal(t, "end", actions[len(actions)-1])
}

func TestReadsRejectBadQueries(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	inst, _ := c.start("42.00")
	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"instance without viewer", "/instances/" + inst, 400, server.CodeBadRequest},
		{"instance viewed by an outsider", "/instances/" + inst + "?viewer=u_wei", 403, api.CodeNotParticipant},
		{"unknown instance", "/instances/nope?viewer=u_chen", 404, server.CodeNotFound},
		{"tasks without assignee", "/tasks", 400, server.CodeBadRequest},
		{"tasks with a bad limit", "/tasks?assignee=u_qian&limit=0", 400, server.CodeBadRequest},
		{"tasks with a bad status", "/tasks?assignee=u_qian&status=maybe", 400, server.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := c.do("GET", tt.path, nil)
			require.Equal(t, tt.status, code, body)
			require.Equal(t, tt.code, errCode(body))
		})
	}
}

func TestUrgeIsRateLimited(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	inst, _ := c.start("42.00")
	code, body := c.do("POST", "/instances/"+inst+"/actions", `{"actor":"u_chen","action":"urge"}`)
	require.Equal(t, http.StatusOK, code, body)
	req, err := http.NewRequest("POST", c.base+"/instances/"+inst+"/actions", bytes.NewBufferString(`{"actor":"u_chen","action":"urge"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", c.auth)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
}

// TestAlertActions acknowledges, fails to snooze and resolves an oversell
// alert through the API, as a card's buttons will.
func TestAlertActions(t *testing.T) {
	t.Parallel()
	base, engine := newServerEngine(t, token)
	c := bearer(t, base, token)
	res, err := engine.Alert(t.Context(), flows.AlertEvent{Source: "stock-sync", Event: "stock.oversell",
		Form: map[string]any{"sku": "SKU-7", "warehouse": "gz-1", "platform": "tmall", "oversold_qty": 3}})
	require.NoError(t, err)
	require.Len(t, res, 1)
	code, body := c.do("GET", "/tasks?assignee=u_feng", nil)
	require.Equal(t, http.StatusOK, code)
	tasks := body["tasks"].([]any)
	require.Len(t, tasks, 1, "the warehouse on call gets an alert task")
	task, holder := tasks[0].(map[string]any)["id"].(string), "u_feng"
	require.Equal(t, "alert", tasks[0].(map[string]any)["kind"])

	code, body = c.do("POST", "/tasks/"+task+"/decision", `{"actor":"`+holder+`","action":"acknowledge"}`)
	require.Equal(t, http.StatusOK, code, body)
	code, body = c.do("POST", "/tasks/"+task+"/decision", `{"actor":"`+holder+`","action":"snooze","until":"2099-01-01T00:00:00Z"}`)
	require.Equal(t, http.StatusConflict, code, "an acknowledged alert cannot be snoozed")
	require.Equal(t, api.CodeNotApplicable, errCode(body))
	code, body = c.do("POST", "/tasks/"+task+"/decision", `{"actor":"`+holder+`","action":"snooze","until":"tomorrow"}`)
	require.Equal(t, http.StatusBadRequest, code, "until must be RFC 3339")
	require.Contains(t, body["error"].(map[string]any)["message"], "invalid JSON body")
	code, body = c.do("POST", "/tasks/"+task+"/decision", `{"actor":"`+holder+`","action":"resolve","comment":"restocked"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.NotEmpty(t, body["result"].(map[string]any)["opened"], "resolved: the purchasing task opens")
}
