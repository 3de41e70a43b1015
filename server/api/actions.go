package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"cardflow/flows"
	"cardflow/server"
)

// actionRequest is the body of POST /api/v1/tasks/{id}/decision and
// POST /api/v1/instances/{id}/actions; which fields an action reads is
// listed in taskActions and instanceActions.
type actionRequest struct {
	Actor    string         `json:"actor"`
	Action   string         `json:"action"`
	Comment  string         `json:"comment"`
	To       string         `json:"to"`       // return: a step id, "applicant" or "previous"; transfer/delegate: a user
	Users    []string       `json:"users"`    // add_signer
	Position string         `json:"position"` // add_signer: before | after
	Result   map[string]any `json:"result"`   // complete: the step's result form
	Edits    map[string]any `json:"edits"`    // approve/reject/complete: editable fields
	Form     map[string]any `json:"form"`     // resubmit
	Until    time.Time      `json:"until"`    // snooze: RFC 3339
}

// target says what an action route acts on.
type target int

const (
	onTask target = iota
	onInstance
)

func (a *API) taskDecision(w http.ResponseWriter, r *http.Request) {
	a.act(w, r, onTask)
}

func (a *API) instanceAction(w http.ResponseWriter, r *http.Request) {
	a.act(w, r, onInstance)
}

func (a *API) act(w http.ResponseWriter, r *http.Request, on target) {
	var req actionRequest
	key, ok := a.decode(w, r, &req)
	if !ok {
		return
	}
	if missing := missingFields(map[string]string{"actor": req.Actor, "action": req.Action}); missing != "" {
		server.WriteError(w, http.StatusBadRequest, server.CodeBadRequest, missing)
		return
	}
	kind, kinds := flows.ActionKind(req.Action), flows.InstanceActions
	known := kind.OnInstance()
	if on == onTask {
		kinds, known = flows.TaskActions, kind.OnTask()
	}
	if !known {
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = string(k)
		}
		server.WriteError(w, http.StatusBadRequest, CodeUnknownAction,
			fmt.Sprintf("unknown action %q: use one of %s", req.Action, strings.Join(names, ", ")))
		return
	}
	act := flows.Action{Kind: kind, Actor: req.Actor, Key: key, Comment: req.Comment, To: req.To, Users: req.Users,
		Position: flows.SignerPosition(req.Position), Result: req.Result, Edits: req.Edits, Form: req.Form, Until: req.Until}
	if on == onTask {
		act.TaskID = chi.URLParam(r, "id")
	} else {
		act.InstanceID = chi.URLParam(r, "id")
	}
	res, err := a.engine.Act(r.Context(), act)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if res.AlreadyDecided {
		// Nothing changed: the task was closed before this request. A
		// client that tests for 2xx must not take it for a decision.
		writeAlreadyDecided(w, res)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"result": res})
}
