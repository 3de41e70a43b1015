package api_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/server"
	"cardflow/server/api"
)

func TestFlowsAndTheirVersions(t *testing.T) {
	t.Parallel()
	c, _, engine := newAdminClients(t)
	latest, err := engine.Flow(t.Context(), "order_fulfilment", 0)
	require.NoError(t, err)
	changed, err := flows.ParseFlow("order_fulfilment.yaml", bytes.Replace(latest.Source, []byte("sla: 2h"), []byte("sla: 3h"), 1))
	require.NoError(t, err)
	_, err = engine.Register(t.Context(), changed)
	require.NoError(t, err)

	code, body := c.do("GET", "/flows", nil)
	require.Equal(t, http.StatusOK, code, body)
	byID := map[string]map[string]any{}
	for _, f := range body["flows"].([]any) {
		byID[f.(map[string]any)["id"].(string)] = f.(map[string]any)
	}
	require.Contains(t, byID, "purchase_request")
	order := byID["order_fulfilment"]
	require.Equal(t, "订单履约", order["name"])
	require.Equal(t, "order.created", order["trigger"])
	require.InDelta(t, 2, order["latest_version"], 0)

	code, body = c.do("GET", "/flows/order_fulfilment/versions", nil)
	require.Equal(t, http.StatusOK, code, body)
	var versions []float64
	for _, v := range body["versions"].([]any) {
		versions = append(versions, v.(map[string]any)["version"].(float64))
	}
	require.Equal(t, []float64{2, 1}, versions, "newest first")

	code, body = c.do("GET", "/flows/order_fulfilment/versions/1", nil)
	require.Equal(t, http.StatusOK, code, body)
	one := body["flow"].(map[string]any)
	require.Equal(t, string(latest.Source), one["source"])
	require.Equal(t, latest.Mermaid(), one["mermaid"])
	require.Contains(t, one["mermaid"], "flowchart TD")
	code, body = c.do("GET", "/flows/order_fulfilment/versions/2", nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body["flow"].(map[string]any)["source"], "sla: 3h")

	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"unknown flow's versions", "/flows/nope/versions", 404, server.CodeNotFound},
		{"unknown version", "/flows/order_fulfilment/versions/3", 404, server.CodeNotFound},
		{"unknown flow's version", "/flows/nope/versions/1", 404, server.CodeNotFound},
		{"version zero", "/flows/order_fulfilment/versions/0", 400, api.CodeInvalidInput},
		{"version not a number", "/flows/order_fulfilment/versions/latest", 400, api.CodeInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := c.do("GET", tt.path, nil)
			require.Equal(t, tt.status, code, body)
			require.Equal(t, tt.code, errCode(body))
		})
	}
}

func TestOrgDirectory(t *testing.T) {
	t.Parallel()
	user, admin, _ := newAdminClients(t)

	code, body := user.do("GET", "/org/users", nil)
	require.Equal(t, http.StatusOK, code, body)
	users := body["users"].([]any)
	require.Len(t, users, 13)
	var chen map[string]any
	for _, u := range users {
		require.NotContains(t, u, "platform_ids", "platform ids only for admin tokens")
		if u.(map[string]any)["id"] == "u_chen" {
			chen = u.(map[string]any)
		}
	}
	require.Equal(t, "陈客服主管", chen["name"])
	require.Equal(t, "cs", chen["department"])
	require.Equal(t, "客服部", chen["department_name"])
	require.Equal(t, []any{"cs"}, chen["roles"])
	require.NotEmpty(t, chen["locale"])
	require.NotEmpty(t, chen["time_zone"])

	code, body = admin.do("GET", "/org/users/u_chen", nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "ChenKefu", body["user"].(map[string]any)["platform_ids"].(map[string]any)["wecom"])
	code, body = admin.do("GET", "/org/users", nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body["users"].([]any)[0], "platform_ids")

	code, body = user.do("GET", "/org/users/u_chen", nil)
	require.Equal(t, http.StatusOK, code, body)
	require.NotContains(t, body["user"], "platform_ids")
	code, body = user.do("GET", "/org/users/u_nobody", nil)
	require.Equal(t, http.StatusNotFound, code, body)
	require.Equal(t, server.CodeNotFound, errCode(body))
}
