package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// Error codes of JSON error responses. Clients act on the code, so a code,
// once published, keeps its meaning; the message is for people.
const (
	CodeBadRequest       = "bad_request"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeBodyTooLarge     = "body_too_large"
	CodeRequestTimeout   = "request_timeout"
	CodeInternal         = "internal"
	CodeUnavailable      = "unavailable"
)

// errorBody is the JSON shape of every error response:
// {"error":{"code":"...","message":"..."}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError answers with status and the JSON error body for code and
// message. The message is shown to the client: it must not carry secrets or
// internal details.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	WriteJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message}})
}

// WriteUnavailable answers 503 with code "unavailable", message and a
// Retry-After header of retryAfter in whole seconds (rounded up, at least
// one), for a request that may succeed later, such as one that found the
// store unreachable (flows.ErrUnavailable).
func WriteUnavailable(w http.ResponseWriter, retryAfter time.Duration, message string) {
	secs := max(1, int64((retryAfter+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, message)
}

// WriteJSON answers with status and v encoded as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a programming error (an unencodable type) gets here.
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// ReadBody reads the whole request body. When the body is larger than
// server.body_limit, did not arrive within server.read_timeout, or cannot
// be read, it has already answered 413 body_too_large, 408 request_timeout
// or 400, and returns an error: the handler just returns.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err == nil {
		return body, nil
	}
	if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
		writeTooLarge(w, tooLarge.Limit)
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		WriteError(w, http.StatusRequestTimeout, CodeRequestTimeout,
			"the request body did not arrive within the server's read timeout")
	} else {
		WriteError(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
	}
	return nil, fmt.Errorf("server: read request body: %w", err)
}

func writeTooLarge(w http.ResponseWriter, limit int64) {
	WriteError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
		fmt.Sprintf("the request body is larger than the limit of %d bytes", limit))
}

func notFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, CodeNotFound, "no route for "+r.URL.Path)
}

// allowProbe are the methods a 405 answer may list in Allow.
var allowProbe = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

// methodNotAllowed answers 405 with the Allow header chi's default would
// set: chi does not hand the allowed methods to a custom handler, so they
// are found by asking the router which methods match the path.
func methodNotAllowed(mux *chi.Mux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		var allowed []string
		for _, m := range allowProbe {
			if mux.Match(chi.NewRouteContext(), m, path) {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
		}
		WriteError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			r.Method+" is not allowed for "+r.URL.Path)
	}
}
