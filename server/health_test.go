package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/config"
)

// fakePinger answers Ping with whatever error the test last set.
type fakePinger struct {
	mu  sync.Mutex
	err error
}

func (f *fakePinger) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakePinger) Ping(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// hangingPinger never answers until released, ignoring its context as a
// wedged driver would.
type hangingPinger struct{ release chan struct{} }

func (h hangingPinger) Ping(context.Context) error {
	<-h.release
	return nil
}

func TestReadyzFailsAndRecovers(t *testing.T) {
	t.Parallel()
	store, queue := &fakePinger{}, &fakePinger{}
	b := setup(t, nil, Deps{Checks: map[string]Pinger{"store": store, "queue": queue}})

	resp, body := do(t, "GET", b.url+"/readyz", nil, nil)
	require.Equal(t, 200, resp.StatusCode)
	require.JSONEq(t, `{"status":"ok"}`, body)

	queue.set(errors.New("dial tcp 127.0.0.1:6379: connect: connection refused"))
	resp, body = do(t, "GET", b.url+"/readyz", nil, nil)
	require.Equal(t, 503, resp.StatusCode)
	require.JSONEq(t, `{"status":"unavailable","failed":["queue"]}`, body)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Contains(t, b.logs.String(), `"msg":"readiness check failed","check":"queue","err":"dial tcp 127.0.0.1:6379: connect: connection refused"`)

	store.set(errors.New("timeout"))
	_, body = do(t, "GET", b.url+"/readyz", nil, nil)
	require.JSONEq(t, `{"status":"unavailable","failed":["queue","store"]}`, body, "sorted")

	queue.set(nil)
	store.set(nil)
	resp, _ = do(t, "GET", b.url+"/readyz", nil, nil)
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, b.logs.String(), `"msg":"readiness check recovered","check":"queue"`)
}

// TestReadyzHidesDependencyDetails: /readyz is unauthenticated, so its body
// names the failed dependency only. The driver's error, which names the
// host, port, database and user, goes to the log, scrubbed of secrets.
func TestReadyzHidesDependencyDetails(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", func(k string) (string, bool) {
		v, ok := map[string]string{
			"CARDFLOW_STORE_DSN":         "host=db user=cardflow password=pg-PASS dbname=cardflow",
			"CARDFLOW_QUEUE_REDIS_URL":   "redis://:redis-PASS@redis:6379/0",
			"CARDFLOW_SERVER_API_TOKENS": "api-TOKEN-0123456789",
		}[k]
		return v, ok
	})
	require.NoError(t, err)
	store, queue := &fakePinger{}, &fakePinger{}
	store.set(errors.New("failed to connect to `host=db.internal port=5432 user=cardflow database=cardflow password=pg-PASS`: refused"))
	queue.set(errors.New("redis: dial redis://:redis-PASS@redis:6379/0 (token api-TOKEN-0123456789): refused; also http://u:other-PASS@x"))
	b := setup(t, cfg, Deps{Checks: map[string]Pinger{"store": store, "queue": queue}})

	resp, body := do(t, "GET", b.url+"/readyz", nil, nil)
	require.Equal(t, 503, resp.StatusCode)
	require.JSONEq(t, `{"status":"unavailable","failed":["queue","store"]}`, body)

	logs := b.logs.String()
	require.Contains(t, logs, "host=db.internal port=5432 user=cardflow database=cardflow", "the operator still learns why")
	require.Contains(t, logs, "redis://:xxxxx@redis:6379/0")
	require.Contains(t, logs, "http://u:xxxxx@x")
	require.NotContains(t, logs, "PASS")
	require.NotContains(t, logs, "TOKEN")
}

// TestReadyzLogIsRateLimited: a probe polling a failing dependency every
// second logs its failure once a minute, with the count left out between.
func TestReadyzLogIsRateLimited(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	store := &fakePinger{}
	store.set(errors.New("connection refused"))
	b := setup(t, nil, Deps{Checks: map[string]Pinger{"store": store}, Now: clock})

	failures := func() []map[string]any { return logLines(t, b.logs, "readiness check failed") }
	for range 60 { // one poll a second for a minute
		resp, _ := do(t, "GET", b.url+"/readyz", nil, nil)
		require.Equal(t, 503, resp.StatusCode)
		advance(time.Second)
	}
	require.Len(t, failures(), 1, "logged once in the first minute")
	require.NotContains(t, failures()[0], "failures_not_logged")

	do(t, "GET", b.url+"/readyz", nil, nil)
	require.Len(t, failures(), 2, "and again a minute later")
	require.EqualValues(t, 59, failures()[1]["failures_not_logged"])

	store.set(nil)
	do(t, "GET", b.url+"/readyz", nil, nil)
	require.Len(t, logLines(t, b.logs, "readiness check recovered"), 1)
	store.set(errors.New("connection refused"))
	do(t, "GET", b.url+"/readyz", nil, nil)
	require.Len(t, failures(), 3, "a new failure after a recovery is logged at once")
}

// logLines returns the JSON log lines with message msg.
func logLines(t *testing.T, logs *lockedBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(logs.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestReadyzAnswersWhenAPingerHangs runs in a synctest bubble, so the one
// second readiness timeout passes at once.
func TestReadyzAnswersWhenAPingerHangs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		hang := hangingPinger{release: make(chan struct{})}
		defer close(hang.release)
		srv := New(config.Default(), Deps{Checks: map[string]Pinger{"store": &fakePinger{}, "queue": hang}})

		start := time.Now()
		rec := httptest.NewRecorder()
		srv.Router().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		require.Equal(t, readyTimeout, time.Since(start))
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.JSONEq(t, `{"status":"unavailable","failed":["queue"]}`, rec.Body.String())
	})
}
