package api

import (
	"maps"
	"net/http"
	"time"

	"cardflow/flows"
)

// alertOut is a row of GET /api/v1/alerts: one alert group, its state and
// who was paged. The alerts' labels (the instance's form) are left out:
// GET /api/v1/instances/{id} shows them as the viewer may see them.
type alertOut struct {
	ID              string            `json:"id"`
	FlowID          string            `json:"flow_id"`
	FlowName        string            `json:"flow_name"`
	Title           string            `json:"title"`
	Status          string            `json:"status"`
	State           string            `json:"state"`
	Step            string            `json:"step"`
	StepName        string            `json:"step_name"`
	Group           map[string]string `json:"group"`
	Items           int               `json:"items"`
	Firing          int               `json:"firing"`
	Alerts          []alertItemOut    `json:"alerts"`
	EscalationLevel int               `json:"escalation_level"`
	Paged           []string          `json:"paged"`
	TaskID          string            `json:"task_id,omitempty"`
	PagedAt         *time.Time        `json:"paged_at,omitempty"`
	AckBy           string            `json:"acknowledged_by,omitempty"`
	AckAt           *time.Time        `json:"acknowledged_at,omitempty"`
	SnoozedBy       string            `json:"snoozed_by,omitempty"`
	SnoozedUntil    *time.Time        `json:"snoozed_until,omitempty"`
	Since           time.Time         `json:"since"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

type alertItemOut struct {
	Key      string    `json:"key"`
	Count    int       `json:"count"`
	FirstAt  time.Time `json:"first_at"`
	LastAt   time.Time `json:"last_at"`
	Resolved bool      `json:"resolved"`
}

func alertJSON(s flows.AlertSummary) alertOut {
	in := s.Instance
	out := alertOut{ID: in.ID, FlowID: in.FlowID, FlowName: s.FlowName, Title: in.Title, Status: string(in.Status),
		State: string(s.State), Step: s.Step, StepName: s.StepName, Group: map[string]string{}, Items: len(s.Alerts),
		Firing: s.Firing, Alerts: make([]alertItemOut, len(s.Alerts)), EscalationLevel: s.Level,
		Paged: append([]string{}, s.Paged...), TaskID: s.Task, PagedAt: optTime(s.PagedAt), AckBy: s.AckBy, AckAt: optTime(s.AckAt),
		SnoozedBy: s.SnoozedBy, SnoozedUntil: optTime(s.SnoozedUntil), Since: s.Since,
		CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt}
	maps.Copy(out.Group, s.Group)
	for i, x := range s.Alerts {
		out.Alerts[i] = alertItemOut{Key: x.Key, Count: x.Count, FirstAt: x.FirstAt, LastAt: x.LastAt, Resolved: x.Resolved}
	}
	return out
}

// listAlerts answers GET /api/v1/alerts: a page of the alert groups the
// viewer may see, newest first, those not resolved unless state says
// otherwise, filtered by flow and creation time. A holder acts on one
// with their task (task_id): POST /api/v1/tasks/{id}/decision with
// acknowledge, snooze or resolve.
func (a *API) listAlerts(w http.ResponseWriter, r *http.Request) {
	p := params{q: r.URL.Query()}
	viewer := p.str("viewer")
	if viewer == "" {
		p.bad("the viewer query parameter is required: only the alerts that user may see are listed")
	}
	// The engine checks the state.
	state := flows.AlertState(p.str("state"))
	from, to := p.span()
	q := flows.AlertQuery{Viewer: viewer, State: state, FlowID: p.str("flow"), From: from, To: to,
		Limit: p.limit(flows.DefaultPageSize, maxPageSize), After: p.cursor()}
	if p.answer(w) {
		return
	}
	page, err := a.engine.ListAlerts(r.Context(), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]alertOut, len(page.Alerts))
	for i, s := range page.Alerts {
		out[i] = alertJSON(s)
	}
	writePage(w, "alerts", out, page.Next)
}
