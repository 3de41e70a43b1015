package api

import (
	"net/http"
	"time"

	"cardflow/flows"
	"cardflow/server"
)

// maxAnalyticsFlowLen bounds the flow query parameter of /analytics.
const maxAnalyticsFlowLen = 100

// getAnalytics answers GET /api/v1/analytics?from=&to=&flow= with the flow
// analytics of the period (flows.Engine.Analytics): from and to are RFC
// 3339 times (to defaults to now, from to 30 days before to), flow narrows
// the figures to one flow. Durations are in seconds.
func (a *API) getAnalytics(w http.ResponseWriter, r *http.Request) {
	p := params{q: r.URL.Query()}
	from, to := p.span()
	flow := p.str("flow")
	if len(flow) > maxAnalyticsFlowLen {
		p.bad("the flow query parameter is longer than %d bytes", maxAnalyticsFlowLen)
	}
	if p.answer(w) {
		return
	}
	res, err := a.engine.Analytics(r.Context(), flows.AnalyticsQuery{From: from, To: to, FlowID: flow})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"analytics": analyticsOf(res)})
}

// analyticsJSON is flows.Analytics on the wire.
type analyticsJSON struct {
	From      time.Time           `json:"from"`
	To        time.Time           `json:"to"`
	Now       time.Time           `json:"now"`
	Decisions decisionsJSON       `json:"decisions"`
	Flows     []flowAnalyticsJSON `json:"flows"`
}

type flowAnalyticsJSON struct {
	FlowID    string         `json:"flow_id"`
	Name      string         `json:"name"`
	Instances instancesJSON  `json:"instances"`
	Decisions decisionsJSON  `json:"decisions"`
	Steps     []stepJSON     `json:"steps"`
	Assignees []assigneeJSON `json:"assignees"`
}

type instancesJSON struct {
	Started   int64 `json:"started"`
	Finished  int64 `json:"finished"`
	Rejected  int64 `json:"rejected"`
	Withdrawn int64 `json:"withdrawn"`
	Cancelled int64 `json:"cancelled"`
	Running   int64 `json:"running"`
	Returns   int64 `json:"returns"`
}

type stepJSON struct {
	StepID    string         `json:"step_id"`
	Name      string         `json:"name"`
	Decisions decisionsJSON  `json:"decisions"`
	Assignees []assigneeJSON `json:"assignees"`
}

type assigneeJSON struct {
	UserID    string        `json:"user_id"`
	Name      string        `json:"name"`
	Decisions decisionsJSON `json:"decisions"`
}

type decisionsJSON struct {
	Decided       int64   `json:"decided"`
	Approved      int64   `json:"approved"`
	Rejected      int64   `json:"rejected"`
	Returned      int64   `json:"returned"`
	MedianSeconds float64 `json:"median_seconds"`
	P90Seconds    float64 `json:"p90_seconds"`
	Due           int64   `json:"due"`
	Overdue       int64   `json:"overdue"`
	OverdueShare  float64 `json:"overdue_share"`
	Open          int64   `json:"open"`
	OpenOverdue   int64   `json:"open_overdue"`
}

func analyticsOf(a flows.Analytics) analyticsJSON {
	out := analyticsJSON{From: a.From.UTC(), To: a.To.UTC(), Now: a.Now.UTC(), Decisions: decisionsOf(a.Decisions),
		Flows: make([]flowAnalyticsJSON, 0, len(a.Flows))}
	for _, f := range a.Flows {
		n := f.Instances
		fj := flowAnalyticsJSON{FlowID: f.FlowID, Name: f.Name, Decisions: decisionsOf(f.Decisions),
			Instances: instancesJSON{Started: n.Started, Finished: n.Finished, Rejected: n.Rejected,
				Withdrawn: n.Withdrawn, Cancelled: n.Cancelled, Running: n.Running, Returns: n.Returns},
			Steps: make([]stepJSON, 0, len(f.Steps)), Assignees: assigneesOf(f.Assignees)}
		for _, s := range f.Steps {
			fj.Steps = append(fj.Steps, stepJSON{StepID: s.StepID, Name: s.Name, Decisions: decisionsOf(s.Decisions),
				Assignees: assigneesOf(s.Assignees)})
		}
		out.Flows = append(out.Flows, fj)
	}
	return out
}

func assigneesOf(list []flows.AssigneeFigures) []assigneeJSON {
	out := make([]assigneeJSON, 0, len(list))
	for _, x := range list {
		out = append(out, assigneeJSON{UserID: x.UserID, Name: x.Name, Decisions: decisionsOf(x.Decisions)})
	}
	return out
}

func decisionsOf(d flows.DecisionFigures) decisionsJSON {
	return decisionsJSON{Decided: d.Decided, Approved: d.Approved, Rejected: d.Rejected, Returned: d.Returned,
		MedianSeconds: d.Median.Seconds(), P90Seconds: d.P90.Seconds(), Due: d.Due, Overdue: d.Overdue,
		OverdueShare: d.OverdueShare, Open: d.Open, OpenOverdue: d.OpenOverdue}
}
