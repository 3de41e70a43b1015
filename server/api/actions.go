package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
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

type action func(ctx context.Context, e *flows.Engine, id, key string, req actionRequest) (flows.Result, error)

// taskActions are what POST /api/v1/tasks/{id}/decision can do to a task.
var taskActions = map[string]action{
	"approve": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Approve(ctx, flows.DecideRequest{Actor: q.Actor, Key: key, TaskID: id, Comment: q.Comment, Edits: q.Edits})
	},
	"reject": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Reject(ctx, flows.DecideRequest{Actor: q.Actor, Key: key, TaskID: id, Comment: q.Comment, Edits: q.Edits})
	},
	"complete": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Complete(ctx, flows.CompleteRequest{Actor: q.Actor, Key: key, TaskID: id, Comment: q.Comment,
			Result: q.Result, Edits: q.Edits})
	},
	"return": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Return(ctx, flows.ReturnRequest{Actor: q.Actor, Key: key, TaskID: id, To: q.To, Comment: q.Comment})
	},
	"transfer": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Transfer(ctx, flows.HandOverRequest{Actor: q.Actor, Key: key, TaskID: id, To: q.To, Comment: q.Comment})
	},
	"delegate": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Delegate(ctx, flows.HandOverRequest{Actor: q.Actor, Key: key, TaskID: id, To: q.To, Comment: q.Comment})
	},
	"add_signer": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.AddSigner(ctx, flows.AddSignerRequest{Actor: q.Actor, Key: key, TaskID: id, Users: q.Users,
			Position: flows.SignerPosition(q.Position), Comment: q.Comment})
	},
	"remove_signer": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.RemoveSigner(ctx, flows.RemoveSignerRequest{Actor: q.Actor, Key: key, TaskID: id, Comment: q.Comment})
	},
	"acknowledge": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Acknowledge(ctx, flows.AlertActionRequest{Actor: q.Actor, Key: key, TaskID: id, Comment: q.Comment})
	},
	"resolve": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Resolve(ctx, flows.AlertActionRequest{Actor: q.Actor, Key: key, TaskID: id, Comment: q.Comment})
	},
	"snooze": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Snooze(ctx, flows.AlertActionRequest{Actor: q.Actor, Key: key, TaskID: id, Comment: q.Comment, Until: q.Until})
	},
}

// instanceActions are what POST /api/v1/instances/{id}/actions can do to
// an instance as a whole.
var instanceActions = map[string]action{
	"withdraw": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Withdraw(ctx, flows.InstanceRequest{Actor: q.Actor, Key: key, InstanceID: id, Comment: q.Comment})
	},
	"cancel": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Cancel(ctx, flows.InstanceRequest{Actor: q.Actor, Key: key, InstanceID: id, Comment: q.Comment})
	},
	"resubmit": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Resubmit(ctx, flows.ResubmitRequest{Actor: q.Actor, Key: key, InstanceID: id, Form: q.Form, Comment: q.Comment})
	},
	"comment": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Comment(ctx, flows.CommentRequest{Actor: q.Actor, Key: key, InstanceID: id, Text: q.Comment})
	},
	"urge": func(ctx context.Context, e *flows.Engine, id, key string, q actionRequest) (flows.Result, error) {
		return e.Urge(ctx, flows.UrgeRequest{Actor: q.Actor, Key: key, InstanceID: id, Comment: q.Comment})
	},
}

func (a *API) taskDecision(w http.ResponseWriter, r *http.Request) {
	a.act(w, r, taskActions)
}

func (a *API) instanceAction(w http.ResponseWriter, r *http.Request) {
	a.act(w, r, instanceActions)
}

func (a *API) act(w http.ResponseWriter, r *http.Request, actions map[string]action) {
	var req actionRequest
	key, ok := a.decode(w, r, &req)
	if !ok {
		return
	}
	if missing := missingFields(map[string]string{"actor": req.Actor, "action": req.Action}); missing != "" {
		server.WriteError(w, http.StatusBadRequest, server.CodeBadRequest, missing)
		return
	}
	do, known := actions[req.Action]
	if !known {
		names := make([]string, 0, len(actions))
		for name := range actions {
			names = append(names, name)
		}
		slices.Sort(names)
		server.WriteError(w, http.StatusBadRequest, CodeUnknownAction,
			fmt.Sprintf("unknown action %q: use one of %s", req.Action, strings.Join(names, ", ")))
		return
	}
	res, err := do(r.Context(), a.engine, chi.URLParam(r, "id"), key, req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"result": res})
}
