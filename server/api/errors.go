package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cardflow/flows"
	"cardflow/server"
)

// Error codes of the API. Clients act on the code; once published, a code
// keeps its meaning.
const (
	CodeUnauthorized   = "unauthorized"
	CodeAPIDisabled    = "api_disabled"
	CodeUnknownAction  = "unknown_action"
	CodeInvalidForm    = "invalid_form"
	CodeNotAssignee    = "not_assignee"
	CodeNotApplicant   = "not_applicant"
	CodeNotAdmin       = "not_admin"
	CodeNotParticipant = "not_participant"
	CodeAlreadyDecided = "already_decided"
	CodeTaskNotOpen    = "task_not_open"
	CodeFinished       = "instance_finished"
	CodeInvalidTarget  = "invalid_target"
	CodeNotApplicable  = "not_applicable"
	CodeCommentNeeded  = "comment_required"
	CodeRateLimited    = "rate_limited"
	CodeKeyReused      = "idempotency_key_reused"
	CodeNoAssignee     = "no_assignee"
	CodeUnknownUser    = "unknown_user"
	CodeNotSupported   = "not_supported"
	CodeConflict       = "conflict"
	CodeInvalidInput   = "invalid_input"
	CodeUnavailable    = "unavailable"
)

// retryAfterUnavailable is what a client is told to wait when the
// database cannot be reached: long enough for a restart or a fail-over.
const retryAfterUnavailable = "5"

// errorStatus maps the engine's errors to an HTTP status and a code, in
// the order they are tested.
var errorStatus = []struct {
	err    error
	status int
	code   string
}{
	{flows.ErrNotAssignee, http.StatusForbidden, CodeNotAssignee},
	{flows.ErrNotApplicant, http.StatusForbidden, CodeNotApplicant},
	{flows.ErrNotAdmin, http.StatusForbidden, CodeNotAdmin},
	{flows.ErrNotParticipant, http.StatusForbidden, CodeNotParticipant},
	{flows.ErrAlreadyDecided, http.StatusConflict, CodeAlreadyDecided},
	{flows.ErrTaskNotOpen, http.StatusConflict, CodeTaskNotOpen},
	{flows.ErrInstanceFinished, http.StatusConflict, CodeFinished},
	{flows.ErrNotApplicable, http.StatusConflict, CodeNotApplicable},
	{flows.ErrStaleVersion, http.StatusConflict, CodeConflict},
	{flows.ErrInvalidTarget, http.StatusUnprocessableEntity, CodeInvalidTarget},
	{flows.ErrCommentRequired, http.StatusUnprocessableEntity, CodeCommentNeeded},
	{flows.ErrKeyReused, http.StatusUnprocessableEntity, CodeKeyReused},
	{flows.ErrNoAssignee, http.StatusUnprocessableEntity, CodeNoAssignee},
	{flows.ErrUnknownUser, http.StatusUnprocessableEntity, CodeUnknownUser},
	{flows.ErrRateLimited, http.StatusTooManyRequests, CodeRateLimited},
	{flows.ErrNotSupported, http.StatusNotImplemented, CodeNotSupported},
	{flows.ErrAnalyticsTooLarge, http.StatusUnprocessableEntity, CodeInvalidInput},
	{flows.ErrAnalyticsPeriod, http.StatusBadRequest, CodeInvalidInput},
	{flows.ErrUnknownAction, http.StatusBadRequest, CodeUnknownAction},
	{flows.ErrInvalidInput, http.StatusBadRequest, CodeInvalidInput},
	{flows.ErrNotFound, http.StatusNotFound, server.CodeNotFound},
}

// formErrorBody is the error body of an invalid form: every bad field.
type formErrorBody struct {
	Error struct {
		Code    string               `json:"code"`
		Message string               `json:"message"`
		Fields  []flows.FieldProblem `json:"fields"`
	} `json:"error"`
}

// fail answers err. Errors the engine names get their status and code and
// the error's own message (it names the task or step, never a secret);
// anything else is a 500 with a generic message, logged with the request id.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	if fe, ok := errors.AsType[*flows.FormError](err); ok {
		var body formErrorBody
		body.Error.Code, body.Error.Message, body.Error.Fields = CodeInvalidForm, fe.Error(), fe.Problems
		server.WriteJSON(w, http.StatusUnprocessableEntity, body)
		return
	}
	if errors.Is(err, flows.ErrUnavailable) {
		// Not a bug: the database is down or restarting. 503 lets clients
		// and load balancers retry; the cause goes to the log only.
		a.log.Warn("api request failed: store unavailable", "err", err, "request_id", server.RequestID(r.Context()), "route", r.URL.Path)
		w.Header().Set("Retry-After", retryAfterUnavailable)
		server.WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "the service is temporarily unavailable; retry later")
		return
	}
	if ie, ok := errors.AsType[*flows.InputError](err); ok {
		server.WriteError(w, http.StatusBadRequest, CodeInvalidInput, ie.Error())
		return
	}
	if rl, ok := errors.AsType[*flows.RateLimitError](err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(rl.RetryAfter.Seconds()+0.999))))
	}
	for _, m := range errorStatus {
		if errors.Is(err, m.err) {
			server.WriteError(w, m.status, m.code, publicMessage(err))
			return
		}
	}
	a.log.Error("api request failed", "err", err, "request_id", server.RequestID(r.Context()), "route", r.URL.Path)
	server.WriteError(w, http.StatusInternalServerError, server.CodeInternal, "internal error")
}

// alreadyDecidedBody is the 409 answer to a request on a task that was
// closed before it: the error, and the decision that closed it (who, what,
// when), so a client can show "already approved by X at T".
type alreadyDecidedBody struct {
	Error struct {
		Code     string       `json:"code"`
		Message  string       `json:"message"`
		Decision decisionJSON `json:"decision"`
	} `json:"error"`
	Result flows.Result `json:"result"`
}

type decisionJSON struct {
	TaskID     string    `json:"task_id"`
	Outcome    string    `json:"outcome"`
	By         string    `json:"by,omitempty"`
	OnBehalfOf string    `json:"on_behalf_of,omitempty"`
	At         time.Time `json:"at"`
}

func writeAlreadyDecided(w http.ResponseWriter, res flows.Result) {
	var body alreadyDecidedBody
	body.Error.Code = CodeAlreadyDecided
	body.Error.Message = fmt.Sprintf("task %s was already closed (%s by %s); nothing was changed", res.TaskID, res.Outcome, res.By)
	body.Error.Decision = decisionJSON{TaskID: res.TaskID, Outcome: res.Outcome, By: res.By, OnBehalfOf: res.OnBehalfOf, At: res.At}
	body.Result = res
	server.WriteJSON(w, http.StatusConflict, body)
}

// publicMessage is what an API client reads of an engine error: the
// engine's own words (they name the task, step or field at fault), without
// the "flows:" layer prefix; for errors whose chain may carry the store's
// words (not found, a lost race) only the error's plain text, so no backend
// detail reaches a client.
func publicMessage(err error) string {
	if errors.Is(err, flows.ErrNotFound) || errors.Is(err, flows.ErrStaleVersion) {
		info, _ := flows.Describe(err)
		if op, ok := errors.AsType[*flows.OpError](err); ok {
			return op.Op + " " + op.Target + ": " + info.EN
		}
		return info.EN
	}
	return strings.TrimPrefix(err.Error(), "flows: ")
}
