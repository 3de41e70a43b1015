package console

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"

	"cardflow/flows"
)

type flowsData struct {
	Flows []flows.Definition
}

func (c *Console) flowList(w http.ResponseWriter, r *http.Request) {
	defs, err := c.definitions(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "flows", "flows", flowsData{Flows: defs})
}

// flowColumn is one version of a flow as the flow page shows it.
type flowColumn struct {
	Def     flows.Definition
	SVG     any // template.HTML
	Mermaid string
	Changed int
}

type flowData struct {
	ID       string
	Name     string
	Versions []flows.Definition
	A, B     int
	Columns  []flowColumn
	// Forecast previews the latest version's route for a start now.
	Forecast forecastData
}

// flow shows a flow's diagram, one version or two side by side (?a=&b=,
// by default the latest and the one before), the steps of each that the
// other lacks or has otherwise highlighted, and the route preview of the
// latest (?applicant=&form=, see forecast).
func (c *Console) flow(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := chi.URLParam(r, "id")
	versions, err := c.d.Engine.Versions(ctx, id) // newest first; ErrNotFound when none
	if err != nil {
		c.fail(w, r, err)
		return
	}
	latest := versions[0].Version
	c.nameDefinitions(r, versions)
	d := flowData{ID: id, Name: versions[0].Name, Versions: versions, A: version(r, "a", latest), B: version(r, "b", latest-1)}
	var loaded []*flows.Flow
	for _, v := range []int{d.A, d.B} {
		i := slices.IndexFunc(versions, func(def flows.Definition) bool { return def.Version == v })
		if i < 0 || (len(loaded) == 1 && v == d.A) {
			continue
		}
		f, err := c.d.Engine.Flow(ctx, id, v)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.Columns = append(d.Columns, flowColumn{Def: versions[i], Mermaid: f.Mermaid()})
		loaded = append(loaded, f)
	}
	if len(loaded) == 0 {
		c.fail(w, r, flows.ErrNotFound)
		return
	}
	for i, f := range loaded {
		var changed map[string]bool
		if len(loaded) == 2 {
			changed = changedSteps(f, loaded[1-i])
		}
		col := &d.Columns[i]
		col.Changed = len(changed)
		col.SVG = flowSVG(f, changed, tr(c.locale(r), "flows.diagram.alt", col.Def.Name, col.Def.Version), c.locale(r))
	}
	current, err := c.d.Engine.Flow(ctx, id, latest)
	if err == nil {
		d.Forecast, err = c.forecast(r, current)
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "flow", "flows", d)
}

// version reads a version number from the query; def when absent or bad.
func version(r *http.Request, name string, def int) int {
	v, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || v < 1 {
		return def
	}
	return v
}
