package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/app"
	"cardflow/config"
)

// payloads is a slog handler that passes on the payload of every
// notification the notify consumer logged.
type payloads chan string

func (p payloads) Enabled(context.Context, slog.Level) bool { return true }
func (p payloads) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p payloads) WithGroup(string) slog.Handler            { return p }
func (p payloads) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "notification (no chat platform configured)" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "payload" {
			p <- a.Value.String()
		}
		return true
	})
	return nil
}

// TestRunSLAScale: with the SLA scale a demo passes, order_fulfilment's
// 2h finance SLA lasts 1s, and its reminder fires while the test watches.
func TestRunSLAScale(t *testing.T) {
	t.Parallel()
	const token = "sla-test-token-0123456789"
	cfg := config.Default()
	cfg.Flows.Dir = "../configs/flows"
	cfg.Flows.OrgFile = "../configs/org.example.yaml"
	cfg.Store.SQLitePath = filepath.Join(t.TempDir(), "cardflow.db")
	cfg.Server.APITokens = []config.Secret{token}
	seen := make(payloads, 64)
	r := startWith(t, cfg, app.RunOptions{Logger: slog.New(seen), SLAScale: 7200})

	body := `{"flow_id":"order_fulfilment","applicant":"u_chen","form":{"order_no":"TM-SLA-1","platform":"tmall",
		"amount":"88.00","items":[{"sku":"SKU-1","qty":1,"price":"88.00"}]}}`
	req, err := http.NewRequestWithContext(t.Context(), "POST", r.base+"/api/v1/instances", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	var started struct {
		Instance struct {
			ID    string `json:"id"`
			Tasks []struct {
				StepID    string    `json:"step_id"`
				CreatedAt time.Time `json:"created_at"`
				DueAt     time.Time `json:"due_at"`
			} `json:"tasks"`
		} `json:"instance"`
	}
	require.NoError(t, json.NewDecoder(bytes.NewReader(raw)).Decode(&started))
	require.NotEmpty(t, started.Instance.Tasks)
	for _, task := range started.Instance.Tasks {
		require.Equal(t, "finance_confirm", task.StepID)
		require.Equal(t, time.Second, task.DueAt.Sub(task.CreatedAt), "2h / 7200")
	}

	timeout := time.After(30 * time.Second)
	for {
		select {
		case p := <-seen:
			if strings.Contains(p, `"kind":"reminder"`) && strings.Contains(p, started.Instance.ID) {
				r.shutdown(t)
				return
			}
		case <-timeout:
			t.Fatal("the SLA reminder never fired")
		}
	}
}

func TestRunRefusesBadSLAScale(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Flows.Dir = "../configs/flows"
	cfg.Store.SQLitePath = filepath.Join(t.TempDir(), "cardflow.db")
	err := app.Run(t.Context(), cfg, app.RunOptions{SLAScale: 0.5})
	require.EqualError(t, err, "app: SLA scale must be a finite number of at least 1, got 0.5")
}
