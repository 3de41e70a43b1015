package app_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/app"
	"cardflow/config"
)

// TestSimulatorNeedsAnAdminTokenOutsideTheDemo: sim.enabled serves the
// simulator; without cardflow demo's OpenSimulator it answers only to an
// admin token given as the HTTP Basic password.
func TestSimulatorNeedsAnAdminTokenOutsideTheDemo(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Flows.Dir = "../configs/flows"
	cfg.Flows.OrgFile = "../configs/org.example.yaml"
	cfg.Store.SQLitePath = filepath.Join(t.TempDir(), "cardflow.db")
	cfg.Sim.Enabled = true
	cfg.Server.AdminTokens = []config.Secret{"admin-token-0123456789"}
	r := startWith(t, cfg, app.RunOptions{})

	get := func(user, pass string) int {
		req, err := http.NewRequest("GET", r.base+"/sim/api/users", nil)
		require.NoError(t, err)
		if pass != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusUnauthorized, get("", ""))
	require.Equal(t, http.StatusUnauthorized, get("admin", "wrong-token-0123456789"))
	require.Equal(t, http.StatusOK, get("admin", "admin-token-0123456789"))
	r.shutdown(t)

	cfg.Sim.Enabled = false
	cfg.Store.SQLitePath = filepath.Join(t.TempDir(), "off.db")
	r = startWith(t, cfg, app.RunOptions{})
	require.Equal(t, http.StatusNotFound, get("admin", "admin-token-0123456789"), "off unless configured")
	r.shutdown(t)
}
