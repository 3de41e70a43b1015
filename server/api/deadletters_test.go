package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/config"
	"cardflow/internal/exampletest"
	"cardflow/queue"
	"cardflow/server"
	"cardflow/server/api"
)

// deadLetter publishes a message with id on topic and has a consumer fail
// it for good, so it lands in q's dead letters.
func deadLetter(t *testing.T, q queue.Queue, topic, id string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	failed := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(ctx, topic, func(context.Context, queue.Message) error {
			failed <- struct{}{}
			return queue.Permanent(errors.New("飞书: user not found"))
		}, queue.ConsumeOptions{Concurrency: 1})
	}()
	require.NoError(t, q.Publish(t.Context(), topic, queue.Message{ID: id, Key: "inst-1", Payload: []byte(`{"kind":"task_assigned","n":1}`)}))
	<-failed
	cancel()
	require.NoError(t, <-done, "the consumer stops once its handler is done, dead letter recorded")
}

func TestDeadLetters(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	q := queue.NewMemory(queue.MemoryOptions{})
	t.Cleanup(func() { require.NoError(t, q.Close()) })
	base := serveAPI(t, config.Default(), server.Deps{Routes: api.New(engine, []config.Secret{token}, nil).
		WithAdminTokens([]config.Secret{adminToken}).WithQueue(q, "notify", "kpi.digest").Routes})
	user, admin := bearer(t, base, token), bearer(t, base, adminToken)

	deadLetter(t, q, "notify", "n-1")
	deadLetter(t, q, "kpi.digest", "d-1")
	deadLetter(t, q, "notify", "n-2")

	code, body := user.do("GET", "/deadletters", nil)
	require.Equal(t, http.StatusForbidden, code, "dead letters are for admin tokens")
	require.Equal(t, api.CodeNotAdminToken, errCode(body))

	list := func(query string) []string {
		t.Helper()
		code, body := admin.do("GET", "/deadletters"+query, nil)
		require.Equal(t, http.StatusOK, code, body)
		ids := []string{}
		for _, d := range body["deadletters"].([]any) {
			dl := d.(map[string]any)
			ids = append(ids, dl["id"].(string))
			require.Contains(t, dl["error"], "user not found")
			require.InDelta(t, 1, dl["attempts"], 0)
			require.NotEmpty(t, dl["failed_at"])
		}
		return ids
	}
	require.Equal(t, []string{"n-2", "d-1", "n-1"}, list(""), "every topic, newest first")
	require.Equal(t, []string{"n-2", "n-1"}, list("?topic=notify"))
	require.Equal(t, []string{"n-2"}, list("?topic=notify&limit=1"))
	require.Equal(t, []string{"d-1"}, list("?topic=kpi.digest"))

	code, body = admin.do("POST", "/deadletters/notify/n-1/replay", nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, []string{"n-2"}, list("?topic=notify"), "a replayed message is no dead letter")
	depth, err := q.Depth(t.Context(), "notify")
	require.NoError(t, err)
	require.EqualValues(t, 1, depth, "it waits on its topic again")

	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"replayed twice", "POST", "/deadletters/notify/n-1/replay", 404, server.CodeNotFound},
		{"unknown id", "POST", "/deadletters/notify/nope/replay", 404, server.CodeNotFound},
		{"unknown topic", "POST", "/deadletters/orders/n-2/replay", 404, server.CodeNotFound},
		{"listing an unknown topic", "GET", "/deadletters?topic=orders", 400, api.CodeInvalidInput},
		{"a bad limit", "GET", "/deadletters?limit=500", 400, api.CodeInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := admin.do(tt.method, tt.path, nil)
			require.Equal(t, tt.status, code, body)
			require.Equal(t, tt.code, errCode(body))
		})
	}
	code, body = user.do("POST", "/deadletters/notify/n-2/replay", nil)
	require.Equal(t, http.StatusForbidden, code, "replay is for admin tokens")
	require.Equal(t, api.CodeNotAdminToken, errCode(body))
}

// TestDeadLetterInspectDiscard shows one dead letter in full and deletes
// it for good.
func TestDeadLetterInspectDiscard(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	q := queue.NewMemory(queue.MemoryOptions{})
	t.Cleanup(func() { require.NoError(t, q.Close()) })
	base := serveAPI(t, config.Default(), server.Deps{Routes: api.New(engine, []config.Secret{token}, nil).
		WithAdminTokens([]config.Secret{adminToken}).WithQueue(q, "notify").Routes})
	user, admin := bearer(t, base, token), bearer(t, base, adminToken)
	deadLetter(t, q, "notify", "n-1")
	deadLetter(t, q, "notify", "n-2")

	code, body := admin.do("GET", "/deadletters/notify/n-1", nil)
	require.Equal(t, http.StatusOK, code, body)
	dl := body["deadletter"].(map[string]any)
	require.Equal(t, "n-1", dl["id"])
	require.Equal(t, "notify", dl["topic"])
	require.Equal(t, "inst-1", dl["key"])
	require.Equal(t, "飞书: user not found", dl["error"])
	require.Equal(t, map[string]any{"kind": "task_assigned", "n": 1.0}, dl["payload"], "a JSON payload is shown as JSON")

	code, _ = admin.send("DELETE", "/deadletters/notify/n-1")
	require.Equal(t, http.StatusNoContent, code)
	dls, err := q.DeadLetters(t.Context(), "notify", 0)
	require.NoError(t, err)
	require.Len(t, dls, 1)
	require.Equal(t, "n-2", dls[0].Message.ID, "the other stays")
	depth, err := q.Depth(t.Context(), "notify")
	require.NoError(t, err)
	require.Zero(t, depth, "a discarded letter is not replayed")

	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"discarded twice", "DELETE", "/deadletters/notify/n-1", 404, server.CodeNotFound},
		{"inspect a discarded one", "GET", "/deadletters/notify/n-1", 404, server.CodeNotFound},
		{"discard of an unknown topic", "DELETE", "/deadletters/orders/n-2", 404, server.CodeNotFound},
		{"inspect of an unknown topic", "GET", "/deadletters/orders/n-2", 404, server.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := admin.do(tt.method, tt.path, nil)
			require.Equal(t, tt.status, code, body)
			require.Equal(t, tt.code, errCode(body))
		})
	}
	for _, method := range []string{"GET", "DELETE"} {
		code, body := user.do(method, "/deadletters/notify/n-2", nil)
		require.Equal(t, http.StatusForbidden, code, "%s is for admin tokens", method)
		require.Equal(t, api.CodeNotAdminToken, errCode(body))
	}
}

func TestDeadLettersWithoutAQueue(t *testing.T) {
	t.Parallel()
	_, engine := exampletest.World(t)
	base := serveAPI(t, config.Default(), server.Deps{Routes: api.New(engine, nil, nil).
		WithAdminTokens([]config.Secret{adminToken}).Routes})
	admin := bearer(t, base, adminToken)
	code, body := admin.do("GET", "/deadletters", nil)
	require.Equal(t, http.StatusNotImplemented, code, body)
	require.Equal(t, api.CodeNotSupported, errCode(body))
}
