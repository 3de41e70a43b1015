package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds an accepted incoming id; longer ones are replaced.
const maxRequestIDLen = 128

type requestIDKey struct{}

// RequestID returns the id of the request whose context this is, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID keeps a sane incoming X-Request-Id (so a proxy's id follows the
// request through) and otherwise makes one; it is echoed in the response.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// saneRequestID accepts ids made of characters that cannot forge log lines
// or headers.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

type callerKey struct{}

// SetCaller names, for the access log, who made the request whose context
// this is: an API token's id ("token:tok_…"), never a secret. It does
// nothing outside a request the server observes.
func SetCaller(ctx context.Context, name string) {
	if c, ok := ctx.Value(callerKey{}).(*atomic.Pointer[string]); ok {
		c.Store(&name)
	}
}

// caller returns what SetCaller recorded, or "".
func caller(ctx context.Context) string {
	if c, ok := ctx.Value(callerKey{}).(*atomic.Pointer[string]); ok {
		if name := c.Load(); name != nil {
			return *name
		}
	}
	return ""
}

// observe writes the access log line and the request metrics once the
// request is done, when chi has resolved the route pattern. It logs neither
// headers nor the query string, where credentials travel.
func (s *Server) observe(m *httpMetrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			r = r.WithContext(context.WithValue(r.Context(), callerKey{}, new(atomic.Pointer[string])))
			// Deferred, so a request whose handler aborts is recorded too.
			defer func() { s.record(m, r, ww, time.Since(start)) }()
			next.ServeHTTP(ww, r)
		})
	}
}

// record counts and logs one finished request.
func (s *Server) record(m *httpMetrics, r *http.Request, ww middleware.WrapResponseWriter, elapsed time.Duration) {
	status := ww.Status()
	if status == 0 {
		status = http.StatusOK // the handler wrote nothing
	}
	route := chi.RouteContext(r.Context()).RoutePattern()
	if route == "" {
		route = "unmatched"
	}
	method := methodLabel(r.Method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())

	level := slog.LevelInfo
	if status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", elapsed),
		slog.Int("bytes", ww.BytesWritten()),
		slog.String("request_id", RequestID(r.Context())),
	}
	if c := caller(r.Context()); c != "" {
		attrs = append(attrs, slog.String("caller", c))
	}
	s.log.LogAttrs(r.Context(), level, "http request", attrs...)
}

// recoverer turns a handler panic into a logged 500 JSON error, unless the
// handler had already started its response (then the connection is cut by
// re-panicking with http.ErrAbortHandler, so the client sees a failure).
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // net/http's way to cut a response; not a bug
			}
			s.log.LogAttrs(r.Context(), slog.LevelError, "http handler panicked",
				slog.String("panic", s.scrub(fmt.Sprint(v))),
				slog.String("request_id", RequestID(r.Context())),
				slog.String("stack", string(debug.Stack())),
			)
			if ww, ok := w.(middleware.WrapResponseWriter); ok && ww.Status() != 0 {
				panic(http.ErrAbortHandler)
			}
			WriteError(w, http.StatusInternalServerError, CodeInternal, "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses a body whose declared length exceeds limit up front and
// caps the rest with http.MaxBytesReader, whose error ReadBody turns into
// the same 413 for bodies without a Content-Length.
func limitBody(limit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				writeTooLarge(w, limit)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			next.ServeHTTP(w, r)
		})
	}
}

// methodLabel bounds the method label: any method net/http does not name
// becomes "OTHER", so a scanner cannot grow the metric without limit.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
