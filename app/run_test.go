package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/app"
	"cardflow/config"
	"cardflow/flows"
	"cardflow/internal/testenv"
	"cardflow/queue"
	"cardflow/storage/postgres"
	"cardflow/storage/postgres/pgtest"
	"cardflow/storage/storetest"
)

// delivered is a slog handler that reports the ids of the notifications the
// server's notify consumer logged: the signal that a message went all the
// way from a committed outbox row through the relay and the queue.
type delivered chan string

func (d delivered) Enabled(context.Context, slog.Level) bool { return true }
func (d delivered) WithAttrs([]slog.Attr) slog.Handler       { return d }
func (d delivered) WithGroup(string) slog.Handler            { return d }
func (d delivered) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "notification (no chat platform configured)" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "id" {
			d <- a.Value.String()
		}
		return true
	})
	return nil
}

type running struct {
	base  string
	ready app.Ready
	done  chan error
	stop  context.CancelFunc
}

// start runs server.Run on a random port and waits until it is ready.
func start(t *testing.T, cfg *config.Config, log *slog.Logger) *running {
	t.Helper()
	return startWith(t, cfg, app.RunOptions{Logger: log})
}

// startWith is start with more options; their Listener and OnReady are
// the test's.
func startWith(t testing.TB, cfg *config.Config, opts app.RunOptions) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan struct{})
	r := &running{base: "http://" + ln.Addr().String(), done: make(chan error, 1), stop: cancel}
	go func() {
		opts.Listener, opts.OnReady = ln, func(rd app.Ready) { r.ready = rd; close(ready) }
		r.done <- app.Run(ctx, cfg, opts)
	}()
	select {
	case <-ready:
	case err := <-r.done:
		t.Fatalf("server.Run failed to start: %v", err)
	}
	t.Cleanup(cancel)
	return r
}

func (r *running) get(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(r.base + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(body, &v), string(body))
	return resp.StatusCode, v
}

func (r *running) shutdown(t *testing.T) {
	t.Helper()
	r.stop()
	select {
	case err := <-r.done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("server.Run did not return after cancel")
	}
}

// outboxChange commits one notification to the outbox, as the engine does.
func outboxChange(id string) flows.Change {
	inst := storetest.NewInstance("inst-" + id)
	c := storetest.StartChange(inst)
	m := storetest.NewOutbox(inst.ID, id)
	m.Topic = flows.NotifyTopic
	c.Outbox = []flows.OutboxMessage{m}
	return c
}

func await(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("notification %s was never delivered", want)
		}
	}
}

func TestRunEmbeddedDefault(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Flows.Dir = "../configs/flows"
	cfg.Store.SQLitePath = filepath.Join(t.TempDir(), "cardflow.db")
	seen := make(delivered, 16)
	r := start(t, cfg, slog.New(seen))

	code, body := r.get(t, "/readyz")
	require.Equal(t, http.StatusOK, code, body)
	r.shutdown(t)
}

// TestRunSurvivesRedisOutage: with PostgreSQL and Redis, Redis goes away
// mid-run. The server stays up, /readyz turns 503 naming the queue, a change
// committed meanwhile waits in the outbox, and once Redis is back /readyz is
// 200 again and the change's notification is delivered.
func TestRunSurvivesRedisOutage(t *testing.T) {
	t.Parallel()
	dsn := pgtest.SchemaDSN(t)
	redisURL, err := url.Parse(testenv.RedisURL(t))
	require.NoError(t, err)
	px := testenv.StartProxy(t, redisURL.Host)
	redisURL.Host = px.Addr

	cfg := config.Default()
	cfg.Flows.Dir = "../configs/flows"
	cfg.Store.DSN = config.DSN(dsn)
	cfg.Queue.RedisURL = config.DSN(redisURL.String() + "?dial_timeout=200ms&read_timeout=500ms&max_retries=0")
	cfg.Queue.KeyPrefix = "cardflow-test:" + queue.NewID()[:12] + ":"
	cfg.Server.ShutdownTimeout = 5 * time.Second
	require.NoError(t, cfg.Validate())

	seen := make(delivered, 16)
	r := start(t, cfg, slog.New(seen))
	store, err := postgres.Open(t.Context(), dsn, postgres.Options{MaxConns: 2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })

	storetest.MustApply(t, store, outboxChange("before"))
	await(t, seen, "before")

	px.Cut()
	code, body := r.get(t, "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, map[string]any{"status": "unavailable", "failed": []any{"queue"}}, body)
	code, _ = r.get(t, "/healthz")
	require.Equal(t, http.StatusOK, code, "the process stays up while Redis is away")

	storetest.MustApply(t, store, outboxChange("during"))

	px.Restore(t)
	code, body = r.get(t, "/readyz")
	require.Equal(t, http.StatusOK, code, body)
	await(t, seen, "during")
	// The consumer may handle the message before the relay, which published
	// it, has marked it sent: wait for the mark (there is no signal for it
	// outside the relay, so poll the store).
	require.Eventually(t, func() bool {
		count, _, err := store.OutboxBacklog(t.Context())
		return err == nil && count == 0
	}, 10*time.Second, 10*time.Millisecond, "the relay marks the message sent once Redis took it")
	r.shutdown(t)
}
