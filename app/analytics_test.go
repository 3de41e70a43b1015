package app_test

import (
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/config"
)

// TestRunExportsFlowAnalytics starts an order through the API of the
// embedded default and finds it in the flow figures on /metrics and on
// /api/v1/analytics.
func TestRunExportsFlowAnalytics(t *testing.T) {
	t.Parallel()
	const tok = "analytics-token-0123456789"
	cfg := config.Default()
	cfg.Flows.Dir = "../configs/flows"
	cfg.Flows.OrgFile = "../configs/org.example.yaml"
	cfg.Store.SQLitePath = filepath.Join(t.TempDir(), "cardflow.db")
	cfg.Server.APITokens = []config.Secret{tok}
	r := start(t, cfg, slog.New(slog.DiscardHandler))

	call := func(method, path, body string) (int, string) {
		req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(raw)
	}
	code, body := call("POST", "/api/v1/instances", `{"flow_id":"order_fulfilment","applicant":"u_chen","form":{"order_no":"TM-1",
		"platform":"tmall","amount":"500.00","cost":"100.00","items":[{"sku":"SKU-1","qty":1,"price":"500.00"}]}}`)
	require.Equal(t, http.StatusCreated, code, body)

	code, body = call("GET", "/metrics", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `cardflow_flow_instances{flow="order_fulfilment",outcome="running"} 1`)
	require.Contains(t, body, `cardflow_flow_step_open_tasks{flow="order_fulfilment",step="finance_confirm"} 3`)

	code, body = call("GET", "/api/v1/analytics?flow=order_fulfilment", "")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"started":1`)
	r.shutdown(t)
}
