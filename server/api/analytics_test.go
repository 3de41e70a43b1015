package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/exampletest"
	"cardflow/server"
	"cardflow/server/api"
)

// TestAnalytics starts two orders on a fake clock, approves one after 90
// minutes and reads the figures of the period back.
func TestAnalytics(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	_, engine := exampletest.World(t, flows.WithClock(clock))
	base := serveAPI(t, config.Default(), server.Deps{Routes: api.New(engine, []config.Secret{token}, nil).Routes})
	c := bearer(t, base, token)

	_, opened := c.start("500.00")
	c.start("600.00")
	advance(90 * time.Minute)
	code, body := c.do("POST", "/tasks/"+opened[0]+"/decision", `{"actor":"u_qian","action":"approve"}`)
	require.Equal(t, http.StatusOK, code, body)
	advance(time.Hour) // the second order's 2h SLA has passed

	q := func(v url.Values) string { return "/analytics?" + v.Encode() }
	code, body = c.do("GET", q(url.Values{"from": {t0.Format(time.RFC3339)}, "flow": {"order_fulfilment"}}), nil)
	require.Equal(t, http.StatusOK, code, body)
	a := body["analytics"].(map[string]any)
	require.Equal(t, "2026-11-30T01:00:00Z", a["from"])
	require.Equal(t, "2026-11-30T03:30:00Z", a["to"])
	flowsList := a["flows"].([]any)
	require.Len(t, flowsList, 1)
	f := flowsList[0].(map[string]any)
	require.Equal(t, "order_fulfilment", f["flow_id"])
	require.Equal(t, map[string]any{"started": 2.0, "finished": 0.0, "rejected": 0.0, "withdrawn": 0.0,
		"cancelled": 0.0, "running": 2.0, "returns": 0.0}, f["instances"])
	step := f["steps"].([]any)[0].(map[string]any)
	require.Equal(t, "finance_confirm", step["step_id"])
	require.Equal(t, "财务确认", step["name"])
	// u_qian's approval in 90 minutes; the second order's three 或签 tasks
	// are open past their SLA; the first order's other two were closed.
	require.Equal(t, map[string]any{"decided": 1.0, "approved": 1.0, "rejected": 0.0, "returned": 0.0,
		"median_seconds": 5400.0, "p90_seconds": 5400.0, "due": 4.0, "overdue": 3.0, "overdue_share": 0.75,
		"open": 3.0, "open_overdue": 3.0}, step["decisions"])
	assignees := step["assignees"].([]any)
	require.Equal(t, "u_qian", assignees[0].(map[string]any)["user_id"])
	require.Equal(t, "钱多多", assignees[0].(map[string]any)["name"])

	tests := []struct {
		name   string
		query  url.Values
		status int
		want   string // in the error message
	}{
		{name: "a bad time", query: url.Values{"from": {"yesterday"}}, status: 400, want: "RFC 3339"},
		{name: "to before from", query: url.Values{"from": {t0.Format(time.RFC3339)}, "to": {t0.Add(-time.Hour).Format(time.RFC3339)}},
			status: 400, want: "before from"},
		{name: "an empty period", query: url.Values{"from": {t0.Format(time.RFC3339)}, "to": {t0.Format(time.RFC3339)}},
			status: 400, want: "must be before its end"},
		{name: "a flow id too long", query: url.Values{"flow": {strings.Repeat("x", 101)}}, status: 400, want: "longer than 100"},
		{name: "an unknown flow has no figures", query: url.Values{"flow": {"nope"}}, status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &client{t: t, base: c.base, auth: c.auth}
			code, body := c.do("GET", q(tc.query), nil)
			require.Equal(t, tc.status, code, body)
			if tc.status != http.StatusOK {
				require.Equal(t, api.CodeInvalidInput, errCode(body))
				require.Contains(t, body["error"].(map[string]any)["message"], tc.want)
				return
			}
			require.Empty(t, body["analytics"].(map[string]any)["flows"])
		})
	}
}

func TestAnalyticsNeedsOnlyTheReadScope(t *testing.T) {
	t.Parallel()
	w := newAuthWorld(t)
	read := &client{t: t, base: w.url, auth: "Bearer " + w.plain["read"]}
	code, body := read.do("GET", "/analytics", nil)
	require.Equal(t, http.StatusOK, code, body)
	anon := &client{t: t, base: w.url}
	code, _ = anon.do("GET", "/analytics", nil)
	require.Equal(t, http.StatusUnauthorized, code)
}

// TestAnalyticsUnsupported: a store that cannot compute analytics answers
// 501 not_supported.
func TestAnalyticsUnsupported(t *testing.T) {
	t.Parallel()
	store := exampletest.Store(t, exampletest.Org(t))
	engine := exampletest.Engine(t, struct{ flows.Store }{store}) // hides flows.AnalyticsReader
	base := serveAPI(t, config.Default(), server.Deps{Routes: api.New(engine, []config.Secret{token}, nil).Routes})
	c := bearer(t, base, token)
	code, body := c.do("GET", "/analytics", nil)
	require.Equal(t, http.StatusNotImplemented, code, body)
	require.Equal(t, api.CodeNotSupported, errCode(body))
}
