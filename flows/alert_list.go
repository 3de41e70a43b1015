package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AlertState is where an alert group stands, as an operator lists it.
type AlertState string

// Alert states. Only Resolved is final.
const (
	// AlertStateOpen fires and pages (or waits for group_wait to page).
	AlertStateOpen AlertState = "open"
	// AlertStateAcknowledged: a holder is on it; nobody is paged again.
	AlertStateAcknowledged AlertState = "acknowledged"
	// AlertStateSnoozed: silenced until AlertSummary.SnoozedUntil.
	AlertStateSnoozed AlertState = "snoozed"
	// AlertStateResolved: resolved by a holder or by itself, or its instance
	// ended (was cancelled) while it fired.
	AlertStateResolved AlertState = "resolved"
)

// AlertStates are the states an alert may be in, in the order of its life.
var AlertStates = []AlertState{AlertStateOpen, AlertStateAcknowledged, AlertStateSnoozed, AlertStateResolved}

// AlertQuery selects a page of the alerts one user may see: the instances
// of the flows with an alert step whose alert step has started.
type AlertQuery struct {
	// Viewer is who lists; alerts whose instance they may not view are
	// left out.
	Viewer string
	// State keeps the alerts in that state; "" keeps every alert not yet
	// resolved.
	State AlertState
	// FlowID keeps the alerts of one flow.
	FlowID string
	// From and To bound the instance's CreatedAt: From <= CreatedAt < To.
	From, To time.Time
	// After and Limit page the list as InstanceFilter's do.
	After Cursor
	Limit int
}

// AlertPage is one page of a list of alerts, newest first.
type AlertPage struct {
	Alerts []AlertSummary
	// Next goes on with the list (as the next query's After); zero at its
	// end. A page may hold fewer rows than asked for and still have a Next.
	Next Cursor
}

// AlertSummary is one alert group: an instance of an alert flow with the
// state of its alert step.
type AlertSummary struct {
	// Instance is the stored instance with Form and State cleared.
	Instance Instance
	FlowName string
	// Step and StepName name the alert step.
	Step, StepName string
	State          AlertState
	// Group are the group_by values the group's alerts share.
	Group map[string]string
	// Alerts are the group's alerts (Resolved set on those that cleared).
	Alerts []AlertItem
	// Firing counts the alerts not resolved.
	Firing int
	// Since is when the group fired.
	Since time.Time
	// PagedAt is when its holders were last paged; zero while the group
	// waits out group_wait.
	PagedAt time.Time
	// Paged are the users who hold a task of the alert, the first on-call
	// level and every escalation level since, in the order they were
	// given one; empty while nobody was paged yet.
	Paged []string
	// Task is the viewer's open task of the alert, the one to acknowledge,
	// snooze or resolve it with; "" when they hold none.
	Task string
	// Level counts the escalation levels paged; 0 is the first on-call level.
	Level        int
	AckBy        string
	AckAt        time.Time
	SnoozedBy    string
	SnoozedUntil time.Time
}

// ListAlerts returns a page of the alerts q's viewer may see, newest first.
func (e *Engine) ListAlerts(ctx context.Context, q AlertQuery) (AlertPage, error) {
	if q.State != "" && !slices.Contains(AlertStates, q.State) {
		names := make([]string, len(AlertStates))
		for i, s := range AlertStates {
			names[i] = string(s)
		}
		reason := fmt.Sprintf("%q is not one of %s", q.State, strings.Join(names, ", "))
		return AlertPage{}, fmt.Errorf("flows: list alerts: %w", &InputError{Field: "state", Reason: reason})
	}
	if err := e.knownActor(ctx, q.Viewer); err != nil {
		return AlertPage{}, fmt.Errorf("flows: list alerts: %w", err)
	}
	ids, err := e.alertFlows(ctx)
	if err != nil {
		return AlertPage{}, fmt.Errorf("flows: list alerts: %w", err)
	}
	if q.FlowID != "" {
		ids = slices.DeleteFunc(ids, func(id string) bool { return id != q.FlowID })
	}
	if len(ids) == 0 {
		return AlertPage{}, nil
	}
	f := InstanceFilter{FlowIDs: ids, From: q.From, To: q.To, After: q.After, Limit: q.Limit}
	if q.State != AlertStateResolved {
		// An alert that still fires belongs to a running instance; a
		// resolved one may belong to any (it went on to its next step).
		f.Status = InstanceRunning
	}
	var page AlertPage
	next, err := e.scan(ctx, f, func(inst Instance) (bool, error) {
		s, ok, err := e.alertSummary(ctx, q, inst)
		if ok {
			page.Alerts = append(page.Alerts, s)
		}
		return ok, err
	})
	if err != nil {
		return AlertPage{}, fmt.Errorf("flows: list alerts: %w", err)
	}
	page.Next = next
	return page, nil
}

// alertFlows returns the ids of the alert flows, as Alert routes them.
func (e *Engine) alertFlows(ctx context.Context) ([]string, error) {
	fs, err := e.latestAlertFlows(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(fs))
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	return ids, nil
}

// versionedFlow is a flow at one of its versions.
type versionedFlow struct {
	*Flow
	Version int
}

// latestAlertFlows returns the alert flows: those whose latest version
// starts at an alert step, each at that version.
func (e *Engine) latestAlertFlows(ctx context.Context) ([]versionedFlow, error) {
	defs, err := e.store.Definitions(ctx)
	if err != nil {
		return nil, fmt.Errorf("definitions: %w", err)
	}
	var out []versionedFlow
	for _, d := range defs {
		f, err := e.flow(ctx, d.FlowID, d.Version)
		if err != nil {
			return nil, err
		}
		if len(f.Steps) > 0 && f.Steps[0].Type == StepAlert {
			out = append(out, versionedFlow{f, d.Version})
		}
	}
	return out, nil
}

// alertSummary returns inst's alert, and whether it is in q's state and
// q's viewer may see it.
func (e *Engine) alertSummary(ctx context.Context, q AlertQuery, inst Instance) (AlertSummary, bool, error) {
	r, err := e.runOf(unseen(ctx), inst, q.Viewer)
	if err != nil {
		return AlertSummary{}, false, err
	}
	st := r.st.Alert
	if st == nil {
		return AlertSummary{}, false, nil // the alert step has not started
	}
	state := alertStateOf(r)
	if state != q.State && (q.State != "" || state == AlertStateResolved) {
		return AlertSummary{}, false, nil
	}
	tasks, err := r.tasks()
	if err != nil {
		return AlertSummary{}, false, err
	}
	if _, ok, err := r.viewAs(q.Viewer, tasks); err != nil || !ok {
		return AlertSummary{}, false, err
	}
	s := AlertSummary{Instance: inst, FlowName: r.f.Name, Step: st.Step, State: state, Group: st.Group,
		Alerts: r.alertItems(), Since: st.Since, PagedAt: st.Paged, Level: st.Level, AckBy: st.AckBy, AckAt: st.AckAt}
	s.Instance.Form, s.Instance.State = nil, nil
	if state == AlertStateSnoozed {
		s.SnoozedBy, s.SnoozedUntil = st.SnoozedBy, st.SnoozedUntil
	}
	if step := r.f.Step(st.Step); step != nil {
		s.StepName = step.Name
	}
	for _, x := range st.Alerts {
		if !x.resolved() {
			s.Firing++
		}
	}
	for _, t := range tasks {
		if t.StepID != st.Step || t.Kind != string(StepAlert) {
			continue
		}
		if !st.Paged.IsZero() && !slices.Contains(s.Paged, t.Assignee) {
			s.Paged = append(s.Paged, t.Assignee)
		}
		if t.Assignee == q.Viewer && t.Status == TaskOpen {
			s.Task = t.ID
		}
	}
	return s, true, nil
}

// alertStateOf says where the run's alert stands.
func alertStateOf(r *run) AlertState {
	st := r.st.Alert
	switch a, _ := r.alertRun(); {
	case a == nil:
		return AlertStateResolved
	case st.AckBy != "":
		return AlertStateAcknowledged
	case st.SnoozedUntil.After(r.now):
		return AlertStateSnoozed
	}
	return AlertStateOpen
}
