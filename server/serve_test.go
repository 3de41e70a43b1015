package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"cardflow/config"
)

// closeSignalListener tells the test when the server stops accepting.
type closeSignalListener struct {
	net.Listener
	once   sync.Once
	closed chan struct{}
}

func newCloseSignalListener(t *testing.T) *closeSignalListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return &closeSignalListener{Listener: ln, closed: make(chan struct{})}
}

func (l *closeSignalListener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { close(l.closed) })
	return err
}

type result struct {
	status int
	body   string
	err    error
}

// get runs one GET in the background and reports on the returned channel.
func get(url string) <-chan result {
	out := make(chan result, 1)
	go func() {
		// Not the test's context: the server's shutdown is what ends it.
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
		if err != nil {
			out <- result{err: err}
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			out <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		out <- result{status: resp.StatusCode, body: string(b), err: err}
	}()
	return out
}

// blockingRoutes serve /slow, which signals entered and waits for release
// (or for its request to be cut).
func blockingRoutes(entered, release chan struct{}) func(chi.Router) {
	return func(r chi.Router) {
		r.Get("/slow", func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			select {
			case <-release:
				WriteJSON(w, http.StatusOK, map[string]bool{"done": true})
			case <-r.Context().Done():
			}
		})
	}
}

func TestServeDrainsInFlightRequests(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	srv := New(config.Default(), Deps{Routes: blockingRoutes(entered, release)})
	ln := newCloseSignalListener(t)
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	inflight := get("http://" + addr + "/slow")
	<-entered
	cancel()
	<-ln.closed

	_, err := net.Dial("tcp", addr)
	require.Error(t, err, "a new connection is refused once shutdown starts")
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	default:
	}

	close(release)
	res := <-inflight
	require.NoError(t, res.err)
	require.Equal(t, http.StatusOK, res.status)
	require.JSONEq(t, `{"done":true}`, res.body)
	require.NoError(t, <-served)
}

func TestServeCutsRequestsAfterShutdownTimeout(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	cfg := config.Default()
	cfg.Server.ShutdownTimeout = 50 * time.Millisecond
	srv := New(cfg, Deps{Routes: blockingRoutes(entered, release)})
	ln := newCloseSignalListener(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	inflight := get("http://" + ln.Addr().String() + "/slow")
	<-entered
	cancel()
	err := <-served
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "server: shutdown: requests still running after 50ms were cut")
	require.Error(t, (<-inflight).err, "the cut request fails at the client")
}

func TestServeReportsListenerFailure(t *testing.T) {
	t.Parallel()
	ln := newCloseSignalListener(t)
	require.NoError(t, ln.Close())
	err := New(config.Default(), Deps{}).Serve(t.Context(), ln)
	require.ErrorIs(t, err, net.ErrClosed)
	require.ErrorContains(t, err, "server: serve 127.0.0.1:")
}
