package console

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"cardflow/bot"
	"cardflow/flows"
)

// maxForecastForm bounds the form a route preview reads, as typed.
const maxForecastForm = 16 << 10

// forecastData is the flow page's route preview (预览审批路线): who would
// start the flow and with which form, and, once asked, the steps and
// people a start would go through now (flows.Engine.Forecast). It changes
// nothing, so it is a GET form.
type forecastData struct {
	Users     []flows.User
	Applicant string
	Form      string // the form as JSON, as typed or the flow's skeleton
	Asked     bool
	Error     string
	Steps     []forecastStep
	// Waits says the route is known only up to the last step shown.
	Waits bool
}

// forecastStep is one step of a preview as the page shows it.
type forecastStep struct {
	Name   string
	Status string
	Lines  []string
}

// forecast reads the preview's query (applicant, form) for flow f and,
// when it names an applicant, asks the engine.
func (c *Console) forecast(r *http.Request, f *flows.Flow) (forecastData, error) {
	ctx, q := r.Context(), r.URL.Query()
	users, err := c.d.Engine.Users(ctx)
	if err != nil {
		return forecastData{}, err
	}
	d := forecastData{Users: users, Applicant: q.Get("applicant"), Form: q.Get("form")}
	if d.Form == "" {
		d.Form = skeleton(f.Form, c.now().In(c.zone(r))) // today is the reader's
	}
	if !q.Has("applicant") {
		return d, nil
	}
	d.Asked = true
	l := c.locale(r)
	var form map[string]any
	switch {
	case d.Applicant == "":
		d.Error = tr(l, "forecast.noApplicant")
		return d, nil
	case len(d.Form) > maxForecastForm:
		d.Error = tr(l, "forecast.tooLong", maxForecastForm/1024)
		return d, nil
	}
	dec := json.NewDecoder(strings.NewReader(d.Form))
	dec.UseNumber()
	if err := dec.Decode(&form); err != nil {
		d.Error = tr(l, "forecast.badJSON")
		return d, nil
	}
	fc, err := c.d.Engine.Forecast(ctx, flows.ForecastRequest{FlowID: f.ID, Applicant: d.Applicant, Form: form})
	if err != nil {
		info, known := flows.Describe(err)
		if !known {
			return d, err
		}
		d.Error = info.Text(l)
		if fe, ok := errors.AsType[*flows.FormError](err); ok {
			// Which fields and why: the preview marks no field itself.
			d.Error = tr(l, "forecast.badForm", bot.Problems(bot.Locale(l), fe))
		}
		return d, nil
	}
	d.Steps = forecastSteps(l, fc)
	d.Waits = !fc.Complete && (len(fc.Steps) == 0 || fc.Steps[len(fc.Steps)-1].Status != flows.ForecastDepends)
	return d, nil
}

// forecastSteps says each step of fc in the reader's language, as the
// simulator's start form does.
func forecastSteps(l string, fc flows.Forecast) []forecastStep {
	names := func(people []flows.Person) string {
		out := make([]string, len(people))
		for i, p := range people {
			out[i] = p.Name
		}
		return strings.Join(out, "、")
	}
	nameOf := func(id string) string {
		for _, s := range fc.Steps {
			if s.ID == id {
				return s.Name
			}
		}
		if id == "end" {
			return tr(l, "forecast.end")
		}
		return id
	}
	out := make([]forecastStep, 0, len(fc.Steps))
	for _, s := range fc.Steps {
		st := forecastStep{Name: s.Name, Status: s.Status}
		if s.Sign != "" {
			mode := strings.SplitN(s.Sign, ":", 2)[0]
			if s.Sequential {
				mode = "sequential"
			}
			st.Name += " · " + tr(l, "sign."+mode)
		}
		switch s.Status {
		case flows.ForecastAsk:
			st.Lines = append(st.Lines, names(s.People))
		case flows.ForecastAuto:
			st.Lines = append(st.Lines, names(s.People), tr(l, "forecast.auto"))
		case flows.ForecastNotTaken:
			st.Lines = append(st.Lines, tr(l, "forecast.notTaken", cmp.Or(s.WhenText, s.When)))
		case flows.ForecastRouted:
			st.Lines = append(st.Lines, tr(l, "forecast.routed", nameOf(s.To)))
		case flows.ForecastFork:
			st.Lines = append(st.Lines, tr(l, "forecast.fork"))
		case flows.ForecastNotify:
			st.Lines = append(st.Lines, tr(l, "forecast.notify", names(s.People)))
		case flows.ForecastAlert:
			st.Lines = append(st.Lines, tr(l, "forecast.alert", names(s.People)))
		case flows.ForecastDepends:
			deps := make([]string, len(s.DependsOn))
			for i, id := range s.DependsOn {
				deps[i] = nameOf(id)
			}
			st.Lines = append(st.Lines, tr(l, "forecast.depends", strings.Join(deps, "、")))
			for _, b := range s.Branches {
				when, to := cmp.Or(b.WhenText, b.When), b.ToName
				if b.Else {
					when = tr(l, "forecast.else")
				}
				if to == "" {
					to = nameOf(b.To)
				}
				st.Lines = append(st.Lines, when+" → "+to)
			}
		}
		for _, k := range s.Skipped {
			st.Lines = append(st.Lines, tr(l, "forecast.skipped."+k.Reason, k.Name))
		}
		for _, p := range s.Proxies {
			st.Lines = append(st.Lines, tr(l, "forecast.proxy", p.For.Name, p.By.Name))
		}
		if s.Fallback != "" {
			st.Lines = append(st.Lines, tr(l, "forecast.fallback"))
		}
		if len(s.CC) > 0 {
			st.Lines = append(st.Lines, tr(l, "forecast.cc", names(s.CC)))
		}
		out = append(out, st)
	}
	return out
}

// skeleton is a form for fields to start from: each field with a value
// of its type (a table with one row), as indented JSON.
func skeleton(fields []*flows.Field, now time.Time) string {
	form := map[string]any{}
	for _, f := range fields {
		if v, ok := sample(f, now); ok {
			form[f.Key] = v
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(form) // strings, numbers, bools, maps and slices always encode
	return strings.TrimSpace(b.String())
}

// sample is a value of f's type; none for an attachment.
func sample(f *flows.Field, now time.Time) (any, bool) {
	switch f.Type {
	case flows.FieldNumber:
		return 1, true
	case flows.FieldMoney:
		return "0.00", true
	case flows.FieldDate:
		return now.Format(time.DateOnly), true
	case flows.FieldEnum:
		if len(f.Options) > 0 {
			return f.Options[0], true
		}
		return "", true
	case flows.FieldBool:
		return false, true
	case flows.FieldAttachment:
		return nil, false
	case flows.FieldTable:
		row := map[string]any{}
		for _, col := range f.Columns {
			if v, ok := sample(col, now); ok {
				row[col.Key] = v
			}
		}
		return []any{row}, true
	}
	return "", true
}
