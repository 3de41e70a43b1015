package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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
	require.JSONEq(t, `{"status":"ok","checks":{"store":{"status":"ok"},"queue":{"status":"ok"}}}`, body)

	queue.set(errors.New("dial tcp 127.0.0.1:6379: connect: connection refused"))
	resp, body = do(t, "GET", b.url+"/readyz", nil, nil)
	require.Equal(t, 503, resp.StatusCode)
	require.JSONEq(t, `{"status":"unavailable","checks":{"store":{"status":"ok"},
		"queue":{"status":"failed","error":"dial tcp 127.0.0.1:6379: connect: connection refused"}}}`, body)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

	queue.set(nil)
	resp, _ = do(t, "GET", b.url+"/readyz", nil, nil)
	require.Equal(t, 200, resp.StatusCode)
}

func TestReadyzScrubsSecrets(t *testing.T) {
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
	store.set(errors.New("failed to connect to `user=cardflow password=pg-PASS`: refused"))
	queue.set(errors.New("redis: dial redis://:redis-PASS@redis:6379/0 (token api-TOKEN-0123456789): refused; also http://u:other-PASS@x"))
	b := setup(t, cfg, Deps{Checks: map[string]Pinger{"store": store, "queue": queue}})

	resp, body := do(t, "GET", b.url+"/readyz", nil, nil)
	require.Equal(t, 503, resp.StatusCode)
	require.NotContains(t, body, "PASS")
	require.NotContains(t, body, "TOKEN")
	require.Contains(t, body, "redis://:xxxxx@redis:6379/0")
	require.Contains(t, body, "http://u:xxxxx@x")
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
		require.JSONEq(t, `{"status":"unavailable","checks":{"store":{"status":"ok"},
			"queue":{"status":"failed","error":"no answer within 1s"}}}`, rec.Body.String())
	})
}
