package sim

import (
	"errors"
	"net/http"

	"cardflow/flows"
)

// flowJSON is one flow of GET /api/flows: what the page needs to build its
// start form.
type flowJSON struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Version     int         `json:"version"`
	Fields      []fieldJSON `json:"fields"`
}

// fieldJSON is one typed form field; a table's columns are fields too.
type fieldJSON struct {
	Key      string          `json:"key"`
	Label    string          `json:"label"`
	Help     string          `json:"help,omitempty"`
	Type     flows.FieldType `json:"type"`
	Required bool            `json:"required"`
	Options  []string        `json:"options,omitempty"`
	// OptionLabels are what people read for some options.
	OptionLabels map[string]string `json:"option_labels,omitempty"`
	Min          string            `json:"min,omitempty"`
	Max          string            `json:"max,omitempty"`
	MaxLength    int               `json:"max_length,omitempty"`
	Pattern      string            `json:"pattern,omitempty"`
	MaxRows      int               `json:"max_rows,omitempty"`
	Columns      []fieldJSON       `json:"columns,omitempty"`
}

// fieldsJSON are fields as the page's reader reads them: English labels
// and options for a page in English (en), where the flow file has them.
func fieldsJSON(fields []*flows.Field, en bool) []fieldJSON {
	out := make([]fieldJSON, 0, len(fields))
	for _, f := range fields {
		labels := f.OptionLabels
		if en {
			labels = f.OptionLabelsEN
		}
		fj := fieldJSON{Key: f.Key, Label: f.LabelIn(en), Help: f.Help, Type: f.Type, Required: f.Required,
			Options: f.Options, OptionLabels: labels, MaxLength: f.MaxLength, Pattern: f.PatternSource, MaxRows: f.MaxRows}
		if f.Min != nil {
			fj.Min = f.Min.String()
		}
		if f.Max != nil {
			fj.Max = f.Max.String()
		}
		if f.Type == flows.FieldTable {
			fj.Columns = fieldsJSON(f.Columns, en)
		}
		out = append(out, fj)
	}
	return out
}

// flows lists the latest version of every flow a person can start; alert
// flows are opened by their events only, and are left out.
func (p *Platform) flows(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	defs, err := p.deps.Store.Definitions(ctx)
	if err != nil {
		p.failErr(w, r, "list flows", err)
		return
	}
	out := make([]flowJSON, 0, len(defs))
	en := lang(r) == "en"
	for _, d := range defs {
		f, err := p.deps.Engine.Flow(ctx, d.FlowID, d.Version)
		if err != nil {
			if errors.Is(err, flows.ErrUnavailable) {
				p.failErr(w, r, "read flow", err)
				return
			}
			// One unreadable definition does not hide the others.
			p.log.Warn("sim: flow left out of the list", "flow", d.FlowID, "version", d.Version, "err", err)
			continue
		}
		if !startable(f) {
			continue
		}
		out = append(out, flowJSON{ID: f.ID, Name: f.NameIn(en), Description: f.Description, Version: d.Version,
			Fields: fieldsJSON(f.Form, en)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"flows": out})
}

func startable(f *flows.Flow) bool {
	return len(f.Steps) > 0 && f.Steps[0].Type != flows.StepAlert
}

// startRequest is the body of POST /api/start. Form holds the values as
// the page sends them: money and numbers as text, so that no amount passes
// through a float.
type startRequest struct {
	User   string         `json:"user"`
	FlowID string         `json:"flow_id"`
	Title  string         `json:"title"`
	Form   map[string]any `json:"form"`
}

// start starts a flow as the picked person, as their /start command would:
// the engine validates the form and answers a bad one with every bad field.
func (p *Platform) start(w http.ResponseWriter, r *http.Request) {
	req, u, ok := p.startInput(w, r)
	if !ok {
		return
	}
	res, err := p.deps.Engine.Start(r.Context(), flows.StartRequest{Actor: u.ID, Key: Name + ":" + newEventID(),
		FlowID: req.FlowID, Title: req.Title, Form: req.Form})
	if err != nil {
		p.failStart(w, r, "start", req, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"result": res})
}

// startInput reads and checks the body of a start (or its forecast) and
// the person it is for; on failure it has answered.
func (p *Platform) startInput(w http.ResponseWriter, r *http.Request) (startRequest, flows.User, bool) {
	var req startRequest
	if !p.decode(w, r, &req) {
		return req, flows.User{}, false
	}
	for _, f := range []struct {
		name, value string
		max         int
		required    bool
	}{{"flow_id", req.FlowID, maxIDChars, true}, {"title", req.Title, flows.MaxTitleLength, false}} {
		if m, args := checkText(f.name, f.value, f.max, f.required); m != nil {
			p.fail(w, r, http.StatusBadRequest, "invalid_input", *m, args...)
			return req, flows.User{}, false
		}
	}
	u, ok := p.person(w, r, req.User)
	if !ok {
		return req, flows.User{}, false
	}
	if req.Form == nil {
		req.Form = map[string]any{}
	}
	return req, u, true
}

// failStart answers an error of a start or its forecast.
func (p *Platform) failStart(w http.ResponseWriter, r *http.Request, op string, req startRequest, err error) {
	switch {
	case errors.Is(err, flows.ErrNotFound):
		p.fail(w, r, http.StatusNotFound, "unknown_flow", msgUnknownFlow, req.FlowID)
	case errors.Is(err, flows.ErrNotApplicable):
		p.fail(w, r, http.StatusConflict, "not_startable", msgNotStartable, req.FlowID)
	case errors.Is(err, flows.ErrNoAssignee):
		p.fail(w, r, http.StatusUnprocessableEntity, "no_assignee", msgNoAssignee)
	case errors.Is(err, flows.ErrUnknownUser):
		p.fail(w, r, http.StatusNotFound, "unknown_user", msgUnknownUser, req.User)
	default:
		p.failErr(w, r, op, err)
	}
}
