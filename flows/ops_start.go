package flows

import (
	"cmp"
	"context"
	"fmt"
	"strings"
)

// StartRequest starts an instance of the latest version of a flow.
type StartRequest struct {
	// Actor is the applicant, a user of the org directory. It is empty
	// when Event is set.
	Actor string
	// Event names the trigger event that starts the instance for nobody in
	// particular (an adapter's "order.paid"): its applicant is the engine's
	// SystemActor, which has no one to return to, and applicant-relative
	// rules fall back. Only code in this process sets it; the API does not
	// expose it, so the reserved actor never comes from outside.
	Event string
	// Key is the idempotency key (an event id, an Idempotency-Key): a
	// replayed start returns the first instance instead of a second one.
	Key    string `json:"-"`
	FlowID string
	// Title names the instance in lists and cards; the flow's name if "".
	Title string
	Form  map[string]any
	// Context is what the trigger event supplies to conditions (context.x).
	Context map[string]any
}

// Start validates the form against the flow's latest version and starts an
// instance of it: steps whose when is false are skipped, conditions route,
// approvers the flow's auto_skip names are approved by the system, and the
// first steps that wait for people get their tasks, SLA timers and
// notification intents, all in one change. The Result's Opened lists the
// open tasks.
func (e *Engine) Start(ctx context.Context, req StartRequest) (Result, error) {
	return e.mutate(ctx, "start", req.Key, req.FlowID, req, func(ctx context.Context) (*Change, Result, error) {
		r, err := e.startRun(ctx, req, e.newID)
		if err != nil {
			return nil, Result{}, err
		}
		if err := r.enter(r.f.Steps[0]); err != nil {
			return nil, Result{}, err
		}
		return r.build("", "start")
	})
}

// startRun checks a start request and makes the run of a new instance
// named by newID (called once the request passed its checks), its start
// logged, ready to enter its first step. Start and Forecast
// share it, so a forecast refuses what a start would refuse, in the same
// words, and walks the same run.
func (e *Engine) startRun(ctx context.Context, req StartRequest, newID func() string) (*run, error) {
	applicant := req.Actor
	switch {
	case req.Event != "" && req.Actor != "":
		return nil, fmt.Errorf("an instance started by event %s has no applicant, got %s: %w", req.Event, req.Actor, ErrInvalidTarget)
	case req.Event != "":
		applicant = SystemActor
	default:
		if err := e.knownActor(ctx, req.Actor); err != nil {
			return nil, fmt.Errorf("applicant: %w", err)
		}
	}
	f, version, err := e.latestFlow(ctx, req.FlowID)
	if err != nil {
		return nil, err
	}
	if f.Steps[0].Type == StepAlert {
		// Alert groups live under ids derived from their events, which is
		// how repeats and resolving events find them; a hand-started one
		// would be found by none.
		return nil, fmt.Errorf("an alert flow is opened by its events (%s), not started: %w",
			f.Trigger.Event, ErrNotApplicable)
	}
	form, err := f.ValidateForm(req.Form)
	if err != nil {
		return nil, err
	}
	if err := e.checkUsers(ctx, f.Form, form); err != nil {
		return nil, err
	}
	r := &run{e: e, ctx: ctx, f: f, st: &runState{Context: req.Context}, now: e.now(),
		create: true, version: 1, actor: applicant, form: form, formDirty: true,
		users: map[string]User{}, keys: map[string]bool{}}
	title, err := e.title(ctx, f, req, applicant, form)
	if err != nil {
		return nil, err
	}
	r.inst = Instance{ID: newID(), FlowID: f.ID, FlowVersion: version, Status: InstanceRunning,
		Applicant: applicant, Title: title, CreatedAt: r.now, UpdatedAt: r.now}
	if err := r.log("", "start", startDetail{Flow: f.ID, Version: version}); err != nil {
		return nil, err
	}
	return r, nil
}

// title is the instance's title: the one given, else the flow's title
// template over the form, else "<applicant's name>提交的<flow name>" (the
// flow's name alone for an instance an event started).
func (e *Engine) title(ctx context.Context, f *Flow, req StartRequest, applicant string, form map[string]any) (string, error) {
	switch {
	case req.Title != "":
		return strings.TrimSpace(req.Title), nil
	case f.Title != nil:
		if t := f.Title.Render(form); t != "" {
			return t, nil
		}
	}
	if applicant == SystemActor {
		return f.Name, nil
	}
	u, err := e.orgUser(ctx, applicant)
	if err != nil {
		return "", fmt.Errorf("applicant %s: %w", applicant, err)
	}
	return truncate(cmp.Or(u.Name, u.ID)+submittedBy+f.Name, MaxTitleLength), nil
}

type startDetail struct {
	Flow    string `json:"flow"`
	Version int    `json:"version"`
}
