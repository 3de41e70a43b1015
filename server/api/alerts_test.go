package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/server/api"
)

// TestListAlerts lists an oversell alert, acknowledges it with the task
// its row names, and follows it through the state filter to resolved.
func TestListAlerts(t *testing.T) {
	t.Parallel()
	base, engine := newServerEngine(t, token)
	c := bearer(t, base, token)
	c.start("42.00") // an order: no alert, never listed
	for _, sku := range []string{"SKU-1", "SKU-2"} {
		_, err := engine.Alert(t.Context(), flows.AlertEvent{Source: "stock-sync", Event: "stock.oversell",
			Form: map[string]any{"sku": sku, "warehouse": "wh-" + sku, "platform": "jd", "oversold_qty": 2}})
		require.NoError(t, err)
	}

	p := c.list("/alerts?viewer=u_feng", "alerts")
	require.Len(t, p.ids, 2)
	row := p.rows[1] // newest first: SKU-1 is the older
	require.Equal(t, "oversell_alert", row["flow_id"])
	require.Equal(t, "open", row["state"])
	require.Equal(t, "page", row["step"])
	require.Equal(t, map[string]any{"warehouse": "wh-SKU-1"}, row["group"])
	require.EqualValues(t, 1, row["items"])
	require.EqualValues(t, 1, row["firing"])
	require.Equal(t, []any{}, row["paged"], "group_wait has not passed: nobody was paged yet")
	task := row["task_id"].(string)
	require.NotEmpty(t, task, "u_feng is on call: their task is named to act on")

	code, body := c.do("POST", "/tasks/"+task+"/decision", `{"actor":"u_feng","action":"acknowledge"}`)
	require.Equal(t, http.StatusOK, code, body)
	p = c.list("/alerts?viewer=u_feng&state=acknowledged", "alerts")
	require.Equal(t, []string{row["id"].(string)}, p.ids)
	require.Equal(t, "u_feng", p.rows[0]["acknowledged_by"])

	code, body = c.do("POST", "/tasks/"+task+"/decision", `{"actor":"u_feng","action":"resolve"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, c.list("/alerts?viewer=u_feng", "alerts").ids, 1, "a resolved alert leaves the default list")
	p = c.list("/alerts?viewer=u_shen&state=resolved&flow=oversell_alert", "alerts")
	require.Equal(t, []string{row["id"].(string)}, p.ids)
	require.Equal(t, "running", p.rows[0]["status"], "the instance goes on to purchasing")
	require.NotContains(t, p.rows[0], "task_id", "a resolved alert has no task to act on")

	p = c.list("/alerts?viewer=u_shen&limit=1", "alerts")
	require.Len(t, p.ids, 1)
	require.NotEmpty(t, p.next, "a resolved alert's instance runs on: the list may go on")
	p = c.list("/alerts?viewer=u_shen&limit=1&cursor="+p.next, "alerts")
	require.Empty(t, p.ids)
	require.Empty(t, p.next)

	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"without viewer", "/alerts", 400, api.CodeInvalidInput},
		{"a bad state", "/alerts?viewer=u_feng&state=closed", 400, api.CodeInvalidInput},
		{"a bad time", "/alerts?viewer=u_feng&from=yesterday", 400, api.CodeInvalidInput},
		{"an unknown viewer", "/alerts?viewer=u_nobody", 422, api.CodeUnknownUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := c.do("GET", tt.path, nil)
			require.Equal(t, tt.status, code, body)
			require.Equal(t, tt.code, errCode(body))
		})
	}
}
