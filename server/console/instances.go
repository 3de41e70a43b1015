package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"cardflow/bot"
	"cardflow/flows"
)

// maxQuery bounds a filter value taken from the query string.
const maxQuery = 200

type instancesData struct {
	Flows     []flows.Definition
	Statuses  []flows.InstanceStatus
	Flow      string
	Status    string
	Applicant string
	Q         string
	Rows      []instanceRow
	Next      string // the next page's URL; "" on the last
}

func (c *Console) instances(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	d := instancesData{Statuses: statuses, Flow: param(q, "flow"), Status: param(q, "status"),
		Applicant: param(q, "applicant"), Q: param(q, "q")}
	if d.Q != "" {
		// An instance's id goes straight to it.
		if _, err := c.d.Engine.Instance(ctx, sessionOf(ctx).ActsAs, d.Q); err == nil {
			http.Redirect(w, r, prefix+"instances/"+url.PathEscape(d.Q), http.StatusSeeOther)
			return
		}
	}
	defs, err := c.definitions(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Flows = defs
	// The store looks for the title's words, so a page holds matches from
	// the whole list, not the matches among one page of everything.
	f := flows.InstanceFilter{FlowID: d.Flow, Status: flows.InstanceStatus(d.Status), Applicant: d.Applicant,
		TitleContains: d.Q, After: parseCursor(param(q, "after"))}
	page, err := c.d.Engine.ListInstances(ctx, flows.InstanceQuery{Viewer: sessionOf(ctx).ActsAs, Filter: f})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	en := c.en(r)
	for _, in := range page.Instances {
		row := instanceRow{InstanceSummary: in, Title: in.Instance.Title, Flow: in.FlowName}
		if f, err := c.d.Engine.Flow(ctx, in.Instance.FlowID, in.Instance.FlowVersion); err == nil {
			row.Title, row.Flow = f.TitleIn(in.Instance.Title, flows.ViewValues(in.Form), en), f.NameIn(en)
		}
		d.Rows = append(d.Rows, row)
	}
	if !page.Next.IsZero() {
		q.Set("after", page.Next.Token())
		d.Next = prefix + "instances?" + q.Encode()
	}
	c.render(w, r, http.StatusOK, "instances", "instances", d)
}

// param is a query value, cut to maxQuery bytes of valid text.
func param(q url.Values, name string) string {
	v := strings.TrimSpace(q.Get(name))
	if len(v) > maxQuery {
		v = v[:maxQuery]
	}
	return strings.ToValidUTF8(strings.ReplaceAll(v, "\x00", ""), "")
}

// parseCursor reads a page link's cursor (flows.Cursor.Token); one that
// is not a cursor starts the list over.
func parseCursor(s string) flows.Cursor {
	c, _ := flows.ParseCursorToken(s)
	return c
}

// instanceRow is a listed instance with its title and flow name in the
// reader's language.
type instanceRow struct {
	flows.InstanceSummary
	Title, Flow string
}

type instanceData struct {
	V flows.InstanceView
	// Title, Flow and Steps (step id → name) are in the reader's language.
	Title, Flow string
	Steps       map[string]string
	Form        []field
	Audit       []auditLine
	Cards       []bot.CardMessage
	Names       map[string]string
}

type field struct{ Label, Value string }

type auditLine struct {
	flows.AuditEntry
	Comment string
	// OnBehalf is the name of whom the actor acted for (代 钱多多).
	OnBehalf string
	// Says are what the entry's detail means, in the reader's words: the
	// step, who it went to, the fields changed.
	Says []string
	Raw  string
}

// auditDetail is what of an audit entry's detail the timeline says.
type auditDetail struct {
	Comment string              `json:"comment"`
	Step    string              `json:"step"`
	To      json.RawMessage     `json:"to"` // a user, a step (退回) or users (escalation)
	User    string              `json:"user"`
	Users   []string            `json:"users"`
	Changes []flows.FieldChange `json:"changes"`
}

// systemNotes are the comments the engine leaves, by their words.
var systemNotes = map[string]string{
	flows.NoteEscalated: "note.escalated", flows.NoteAutoApprove: "note.autoApprove", flows.NoteAutoReject: "note.autoReject",
}

// says writes an audit entry's detail as the timeline shows it.
func (c *Console) says(r *http.Request, f *flows.Flow, a flows.AuditEntry, d auditDetail) []string {
	l, en := c.locale(r), c.en(r)
	step := func(id string) string {
		if id == flows.ReturnToApplicant {
			return tr(l, "inst.applicantStep")
		}
		if s := f.Step(id); s != nil {
			return s.NameIn(en)
		}
		return id
	}
	people := func(ids []string) string {
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = c.userName(r, id)
		}
		return strings.Join(names, tr(l, "listSep"))
	}
	var out []string
	if d.Step != "" {
		out = append(out, tr(l, "audit.step", step(d.Step)))
	}
	var to string
	var tos []string
	switch {
	case json.Unmarshal(d.To, &to) == nil && to != "":
		switch {
		case a.Action == "return" && to == flows.ReturnToApplicant:
			out = append(out, tr(l, "audit.toApplicant"))
		case a.Action == "return":
			out = append(out, tr(l, "audit.toStep", step(to)))
		default:
			out = append(out, tr(l, "audit.to", people([]string{to})))
		}
	case json.Unmarshal(d.To, &tos) == nil && len(tos) > 0:
		out = append(out, tr(l, "audit.to", people(tos)))
	}
	if users := append(d.Users, d.User); len(users) > 0 && (len(users) > 1 || users[0] != "") {
		out = append(out, tr(l, "audit.users", people(slices.DeleteFunc(users, func(u string) bool { return u == "" }))))
	}
	for _, ch := range d.Changes {
		fd := f.Field(ch.Field)
		if fd == nil {
			continue
		}
		show := func(v any) string {
			if v == nil {
				return tr(l, "audit.empty")
			}
			return c.valueText(r, fd, v)
		}
		out = append(out, tr(l, "audit.changed", fd.LabelIn(en), show(ch.Old), show(ch.New)))
	}
	return out
}

func (c *Console) instance(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := chi.URLParam(r, "id")
	v, err := c.d.Engine.Instance(ctx, sessionOf(ctx).ActsAs, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f, err := c.d.Engine.Flow(ctx, v.Instance.FlowID, v.Instance.FlowVersion)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	en := c.en(r)
	d := instanceData{V: v, Names: map[string]string{}, Title: f.TitleIn(v.Instance.Title, flows.ViewValues(v.Form), en),
		Flow: f.NameIn(en), Steps: map[string]string{}}
	for _, s := range v.Current {
		d.Steps[s.StepID] = s.Name
		if step := f.Step(s.StepID); step != nil {
			d.Steps[s.StepID] = step.NameIn(en)
		} else if s.StepID == flows.ReturnToApplicant {
			d.Steps[s.StepID] = tr(c.locale(r), "inst.applicantStep")
		}
	}
	for _, fv := range v.Form {
		if fv.Set {
			d.Form = append(d.Form, field{Label: fv.Field.LabelIn(en), Value: c.valueText(r, fv.Field, fv.Value)})
		}
	}
	d.Form = append(d.Form, c.results(r, f, v)...)
	for _, a := range v.Audit {
		line := auditLine{AuditEntry: a, Raw: string(a.Detail)}
		var detail auditDetail
		if json.Unmarshal(a.Detail, &detail) == nil {
			line.Comment, line.Says = detail.Comment, c.says(r, f, a, detail)
			if key, ok := systemNotes[detail.Comment]; ok {
				line.Comment = tr(c.locale(r), key)
			}
		}
		if a.OnBehalfOf != "" {
			line.OnBehalf = c.userName(r, a.OnBehalfOf)
		}
		d.Audit = append(d.Audit, line)
		d.Names[a.Actor] = c.userName(r, a.Actor)
	}
	if c.d.Cards != nil {
		if d.Cards, err = c.d.Cards.InstanceCards(ctx, id); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	for _, k := range d.Cards {
		d.Names[k.Recipient] = c.userName(r, k.Recipient)
	}
	for _, t := range v.Tasks {
		d.Names[t.Assignee] = c.userName(r, t.Assignee)
	}
	d.Names[v.Instance.Applicant] = c.userName(r, v.Instance.Applicant)
	c.render(w, r, http.StatusOK, "instance", "instances", d)
}

// valueText shows a form value as a card would (flows.DisplayValue: money
// as ¥6,800.00, an option by its label, yes or no), a user by name and a
// table row by row.
func (c *Console) valueText(r *http.Request, fd *flows.Field, v any) string {
	switch fd.Type {
	case flows.FieldUser:
		if id, ok := v.(string); ok {
			return c.userName(r, id)
		}
	case flows.FieldTable:
		switch rows := v.(type) {
		case []any:
			return c.tableText(r, fd, rows)
		case []map[string]any:
			list := make([]any, len(rows))
			for i, row := range rows {
				list[i] = row
			}
			return c.tableText(r, fd, list)
		}
	}
	return flows.DisplayValue(fd, v, c.en(r))
}

// tableText shows a table's rows, one per line: each cell as "label value".
func (c *Console) tableText(r *http.Request, fd *flows.Field, rows []any) string {
	lines := make([]string, 0, len(rows))
	for _, row := range rows {
		cells, ok := row.(map[string]any)
		if !ok {
			continue
		}
		var parts []string
		for _, col := range fd.Columns {
			if cv, ok := cells[col.Key]; ok && cv != nil {
				parts = append(parts, col.LabelIn(c.en(r))+" "+c.valueText(r, col, cv))
			}
		}
		lines = append(lines, strings.Join(parts, " · "))
	}
	return strings.Join(lines, "\n")
}

// results are the result forms the instance's task steps were completed
// with, each field labelled with its step.
func (c *Console) results(r *http.Request, f *flows.Flow, v flows.InstanceView) []field {
	en := c.en(r)
	var out []field
	for _, s := range f.AllSteps() {
		got := v.Results[s.ID]
		for _, fd := range s.ResultForm {
			if x, ok := got[fd.Key]; ok {
				out = append(out, field{Label: s.NameIn(en) + " · " + fd.LabelIn(en), Value: c.valueText(r, fd, x)})
			}
		}
	}
	return out
}

func (c *Console) urgeInstance(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	_, err := c.d.Engine.Urge(r.Context(), flows.UrgeRequest{Actor: sessionOf(r.Context()).ActsAs, InstanceID: id,
		Comment: cut(r.PostFormValue("comment"))})
	c.done(w, r, prefix+"instances/"+url.PathEscape(id), "inst.urged", err)
}

// cut bounds a free-text form value; the engine checks it further.
func cut(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 1000 {
		s = strings.ToValidUTF8(s[:1000], "")
	}
	return s
}
