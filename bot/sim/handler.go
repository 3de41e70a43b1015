package sim

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"

	"cardflow/flows"
)

// assets are the page: hand-written HTML, CSS and JavaScript, served as
// they are, so that the simulator works on a closed network.
//
//go:embed assets
var assets embed.FS

// Handler returns the page and its API. Mount it at cfg.Path so that the
// request's URL path stays whole (chi's Mount and Handle and net/http's
// ServeMux all keep it): it serves
//
//	GET  {path}/                 the page (and its assets under {path}/static/)
//	GET  {path}/api/users        the people and group chats, with unread counts
//	GET  {path}/api/inbox        ?user=<sim id> or ?chat=<chat id>: the messages
//	POST {path}/api/read         {"user"|"chat"}: mark an inbox read
//	GET  {path}/api/flows        the flows a person can start, with their forms
//	POST {path}/api/start        {"user","flow_id","form"}: start a flow
//	POST {path}/api/forecast     {"user","flow_id","form"}: the route a start would take
//	POST {path}/api/click        {"user","message_id","payload","action","values"}
//	POST {path}/api/message      {"user","chat","text"}: a message to the bot
//	GET  {path}/api/events       ?user= or ?chat=, &since=<rev>: server-sent events
//
// Errors are {"error":{"code","message"}} with the message in zh-CN, or in
// English when the request's Accept-Language starts with "en"; once a click
// or a message knows its person, in that person's language.
func (p *Platform) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets") // the directory is embedded: Sub cannot fail
	mux.HandleFunc("GET /{$}", p.page)
	mux.Handle("GET /static/", noCache(http.StripPrefix("/static/", http.FileServerFS(static))))
	api := func(method, path string, h http.HandlerFunc) {
		if !p.web() {
			h = p.unwired
		}
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != method && (method != http.MethodGet || r.Method != http.MethodHead) {
				w.Header().Set("Allow", method)
				p.fail(w, r, http.StatusMethodNotAllowed, "method_not_allowed", msgMethod, r.Method, method)
				return
			}
			h(w, r)
		})
	}
	api(http.MethodGet, "/api/users", p.users)
	api(http.MethodGet, "/api/inbox", p.inbox)
	api(http.MethodPost, "/api/read", p.read)
	api(http.MethodGet, "/api/flows", p.flows)
	api(http.MethodPost, "/api/start", p.start)
	api(http.MethodPost, "/api/forecast", p.forecast)
	api(http.MethodPost, "/api/click", p.click)
	api(http.MethodPost, "/api/message", p.message)
	api(http.MethodGet, "/api/events", p.events)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		p.fail(w, r, http.StatusNotFound, "not_found", msgNoRoute, r.URL.Path)
	})
	base := p.cfg.Path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == base {
			http.Redirect(w, r, base+"/", http.StatusMovedPermanently)
			return
		}
		http.StripPrefix(base, mux).ServeHTTP(w, r)
	})
}

// page serves index.html with headers that keep it from being framed or
// from running any script but its own.
func (p *Platform) page(w http.ResponseWriter, _ *http.Request) {
	b, _ := assets.ReadFile("assets/index.html") // embedded: cannot fail
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", contentPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(b)
}

// contentPolicy lets the page load only its own files: card text is user
// input, and whatever slipped through the page's escaping could still not
// run a script. Card images may come from anywhere (KPI charts).
const contentPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

func (p *Platform) unwired(w http.ResponseWriter, r *http.Request) {
	p.fail(w, r, http.StatusServiceUnavailable, "unavailable", msgUnwired)
}

// errorBody is the JSON of every error answer; Fields lists a form's bad
// fields.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string               `json:"code"`
	Message string               `json:"message"`
	Fields  []flows.FieldProblem `json:"fields,omitempty"`
}

// fail answers an error with its message in the request's language.
func (p *Platform) fail(w http.ResponseWriter, r *http.Request, status int, code string, m msg, args ...any) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: m.in(lang(r), args...)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a programming error (an unencodable type) gets here.
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// decode reads a JSON body of at most cfg.MaxBody bytes into v, refusing
// unknown fields and trailing data. On failure it has answered.
func (p *Platform) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		p.fail(w, r, http.StatusUnsupportedMediaType, "bad_request", msgJSONOnly)
		return false
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.cfg.MaxBody))
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		p.fail(w, r, http.StatusRequestEntityTooLarge, "body_too_large", msgTooLarge, p.cfg.MaxBody)
		return false
	}
	if err != nil {
		p.fail(w, r, http.StatusBadRequest, "bad_request", msgBadJSON, err)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // form amounts stay exact
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		p.fail(w, r, http.StatusBadRequest, "bad_request", msgBadJSON, jsonProblem(err))
		return false
	}
	if dec.More() {
		p.fail(w, r, http.StatusBadRequest, "bad_request", msgBadJSON, "trailing data")
		return false
	}
	return true
}

// jsonProblem says what is wrong with a body without echoing it.
func jsonProblem(err error) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return fmt.Sprintf("%s: expected %s", te.Field, te.Type)
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	return err.Error()
}
