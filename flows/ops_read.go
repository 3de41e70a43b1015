package flows

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// InstanceView is an instance as one viewer may see it: its form without
// the fields hidden from the viewer's step, where it stands, its tasks and
// its audit trail.
type InstanceView struct {
	// Instance is the stored instance with Form and State cleared: read
	// the form from Form, which honours field access.
	Instance Instance
	FlowName string
	// ViewedAs is the step whose field access applied; StartForm ("") for
	// the applicant and administrators, who see every field.
	ViewedAs string
	Form     []FieldView
	// Current are the steps waiting for people, in the order they started.
	Current []StepView
	// Results are the result forms task steps were completed with.
	Results map[string]map[string]any
	// Tasks are every task of the instance, oldest first.
	Tasks []Task
	Audit []AuditEntry
}

// StepView is a step waiting for people.
type StepView struct {
	StepID     string
	Name       string
	Type       StepType
	Sign       Sign
	Sequential bool
	Since      time.Time
	// Tasks are its undecided tasks: open ones, and waiting ones (a later
	// signer of 依次审批, a delegated or 前加签 holder).
	Tasks []Task
}

// TaskQuery selects a user's tasks for their to-do list.
type TaskQuery struct {
	Assignee string
	// Status selects the tasks' status; "" means open.
	Status TaskStatus
	// FlowID, From and To filter as TaskFilter's do.
	FlowID   string
	From, To time.Time
	// After is the previous page's Next; zero for the first page.
	After Cursor
	Limit int // 0 means 100
}

// TaskPage is one page of a user's tasks, oldest first.
type TaskPage struct {
	Tasks []TaskView
	// Next goes on with the list (as the next query's After); zero at its
	// end. A page may hold fewer tasks than asked for and still have one.
	Next Cursor
}

// TaskView is one task of a to-do list, with what its card shows.
type TaskView struct {
	Task      Task
	FlowID    string
	FlowName  string
	Title     string
	Applicant string
	StepName  string
	// OnBehalfOf is set when the task is listed because the querying user
	// is the leave proxy (代理) of its assignee.
	OnBehalfOf string
	// Form is the instance's form as the task's step may see it.
	Form []FieldView
}

// Instance returns an instance as viewer may see it. The applicant, the
// admin role, everyone who has or had a task in it (and their proxies) and
// everyone it was copied to may view it; others get ErrNotParticipant.
func (e *Engine) Instance(ctx context.Context, viewer, instanceID string) (InstanceView, error) {
	r, tasks, audit, err := e.readView(ctx, viewer, instanceID)
	if err != nil {
		return InstanceView{}, fmt.Errorf("flows: view %s: %w", instanceID, err)
	}
	step, ok, err := r.viewAs(viewer, tasks)
	if err != nil || !ok {
		return InstanceView{}, fmt.Errorf("flows: view %s as %s: %w", instanceID, viewer, cmp.Or(err, ErrNotParticipant))
	}
	form, err := r.formValues()
	if err != nil {
		return InstanceView{}, fmt.Errorf("flows: view %s: %w", instanceID, err)
	}
	fields, err := r.f.FormView(step, form)
	if err != nil {
		return InstanceView{}, fmt.Errorf("flows: view %s: %w", instanceID, err)
	}
	v := InstanceView{Instance: r.inst, FlowName: r.f.Name, ViewedAs: step, Form: fields,
		Results: maps.Clone(r.st.Results), Tasks: tasks, Audit: r.f.visibleAudit(step, audit)}
	v.Instance.Form, v.Instance.State = nil, nil
	byID := map[string]Task{}
	for _, t := range tasks {
		byID[t.ID] = t
	}
	for _, a := range r.st.Active {
		sv := StepView{StepID: a.Step, Name: a.Step, Since: a.Since}
		if s := r.f.Step(a.Step); s != nil {
			sv.Name, sv.Type, sv.Sign, sv.Sequential = s.Name, s.Type, s.Sign, s.Sequential
		}
		for _, s := range a.Seats {
			if s.undecided() {
				sv.Tasks = append(sv.Tasks, byID[s.Task])
			}
			if s.Delegate != nil {
				sv.Tasks = append(sv.Tasks, byID[s.Delegate.Task])
			}
		}
		v.Current = append(v.Current, sv)
	}
	return v, nil
}

// ViewReader is a Store that reads an instance with its tasks (oldest
// first, at most taskLimit) and its audit trail at once, in one round trip
// to the database; Engine.Instance uses it when the store offers it (a
// card rendered after every click reads all three). The instance is
// ErrNotFound as Store.Instance has it.
type ViewReader interface {
	InstanceView(ctx context.Context, id string, taskLimit int) (Instance, []Task, []AuditEntry, error)
}

// readView reads what a view of an instance shows: the instance as a run
// for viewer, its tasks and its audit trail. The run shares its decoded
// state and form with the view's other readers: it is only to be read.
func (e *Engine) readView(ctx context.Context, viewer, instanceID string) (*run, []Task, []AuditEntry, error) {
	vr, ok := e.store.(ViewReader)
	if !ok {
		r, err := e.load(ctx, instanceID, viewer)
		if err != nil {
			return nil, nil, nil, err
		}
		tasks, err := r.tasks()
		if err != nil {
			return nil, nil, nil, err
		}
		audit, err := e.store.Audit(ctx, instanceID)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("audit: %w", err)
		}
		return r, tasks, audit, nil
	}
	if viewer != "" {
		if err := e.knownActor(ctx, viewer); err != nil {
			return nil, nil, nil, err
		}
	}
	kept, ok := e.views.get(ctx, instanceID)
	if !ok {
		var err error
		kept, err = e.views.read(ctx, instanceID, func() (viewSnapshot, error) {
			inst, tasks, audit, err := vr.InstanceView(ctx, instanceID, maxInstanceTasks)
			return newSnapshot(inst, tasks, audit), err
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("instance %s: %w", instanceID, err)
		}
	}
	st, form, err := kept.decoded.decode(kept.inst)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("instance %s: %w", instanceID, err)
	}
	r, err := e.runWith(ctx, kept.inst, viewer, st)
	if err != nil {
		return nil, nil, nil, err
	}
	r.form = form
	return r, kept.tasks, kept.audit, nil
}

// viewAs returns the step whose field access viewer sees the instance
// with, and whether they may see it at all.
func (r *run) viewAs(viewer string, tasks []Task) (string, bool, error) {
	if viewer == r.inst.Applicant {
		return StartForm, true, nil
	}
	admin, err := r.isAdmin(viewer)
	if err != nil || admin {
		return StartForm, admin, err
	}
	// Their own task decides, an open one first, else the latest.
	var mine *Task
	for i, t := range tasks {
		if t.Assignee != viewer && !r.proxies().ActsFor(viewer, t.Assignee, r.f.ID, r.now) {
			continue
		}
		if mine == nil || mine.Status != TaskOpen || t.Status == TaskOpen {
			mine = &tasks[i]
		}
	}
	switch {
	case mine != nil && mine.StepID == applicantStep:
		return StartForm, true, nil
	case mine != nil:
		return mine.StepID, true, nil
	}
	if step, ok := r.st.Viewers[viewer]; ok {
		return step, true, nil
	}
	return "", false, nil
}

// Tasks lists a user's tasks, oldest first, each with the form as its step
// may see it. Open tasks of users the querying user is the leave proxy of
// are listed too, with OnBehalfOf set. It is the first page of TaskPage.
func (e *Engine) Tasks(ctx context.Context, q TaskQuery) ([]TaskView, error) {
	p, err := e.TaskPage(ctx, q)
	return p.Tasks, err
}

// TaskPage returns a page of a user's tasks, as Tasks lists them.
func (e *Engine) TaskPage(ctx context.Context, q TaskQuery) (TaskPage, error) {
	status := cmp.Or(q.Status, TaskOpen)
	limit := cmp.Or(q.Limit, 100)
	// One more than a page is read, to learn whether the list goes on.
	filter := func(user string) TaskFilter {
		return TaskFilter{Assignee: user, Status: status, FlowID: q.FlowID, From: q.From, To: q.To,
			After: q.After, Limit: limit + 1}
	}
	tasks, err := e.store.Tasks(ctx, filter(q.Assignee))
	if err != nil {
		return TaskPage{}, fmt.Errorf("flows: tasks of %s: %w", q.Assignee, err)
	}
	var views []TaskView
	for _, t := range tasks {
		views = append(views, TaskView{Task: t})
	}
	now := e.now()
	rules := e.proxiesNow(ctx)
	if status == TaskOpen {
		seen := map[string]bool{}
		for _, rule := range rules.For(q.Assignee, now) {
			if seen[rule.User] {
				continue
			}
			seen[rule.User] = true
			theirs, err := e.store.Tasks(ctx, filter(rule.User))
			if err != nil {
				return TaskPage{}, fmt.Errorf("flows: tasks of %s: %w", rule.User, err)
			}
			for _, t := range theirs {
				views = append(views, TaskView{Task: t, OnBehalfOf: rule.User})
			}
		}
		slices.SortStableFunc(views, func(a, b TaskView) int {
			return cmp.Or(a.Task.CreatedAt.Compare(b.Task.CreatedAt), cmp.Compare(a.Task.ID, b.Task.ID))
		})
	}
	var page TaskPage
	if len(views) > limit {
		views = views[:limit]
		last := views[limit-1].Task
		page.Next = Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	runs := map[string]*run{}
	for i := range views {
		if err := e.describe(ctx, &views[i], runs); err != nil {
			return TaskPage{}, fmt.Errorf("flows: tasks of %s: %w", q.Assignee, err)
		}
	}
	// A rule limited to some flows lists only their tasks.
	page.Tasks = slices.DeleteFunc(views, func(v TaskView) bool {
		return v.OnBehalfOf != "" && !rules.ActsFor(q.Assignee, v.OnBehalfOf, v.FlowID, now)
	})
	return page, nil
}

// describe fills a task view from its instance, read once per instance.
func (e *Engine) describe(ctx context.Context, v *TaskView, runs map[string]*run) error {
	r := runs[v.Task.InstanceID]
	if r == nil {
		var err error
		if r, err = e.load(ctx, v.Task.InstanceID, ""); err != nil {
			return err
		}
		runs[v.Task.InstanceID] = r
	}
	v.FlowID, v.FlowName, v.Title, v.Applicant = r.f.ID, r.f.Name, r.inst.Title, r.inst.Applicant
	step := v.Task.StepID
	if s := r.f.Step(step); s != nil {
		v.StepName = s.Name
	} else {
		step = StartForm // the applicant's resubmit task shows the whole form
	}
	form, err := r.formValues()
	if err != nil {
		return err
	}
	v.Form, err = r.f.FormView(step, form)
	return err
}

// visibleAudit hides, in the field changes audit entries record (修改记录),
// the fields stepID may not see: an approver's edit of a field hidden from
// the warehouse must not show the warehouse its old and new value.
func (f *Flow) visibleAudit(stepID string, audit []AuditEntry) []AuditEntry {
	for i, e := range audit {
		if !bytes.Contains(e.Detail, []byte(`"changes"`)) {
			continue
		}
		var d map[string]json.RawMessage
		var changes []FieldChange
		if json.Unmarshal(e.Detail, &d) != nil || json.Unmarshal(d["changes"], &changes) != nil {
			audit[i].Detail = nil // unreadable: show nothing rather than too much
			continue
		}
		shown := slices.DeleteFunc(changes, func(c FieldChange) bool { return f.Access(stepID, c.Field) == AccessHidden })
		if len(shown) == 0 {
			delete(d, "changes")
		} else {
			d["changes"], _ = json.Marshal(shown)
		}
		audit[i].Detail, _ = json.Marshal(d)
	}
	return audit
}
