// Package api is cardflow's HTTP API for operators and integrations: start
// a flow instance (or forecast its route first), read one, list the
// instances and tasks a user may see, and act on a task or an instance, so
// flows run before (and beside) the chat platforms; list the alert groups
// (open, acknowledged, snoozed, resolved) and who was paged; read the flow
// definitions (with their graphs) and the org directory; list, inspect,
// replay and discard dead letters.
//
// GET /api/v1/openapi.json serves the OpenAPI 3 document of every route:
// parameters, bodies, answers, error codes and the token scope each needs
// (x-scope). It needs no token. Tests hold it to the code: the mounted
// routes and the documented ones are the same, its error-code enum is the
// server's codes, and real answers validate against it.
//
// Lists that can grow (instances, tasks, alerts) come in pages: a
// request's limit, and an opaque next_cursor, absent on the last page,
// that the next request passes back as cursor. A cursor names the last
// row's place in the list (its creation time and id), so rows added
// meanwhile neither repeat nor push rows off the pages still to come. A
// page may hold fewer rows than the limit, even none, and still have a
// next_cursor: rows the viewer may not see are skipped.
//
// Every route but the document needs a bearer token: one of
// server.api_tokens (scope write), server.admin_tokens (admin), or one
// made with `cardflow tokens create` (read, write or admin, see package
// apitoken). GET routes and the forecast (a POST that changes nothing)
// need read, the others write, and dead letters and setting leave proxies
// admin. A token holder is trusted to act for the user named in the
// request ("actor"): it is a service account of the company's own systems.
// Chat callbacks, in contrast, take the acting user only from the
// platform's signed payload. Either way the engine checks that this user
// may do this now.
//
// A start or an action (POST /instances, /instances/{id}/actions,
// /tasks/{id}/decision) may carry an Idempotency-Key header (at most 200
// bytes). The same key with the same request returns the
// first answer (200 rather than 201 for a start) and changes nothing; the
// same key with a different request (another body, action or target) is
// refused with 422 idempotency_key_reused, and nothing is changed either.
package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"cardflow/config"
	"cardflow/flows"
	"cardflow/queue"
	"cardflow/server"
	"cardflow/server/apitoken"
)

// IdempotencyHeader carries a client's idempotency key.
const IdempotencyHeader = "Idempotency-Key"

// maxKeyLen bounds an idempotency key; longer ones are refused rather than
// cut, since two cut keys could collide.
const maxKeyLen = 200

// API serves /api/v1 on top of the flow engine.
type API struct {
	engine *flows.Engine
	tokens []config.Secret
	admin  []config.Secret
	// verifier checks stored tokens; nil when only configured ones count.
	verifier *apitoken.Verifier
	// queue and topics serve the dead letters; nil without WithQueue.
	queue  queue.Queue
	topics []string
	log    *slog.Logger
}

// New returns the API for engine, accepting the given bearer tokens (scope
// write). With no tokens, and no token store (WithTokenStore), every
// request is refused: the API is off.
func New(engine *flows.Engine, tokens []config.Secret, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{engine: engine, tokens: tokens, log: log}
}

// Routes mounts the API under /api/v1; pass it as server.Deps.Routes.
func (a *API) Routes(r chi.Router) {
	r.Get("/api/v1/openapi.json", serveOpenAPI)
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(a.authenticate, checkRequestText)
		r.Post("/instances", a.startInstance)
		r.Get("/instances", a.listInstances)
		r.Post("/flows/{id}/forecast", a.forecastFlow)
		r.Get("/instances/{id}", a.getInstance)
		r.Post("/instances/{id}/actions", a.instanceAction)
		r.Get("/tasks", a.listTasks)
		r.Get("/alerts", a.listAlerts)
		r.Post("/tasks/{id}/decision", a.taskDecision)
		r.Get("/flows", a.listFlows)
		r.Get("/flows/{id}/versions", a.listVersions)
		r.Get("/flows/{id}/versions/{v}", a.getVersion)
		r.Get("/org/users", a.listUsers)
		r.Get("/org/users/{id}", a.getUser)
		r.Get("/analytics", a.getAnalytics)
		r.With(requireAdmin).Get("/deadletters", a.listDeadLetters)
		r.With(requireAdmin).Get("/deadletters/{topic}/{id}", a.getDeadLetter)
		r.With(requireAdmin).Delete("/deadletters/{topic}/{id}", a.discardDeadLetter)
		r.With(requireAdmin).Post("/deadletters/{topic}/{id}/replay", a.replayDeadLetter)
		r.Get("/proxies", a.listProxies)
		r.With(requireAdmin).Post("/proxies", a.setProxy)
		r.With(requireAdmin).Delete("/proxies/{id}", a.deleteProxy)
	})
}

// startRequest is the body of POST /api/v1/instances.
type startRequest struct {
	FlowID    string         `json:"flow_id"`
	Applicant string         `json:"applicant"`
	Title     string         `json:"title"`
	Form      map[string]any `json:"form"`
	Context   map[string]any `json:"context"`
}

func (a *API) startInstance(w http.ResponseWriter, r *http.Request) {
	var req startRequest
	key, ok := a.decode(w, r, &req)
	if !ok {
		return
	}
	if missing := missingFields(map[string]string{"flow_id": req.FlowID, "applicant": req.Applicant}); missing != "" {
		server.WriteError(w, http.StatusBadRequest, server.CodeBadRequest, missing)
		return
	}
	res, err := a.engine.Start(r.Context(), flows.StartRequest{
		Actor: req.Applicant, Key: key, FlowID: req.FlowID, Title: req.Title, Form: req.Form, Context: req.Context,
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The engine keeps the view of the instance it just created: any state
	// at or after the start's will do for the answer.
	view, err := a.engine.Instance(flows.ViewAtLeast(r.Context(), res.Version), req.Applicant, res.InstanceID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
	}
	server.WriteJSON(w, status, map[string]any{"result": res, "instance": instanceJSON(view)})
}

func (a *API) getInstance(w http.ResponseWriter, r *http.Request) {
	viewer := r.URL.Query().Get("viewer")
	if viewer == "" {
		server.WriteError(w, http.StatusBadRequest, server.CodeBadRequest,
			"the viewer query parameter is required: fields are shown as that user's step may see them")
		return
	}
	view, err := a.engine.Instance(r.Context(), viewer, chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"instance": instanceJSON(view)})
}

func (a *API) listTasks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	assignee := q.Get("assignee")
	if assignee == "" {
		server.WriteError(w, http.StatusBadRequest, server.CodeBadRequest, "the assignee query parameter is required")
		return
	}
	limit := 0
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			server.WriteError(w, http.StatusBadRequest, server.CodeBadRequest, "limit must be an integer from 1 to 1000")
			return
		}
		limit = n
	}
	status := flows.TaskStatus(q.Get("status"))
	if status != "" && !knownTaskStatus(status) {
		server.WriteError(w, http.StatusBadRequest, server.CodeBadRequest, fmt.Sprintf("unknown task status %q", status))
		return
	}
	// The parameters added with paging answer as GET /instances does.
	p := params{q: q}
	from, to := p.span()
	query := flows.TaskQuery{Assignee: assignee, Status: status, FlowID: p.str("flow"), From: from, To: to,
		After: p.cursor(), Limit: limit}
	if p.answer(w) {
		return
	}
	page, err := a.engine.TaskPage(r.Context(), query)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]any, len(page.Tasks))
	for i, v := range page.Tasks {
		out[i] = taskViewJSON(v)
	}
	writePage(w, "tasks", out, page.Next)
}

// decode reads the JSON body into v, refusing unknown fields, and returns
// the request's idempotency key (prefixed with "api:", so it cannot collide
// with a chat platform's event ids). On failure it has answered.
func (a *API) decode(w http.ResponseWriter, r *http.Request, v any) (key string, ok bool) {
	if k := r.Header.Get(IdempotencyHeader); k != "" {
		if err := flows.CheckText(IdempotencyHeader+" header", k, 0); err != nil {
			server.WriteError(w, http.StatusBadRequest, CodeInvalidInput, err.Error())
			return "", false
		}
		if len(k) > maxKeyLen {
			server.WriteError(w, http.StatusBadRequest, server.CodeBadRequest,
				fmt.Sprintf("the %s header is longer than %d bytes", IdempotencyHeader, maxKeyLen))
			return "", false
		}
		key = "api:" + k
	}
	body, err := server.ReadBody(w, r)
	if err != nil {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber() // money and numbers stay exact
	if err := dec.Decode(v); err != nil {
		server.WriteError(w, http.StatusBadRequest, server.CodeBadRequest, "invalid JSON body: "+err.Error())
		return "", false
	}
	if dec.More() {
		server.WriteError(w, http.StatusBadRequest, server.CodeBadRequest, "invalid JSON body: more than one value")
		return "", false
	}
	if !utf8.Valid(body) {
		// encoding/json would quietly turn bad bytes into U+FFFD; refuse
		// them instead, as the store could not hold them unchanged.
		server.WriteError(w, http.StatusBadRequest, CodeInvalidInput, "the JSON body is not valid UTF-8")
		return "", false
	}
	return key, true
}

// checkRequestText refuses a request whose path or query holds text the
// store could not keep (invalid UTF-8, a NUL character), naming where, so
// such ids never reach the database as a 500.
func checkRequestText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := flows.CheckText("path", r.URL.Path, 0); err != nil {
			server.WriteError(w, http.StatusBadRequest, CodeInvalidInput, err.Error())
			return
		}
		for name, values := range r.URL.Query() {
			for _, v := range append([]string{name}, values...) {
				if err := flows.CheckText("query parameter "+strconv.Quote(strings.ToValidUTF8(name, "?")), v, 0); err != nil {
					server.WriteError(w, http.StatusBadRequest, CodeInvalidInput, err.Error())
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// missingFields names every required field left empty, or returns "".
func missingFields(fields map[string]string) string {
	var missing []string
	for _, name := range []string{"flow_id", "applicant", "actor", "action"} {
		if v, asked := fields[name]; asked && v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return "missing required fields: " + strings.Join(missing, ", ")
}

func knownTaskStatus(s flows.TaskStatus) bool {
	switch s {
	case flows.TaskOpen, flows.TaskApproved, flows.TaskRejected, flows.TaskReturned,
		flows.TaskDone, flows.TaskCancelled, flows.TaskWaiting:
		return true
	}
	return false
}
