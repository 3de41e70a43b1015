package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
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

// pipeListener hands the server in-memory connections (net.Pipe), so a
// test can run the whole server in a synctest bubble, where the read and
// shutdown timeouts pass in fake time.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial returns the client end of a new connection to the server.
func (l *pipeListener) dial() net.Conn {
	client, server := net.Pipe()
	l.conns <- server
	return client
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// TestServeCutsSlowBody: a client that sends its headers and then dribbles
// its body, a byte a second, is answered 408 and cut once server.read_timeout
// has passed since its request began. A shutdown started meanwhile ends
// then, cleanly, instead of waiting out server.shutdown_timeout for it.
func TestServeCutsSlowBody(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cfg := config.Default()
		require.Less(t, cfg.Server.ReadTimeout, cfg.Server.ShutdownTimeout, "the defaults bound a shutdown by the read timeout")
		srv := New(cfg, Deps{Routes: testRoutes})
		ln := newPipeListener()
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ctx, ln) }()

		start := time.Now()
		conn := ln.dial()
		defer conn.Close()
		_, err := io.WriteString(conn, "POST /echo HTTP/1.1\r\nHost: cardflow\r\nContent-Length: 1000\r\n\r\n")
		require.NoError(t, err)
		stopDribble, dribbled := make(chan struct{}), make(chan struct{})
		go func() { // the dribble: one byte a second, until the server hangs up
			defer close(dribbled)
			for {
				select {
				case <-stopDribble:
					return
				case <-time.After(time.Second):
				}
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}()
		defer func() { close(stopDribble); <-dribbled }()
		answered := make(chan *http.Response, 1)
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			answered <- resp
		}()

		time.Sleep(3 * time.Second)
		cancel() // a shutdown while the body is still dribbling in

		resp := <-answered
		require.NotNil(t, resp, "the slow client is answered before the shutdown gives up on it")
		require.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
		require.Equal(t, cfg.Server.ReadTimeout, time.Since(start), "cut exactly at the read timeout")

		require.NoError(t, <-served, "a clean shutdown: nothing had to be cut")
		elapsed := time.Since(start)
		require.GreaterOrEqual(t, elapsed, cfg.Server.ReadTimeout)
		require.Less(t, elapsed, cfg.Server.ReadTimeout+time.Second,
			"the shutdown ended with the slow request, not %s after it began", cfg.Server.ShutdownTimeout)
	})
}
