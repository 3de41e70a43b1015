// Package server is cardflow's HTTP front: a chi router whose middleware
// gives every request an id, recovers panics, caps the body, writes an
// access log and Prometheus metrics labelled by route pattern; the
// /healthz, /readyz and /metrics endpoints; JSON errors; and graceful
// shutdown. Other packages add their routes through Deps.Routes, so they get
// the same middleware.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"cardflow/config"
)

// Pinger is a dependency /readyz checks, such as the store or the queue.
type Pinger interface {
	// Ping reports whether the dependency is reachable.
	Ping(ctx context.Context) error
}

// Deps are what a Server uses besides its configuration. Every field is
// optional.
type Deps struct {
	// Logger receives the access log and server errors; nil discards them.
	Logger *slog.Logger
	// Registry holds the server's metrics and is what /metrics serves; nil
	// means a fresh registry, never the global one, so servers (and tests)
	// do not collide.
	Registry *prometheus.Registry
	// Checks are pinged by /readyz, by name ("store", "queue").
	Checks map[string]Pinger
	// QueueDepth, when set, is exported as cardflow_queue_depth{topic} on
	// each scrape (see TopicDepths).
	QueueDepth DepthFunc
	// Outbox, when set, is exported as cardflow_outbox_backlog and
	// cardflow_outbox_lag_seconds on each scrape.
	Outbox OutboxBacklogger
	// Routes adds the other packages' routes to the router, inside the
	// middleware; it is called once, by New.
	Routes func(r chi.Router)
	// Now is the clock for the outbox lag; nil means time.Now.
	Now func() time.Time
}

// Server serves cardflow's HTTP routes.
type Server struct {
	cfg    config.ServerConfig
	log    *slog.Logger
	reg    *prometheus.Registry
	checks map[string]Pinger
	ready  *readyLog
	scrub  func(string) string
	mux    *chi.Mux
}

// New builds the server and its router from the configuration (which must
// have passed Validate) and deps.
func New(cfg *config.Config, deps Deps) *Server {
	s := &Server{
		cfg:    cfg.Server,
		log:    deps.Logger,
		reg:    deps.Registry,
		checks: deps.Checks,
		scrub:  newScrubber(cfg.Secrets()),
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	s.ready = newReadyLog(s.log, now)
	m := newHTTPMetrics(s.reg)
	registerSources(s.reg, deps.QueueDepth, deps.Outbox, now, s.scrub)

	r := chi.NewRouter()
	r.Use(requestID, s.observe(m), s.recoverer, limitBody(int64(s.cfg.BodyLimit)))
	r.NotFound(notFound)
	r.MethodNotAllowed(methodNotAllowed(r))
	r.Get("/healthz", healthz)
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", s.metricsHandler())
	if deps.Routes != nil {
		deps.Routes(r)
	}
	s.mux = r
	return s
}

// Router returns the HTTP handler with every route and middleware.
func (s *Server) Router() http.Handler { return s.mux }

// Registry returns the registry /metrics serves, for other packages'
// metrics.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Serve serves HTTP on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting connections, lets in-flight requests finish
// for up to server.shutdown_timeout, cuts those still running, and returns.
// It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// The read timeout cuts a client that sends its request slowly, so it
	// holds a connection (and a graceful shutdown) for that long at most.
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log.Info("http server listening", "addr", ln.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("server: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.log.Info("http server shutting down", "timeout", s.cfg.ShutdownTimeout)
	// The parent is cancelled already; the grace period needs its own clock.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	var err error
	if serr := srv.Shutdown(sctx); serr != nil {
		_ = srv.Close()
		err = fmt.Errorf("server: shutdown: requests still running after %s were cut: %w", s.cfg.ShutdownTimeout, serr)
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("server: serve %s: %w", ln.Addr(), serr))
	}
	return err
}

// userinfo matches the password part of a URL in an error message.
var userinfo = regexp.MustCompile(`(://[^:/@\s]*):[^@\s]*@`)

// newScrubber returns a function that removes the configured secrets, and
// any password embedded in a URL, from text bound for a response or a log:
// driver errors may quote a connection string.
func newScrubber(secrets []string) func(string) string {
	var pairs []string
	for _, s := range secrets {
		if s != "" {
			pairs = append(pairs, s, "xxxxx")
		}
	}
	r := strings.NewReplacer(pairs...)
	return func(msg string) string {
		return userinfo.ReplaceAllString(r.Replace(msg), "${1}:xxxxx@")
	}
}
