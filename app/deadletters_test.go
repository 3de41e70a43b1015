package app_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/config"
)

// TestRunServesDeadLetters: the API that Run builds has the queue, so an
// admin token lists the dead letters of the notify and digest topics.
func TestRunServesDeadLetters(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Flows.Dir = "../configs/flows"
	cfg.Store.SQLitePath = filepath.Join(t.TempDir(), "cardflow.db")
	const admin = "admin-token-0123456789abcdef"
	cfg.Server.AdminTokens = []config.Secret{admin}
	r := start(t, cfg, slog.New(slog.DiscardHandler))

	for _, topic := range []string{"notify", "kpi.digest"} {
		req, err := http.NewRequest(http.MethodGet, r.base+"/api/v1/deadletters?topic="+topic, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Equal(t, []any{}, body["deadletters"])
	}
	r.shutdown(t)
}
