package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"cardflow/flows"
	"cardflow/server"
)

// maxPageSize bounds the limit parameter of the paged lists.
const maxPageSize = 200

// params reads a list's query parameters, remembering the first bad one,
// so a handler reads them all and then answers once.
type params struct {
	q   url.Values
	err string
}

// bad records the first bad parameter's problem.
func (p *params) bad(format string, args ...any) {
	if p.err == "" {
		p.err = fmt.Sprintf(format, args...)
	}
}

// str returns the named parameter, "" when absent.
func (p *params) str(name string) string { return p.q.Get(name) }

// time reads an RFC 3339 time; zero when absent.
func (p *params) time(name string) time.Time {
	s := p.q.Get(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.bad("the %s query parameter must be an RFC 3339 time such as 2026-11-30T09:00:00+08:00, not %q", name, s)
	}
	return t
}

// span reads from and to, from not after to.
func (p *params) span() (from, to time.Time) {
	from, to = p.time("from"), p.time("to")
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		p.bad("the to query parameter is before from")
	}
	return from, to
}

// limit reads the page size: 1 to most, def when absent.
func (p *params) limit(def, most int) int {
	s := p.q.Get("limit")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		p.bad("the limit query parameter must be an integer from 1 to %d", most)
	}
	return n
}

// cursor reads the cursor of a previous page; zero when absent.
func (p *params) cursor() flows.Cursor {
	s := p.q.Get("cursor")
	if s == "" {
		return flows.Cursor{}
	}
	c, ok := flows.ParseCursorToken(s)
	if !ok {
		p.bad("the cursor query parameter is not one this API gave: pass next_cursor unchanged")
	}
	return c
}

// answer writes the first bad parameter's 400 and reports whether it did.
func (p *params) answer(w http.ResponseWriter) bool {
	if p.err == "" {
		return false
	}
	server.WriteError(w, http.StatusBadRequest, CodeInvalidInput, p.err)
	return true
}

// instanceSummaryOut is a row of GET /api/v1/instances: an instance
// without its tasks and audit trail (GET /api/v1/instances/{id} has them).
type instanceSummaryOut struct {
	ID          string     `json:"id"`
	FlowID      string     `json:"flow_id"`
	FlowVersion int        `json:"flow_version"`
	FlowName    string     `json:"flow_name"`
	Title       string     `json:"title"`
	Status      string     `json:"status"`
	Applicant   string     `json:"applicant"`
	Version     int64      `json:"version"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ViewedAs    string     `json:"viewed_as,omitempty"`
	Form        []fieldOut `json:"form"`
}

// summaryJSON is an instance as a list row, and the head of its whole view.
func summaryJSON(in flows.Instance, flowName, viewedAs string, form []flows.FieldView) instanceSummaryOut {
	return instanceSummaryOut{ID: in.ID, FlowID: in.FlowID, FlowVersion: in.FlowVersion, FlowName: flowName,
		Title: in.Title, Status: string(in.Status), Applicant: in.Applicant, Version: in.Version,
		CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt, ViewedAs: viewedAs, Form: fieldsJSON(form)}
}

// listInstances answers GET /api/v1/instances: a page of the instances
// the viewer may see (as GET /api/v1/instances/{id} would show them),
// newest first, filtered by flow, status, applicant, words of the title
// and creation time.
func (a *API) listInstances(w http.ResponseWriter, r *http.Request) {
	p := params{q: r.URL.Query()}
	viewer := p.str("viewer")
	if viewer == "" {
		p.bad("the viewer query parameter is required: only the instances that user may see are listed, as they may see them")
	}
	status := flows.InstanceStatus(p.str("status"))
	if status != "" && !knownInstanceStatus(status) {
		p.bad("the status query parameter %q is not one of running, approved, rejected, completed, withdrawn, cancelled", status)
	}
	title := p.str("title")
	if utf8.RuneCountInString(title) > flows.MaxTitleLength {
		// Its encoding was checked with every query parameter's.
		p.bad("the title query parameter is longer than %d characters, the longest title", flows.MaxTitleLength)
	}
	from, to := p.span()
	f := flows.InstanceFilter{FlowID: p.str("flow"), Applicant: p.str("applicant"), Status: status, TitleContains: title,
		From: from, To: to, Limit: p.limit(flows.DefaultPageSize, maxPageSize), After: p.cursor()}
	if p.answer(w) {
		return
	}
	page, err := a.engine.ListInstances(r.Context(), flows.InstanceQuery{Viewer: viewer, Filter: f})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]instanceSummaryOut, len(page.Instances))
	for i, s := range page.Instances {
		out[i] = summaryJSON(s.Instance, s.FlowName, s.ViewedAs, s.Form)
	}
	writePage(w, "instances", out, page.Next)
}

// writePage answers a page of a list under name, with next_cursor unless
// it is the last.
func writePage(w http.ResponseWriter, name string, rows any, next flows.Cursor) {
	body := map[string]any{name: rows}
	if c := next.Token(); c != "" {
		body["next_cursor"] = c
	}
	server.WriteJSON(w, http.StatusOK, body)
}

func knownInstanceStatus(s flows.InstanceStatus) bool {
	switch s {
	case flows.InstanceRunning, flows.InstanceApproved, flows.InstanceRejected, flows.InstanceCompleted,
		flows.InstanceWithdrawn, flows.InstanceCancelled:
		return true
	}
	return false
}
