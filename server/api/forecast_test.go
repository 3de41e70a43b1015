package api_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/server/api"
)

// forecastBody is order's form as a forecast request (no flow_id: the
// flow is in the path).
func forecastBody(amount string) string {
	return strings.Replace(order(amount), `"flow_id":"order_fulfilment",`, "", 1)
}

func TestForecast(t *testing.T) {
	t.Parallel()
	w := newAuthWorld(t)
	read := &client{t: t, base: w.url, auth: "Bearer " + w.plain["read"]}
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		code   string
		steps  []string // id:status of each step
	}{
		{name: "500 needs finance only", path: "/flows/order_fulfilment/forecast", body: forecastBody("500.00"), status: 200,
			steps: []string{"finance_confirm:ask", "director:not_taken", "pack:ask"}},
		{name: "6800 needs the sales director too", path: "/flows/order_fulfilment/forecast", body: forecastBody("6800.00"), status: 200,
			steps: []string{"finance_confirm:ask", "director:ask", "pack:ask"}},
		{name: "an invalid form is refused as a start refuses it", path: "/flows/order_fulfilment/forecast",
			body: `{"applicant":"u_chen","form":{"order_no":"bad no"}}`, status: 422, code: api.CodeInvalidForm},
		{name: "an unknown applicant", path: "/flows/order_fulfilment/forecast",
			body: strings.Replace(forecastBody("500.00"), "u_chen", "u_nobody", 1), status: 422, code: api.CodeUnknownUser},
		{name: "an applicant is required", path: "/flows/order_fulfilment/forecast", body: `{"form":{}}`, status: 400, code: "bad_request"},
		{name: "an unknown flow", path: "/flows/nope/forecast", body: forecastBody("500.00"), status: 404, code: "not_found"},
		{name: "unknown fields are refused", path: "/flows/order_fulfilment/forecast", body: `{"applicant":"u_chen","flow":"x"}`, status: 400, code: "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read.t = t
			status, body := read.do("POST", tt.path, tt.body)
			require.Equal(t, tt.status, status, "%v", body)
			require.Equal(t, tt.code, errCode(body))
			if tt.steps == nil {
				return
			}
			fc := body["forecast"].(map[string]any)
			require.Equal(t, "order_fulfilment", fc["flow_id"])
			require.Equal(t, true, fc["complete"])
			var got []string
			for _, s := range fc["steps"].([]any) {
				m := s.(map[string]any)
				got = append(got, m["id"].(string)+":"+m["status"].(string))
			}
			require.Equal(t, tt.steps, got)
			first := fc["steps"].([]any)[0].(map[string]any)
			require.Equal(t, map[string]any{"id": "u_qian", "name": "钱多多"}, first["people"].([]any)[0])
		})
	}

	// A read token may forecast but still not start: the exception is the
	// forecast route only.
	status, body := read.do("POST", "/instances", order("500.00"))
	require.Equal(t, 403, status)
	require.Equal(t, api.CodeInsufficientScope, errCode(body))
	// Nothing was started by the forecasts: the applicant has no instance.
	status, body = read.do("GET", "/tasks?assignee=u_qian", nil)
	require.Equal(t, 200, status)
	require.Empty(t, body["tasks"])
}
