package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// run builds one Change: it holds an instance's state as read, applies an
// operation and its consequences to it (tasks opened and closed, steps
// passed, the instance finished), and collects the rows to write.
type run struct {
	e    *Engine
	ctx  context.Context
	f    *Flow
	inst Instance
	st   *runState
	now  time.Time

	create  bool
	expect  int64 // the version read; the change writes expect+1
	version int64 // the version the change writes

	actor, onBehalfOf string
	proxyRules        *Proxies // read once per run, see proxies
	// forecast marks a run that is never applied (Engine.Forecast): it
	// stops at a condition on results no step has produced yet.
	forecast bool
	// quiet marks a change that alters nothing a card shows (a comment,
	// an urge, a reminder): it leaves runState.Shown as it was.
	quiet bool

	form      map[string]any // decoded lazily, see formValues
	formDirty bool
	applicant *User // loaded lazily; nil when the applicant is SystemActor
	appLoaded bool
	users     map[string]User

	newTasks  []Task
	updates   []TaskUpdate
	cancelled []string // timer ids
	timers    []Timer
	audit     []AuditEntry
	intents   []NotificationIntent
	keys      map[string]bool
	opened    []opening
	hops      int
}

// opening is a task made open by the change, announced to its assignee
// when the change is built if it is still open then.
type opening struct {
	task, user, step, cause string
}

// maxHops bounds the steps one change may pass through (skips, conditions,
// auto-approvals), so a flow that loops without people cannot spin forever.
const maxHops = 1000

// load reads an instance and its flow version into a run acted on by
// actor; the first attempt of an operation may get the instance from the
// engine's cache (see instanceCache).
//
// A non-empty actor must be a user of the org directory: an unknown id, or
// the engine's own SystemActor, is refused with ErrUnknownUser before
// anything is read, so a caller cannot act under a name nobody holds.
func (e *Engine) load(ctx context.Context, instanceID, actor string) (*run, error) {
	if actor != "" {
		if err := e.knownActor(ctx, actor); err != nil {
			return nil, err
		}
	}
	inst, ok := e.instances.get(ctx, instanceID)
	if !ok {
		var err error
		if inst, err = e.store.Instance(ctx, instanceID); err != nil {
			return nil, fmt.Errorf("instance %s: %w", instanceID, err)
		}
	}
	return e.runOf(ctx, inst, actor)
}

// runOf makes a run of an instance read already.
func (e *Engine) runOf(ctx context.Context, inst Instance, actor string) (*run, error) {
	st, err := decodeState(inst.State)
	if err != nil {
		return nil, fmt.Errorf("instance %s: %w", inst.ID, err)
	}
	return e.runWith(ctx, inst, actor, st)
}

// runWith is runOf with the instance's state decoded already: by runOf, or
// once for every reader of a kept view (decodedView), whose runs only read
// it.
func (e *Engine) runWith(ctx context.Context, inst Instance, actor string, st *runState) (*run, error) {
	if err := checkSeen(ctx, inst, st); err != nil {
		return nil, err
	}
	f, err := e.flow(ctx, inst.FlowID, inst.FlowVersion)
	if err != nil {
		return nil, err
	}
	return &run{e: e, ctx: ctx, f: f, inst: inst, st: st, now: e.now(),
		expect: inst.Version, version: inst.Version + 1, actor: actor,
		users: map[string]User{}, keys: map[string]bool{}}, nil
}

// knownActor checks that id names a user of the org directory. SystemActor
// is reserved for what the engine does by itself and is never a user.
func (e *Engine) knownActor(ctx context.Context, id string) error {
	if id == "" || id == SystemActor {
		return fmt.Errorf("%q: %w", id, ErrUnknownUser)
	}
	if _, err := e.orgUser(ctx, id); errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%s is not in the org directory: %w", id, ErrUnknownUser)
	} else if err != nil {
		return fmt.Errorf("user %s: %w", id, err)
	}
	return nil
}

// formValues returns the instance's form, decoded once per run.
func (r *run) formValues() (map[string]any, error) {
	if r.form != nil {
		return r.form, nil
	}
	if len(r.inst.Form) == 0 {
		r.form = map[string]any{}
		return r.form, nil
	}
	form, err := decodeObject(r.inst.Form)
	if err != nil {
		return nil, fmt.Errorf("instance %s: form: %w", r.inst.ID, err)
	}
	r.form = form
	return form, nil
}

// env is what the flow's conditions see.
func (r *run) env() (Env, error) {
	form, err := r.formValues()
	if err != nil {
		return Env{}, err
	}
	app, err := r.applicantUser()
	if err != nil {
		return Env{}, err
	}
	env := Env{Form: form, Context: r.st.Context, Results: r.st.Results, Applicant: Applicant{ID: r.inst.Applicant}}
	if app != nil {
		env.Applicant.Department, env.Applicant.Roles = app.Department, app.Roles
	}
	return env, nil
}

// user returns a user of the org directory, cached for the run.
func (r *run) user(id string) (User, error) {
	if u, ok := r.users[id]; ok {
		return u, nil
	}
	u, err := r.e.orgUser(r.ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", id, err)
	}
	r.users[id] = u
	return u, nil
}

func (r *run) applicantUser() (*User, error) {
	if r.appLoaded {
		return r.applicant, nil
	}
	r.appLoaded = true
	if r.inst.Applicant == SystemActor {
		return nil, nil
	}
	u, err := r.user(r.inst.Applicant)
	if err != nil {
		return nil, fmt.Errorf("applicant: %w", err)
	}
	r.applicant = &u
	return r.applicant, nil
}

// newTask adds a task of activation a for user.
func (r *run) newTask(a *activation, user, owner string, status TaskStatus, seq int) Task {
	r.st.Tasks++
	t := Task{ID: fmt.Sprintf("%s.t%04d", r.inst.ID, r.st.Tasks), InstanceID: r.inst.ID, StepID: a.Step, Assignee: user, OwnerID: owner,
		Status: status, Seq: seq, CreatedAt: r.now, Kind: TaskKindResubmit}
	if s := r.f.Step(a.Step); s != nil {
		t.Kind = string(s.Type)
		if s.SLA > 0 {
			t.DueAt = a.Since.Add(r.e.sla(s.SLA))
		}
	}
	r.newTasks = append(r.newTasks, t)
	if status == TaskOpen {
		r.opened = append(r.opened, opening{task: t.ID, user: user, step: a.Step})
	}
	return t
}

// applyTo sets on t what u changes, as the stores do: an empty Assignee
// keeps t's.
func (u TaskUpdate) applyTo(t *Task) {
	t.Status, t.Outcome, t.Comment, t.Result, t.DecidedBy, t.DecidedAt = u.Status, u.Outcome, u.Comment, u.Result, u.DecidedBy, u.DecidedAt
	if u.Assignee != "" {
		t.Assignee = u.Assignee
	}
}

// setTask moves a task from the status it had when read to u.Status. A task
// created or already moved by this change is amended in place, so one
// change never updates a task twice.
func (r *run) setTask(id string, from TaskStatus, u TaskUpdate) {
	u.ID, u.From = id, from
	if i := slices.IndexFunc(r.newTasks, func(t Task) bool { return t.ID == id }); i >= 0 {
		u.applyTo(&r.newTasks[i])
		return
	}
	if i := slices.IndexFunc(r.updates, func(x TaskUpdate) bool { return x.ID == id }); i >= 0 {
		u.From = r.updates[i].From
		r.updates[i] = u
		return
	}
	r.updates = append(r.updates, u)
}

// reopen makes a waiting seat open again and announces it.
func (r *run) reopen(a *activation, s *seat, cause string) {
	r.setTask(s.Task, s.Status, TaskUpdate{Status: TaskOpen})
	s.Status, s.Shown = TaskOpen, true
	r.opened = append(r.opened, opening{task: s.Task, user: s.User, step: a.Step, cause: cause})
}

// log appends an audit row by the run's actor.
func (r *run) log(taskID, action string, detail any) error {
	return r.logAs(r.actor, r.onBehalfOf, taskID, action, detail)
}

func (r *run) logAs(actor, onBehalfOf, taskID, action string, detail any) error {
	var raw json.RawMessage
	if detail != nil {
		b, err := marshal(detail)
		if err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
		raw = b
	}
	r.audit = append(r.audit, AuditEntry{InstanceID: r.inst.ID, TaskID: taskID, Actor: actor,
		OnBehalfOf: onBehalfOf, Action: action, Detail: raw, At: r.now})
	return nil
}

// change finishes the run: it announces the tasks still open, stores the
// state and returns the Change to apply.
func (r *run) change() (*Change, error) {
	for _, o := range r.opened {
		if r.stillOpen(o.task) {
			r.notifyHolder(NotificationIntent{Kind: NotifyTaskAssigned, Recipient: o.user, TaskID: o.task, StepID: o.step, Cause: o.cause})
		}
	}
	if !r.quiet {
		r.st.Shown = r.version
	}
	state, err := marshal(r.st)
	if err != nil {
		return nil, fmt.Errorf("instance %s: state: %w", r.inst.ID, err)
	}
	r.inst.State = state
	r.inst.UpdatedAt = r.now
	if r.formDirty {
		if r.inst.Form, err = marshal(storable(r.form)); err != nil {
			return nil, fmt.Errorf("instance %s: form: %w", r.inst.ID, err)
		}
	}
	outbox, err := r.outboxMessages()
	if err != nil {
		return nil, err
	}
	// A store cancels timers before it adds new ones, so a timer of a step
	// that started and ended within this change must not be added at all.
	timers := slices.DeleteFunc(r.timers, func(t Timer) bool { return slices.Contains(r.cancelled, t.ID) })
	inst := r.inst
	return &Change{Instance: &inst, Create: r.create, ExpectVersion: r.expect,
		NewTasks: r.newTasks, TaskUpdates: r.updates, CancelTimers: r.cancelled, NewTimers: timers,
		Audit: r.audit, Outbox: outbox}, nil
}

// openedNow reports a task opened by this change, not yet announced.
func (r *run) openedNow(task string) bool {
	return slices.ContainsFunc(r.opened, func(o opening) bool { return o.task == task })
}

func (r *run) stillOpen(task string) bool {
	_, s, delegated := r.st.find(task)
	switch {
	case s == nil:
		return false
	case delegated:
		return true // a delegate's task is open while it exists
	}
	return s.Status == TaskOpen
}

// result is the answer of a change that acted on task (may be "").
func (r *run) result(task, outcome string) Result {
	res := Result{InstanceID: r.inst.ID, Status: r.inst.Status, Version: r.version, TaskID: task,
		Outcome: outcome, By: r.actor, OnBehalfOf: r.onBehalfOf, At: r.now}
	for _, o := range r.opened {
		if r.stillOpen(o.task) && !slices.Contains(res.Opened, o.task) {
			res.Opened = append(res.Opened, o.task)
		}
	}
	return res
}

// build finishes the run into a change and its answer.
func (r *run) build(task, outcome string) (*Change, Result, error) {
	res := r.result(task, outcome)
	c, err := r.change()
	if err != nil {
		return nil, Result{}, err
	}
	return c, res, nil
}
