package console

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"cardflow/flows"
)

// taskPage is how many tasks a page lists.
const taskPage = 50

// taskRow is an open task with its instance's title and its step's name.
type taskRow struct {
	flows.Task
	Title    string
	Step     string // the step's name; its id when the flow has no such step
	Overdue  bool
	Assignee string // name (id)
}

type tasksData struct {
	Flows    []flows.Definition
	Users    []flows.User
	Flow     string
	Assignee string
	Rows     []taskRow
	Next     string
}

func (c *Console) tasks(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	d := tasksData{Flow: param(q, "flow"), Assignee: param(q, "assignee")}
	if se := sessionOf(ctx); !se.Admin {
		d.Assignee = se.ActsAs // anyone but an administrator sees their own
	}
	var err error
	if d.Flows, err = c.definitions(r); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Users, err = c.d.Engine.Users(ctx); err != nil {
		c.fail(w, r, err)
		return
	}
	open, err := c.d.Store.Tasks(ctx, flows.TaskFilter{Status: flows.TaskOpen, Assignee: d.Assignee, FlowID: d.Flow,
		After: parseCursor(param(q, "after")), Limit: taskPage + 1})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if len(open) > taskPage {
		open = open[:taskPage]
		last := open[len(open)-1]
		q.Set("after", flows.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}.Token())
		d.Next = prefix + "tasks?" + q.Encode()
	}
	if d.Rows, err = c.taskRows(ctx, r, open); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "tasks", "tasks", d)
}

// taskRows adds to each task its instance's title and its step's name,
// the instance and its flow read once per instance.
func (c *Console) taskRows(ctx context.Context, r *http.Request, tasks []flows.Task) ([]taskRow, error) {
	type of struct {
		title string
		flow  *flows.Flow
	}
	instances := map[string]of{}
	now, en := c.now(), c.en(r)
	var rows []taskRow
	for _, t := range tasks {
		in, ok := instances[t.InstanceID]
		if !ok {
			inst, err := c.d.Store.Instance(ctx, t.InstanceID)
			if err != nil {
				return nil, err
			}
			f, err := c.d.Engine.Flow(ctx, inst.FlowID, inst.FlowVersion)
			if err != nil {
				return nil, err
			}
			in = of{title: f.TitleOf(inst, en), flow: f}
			instances[t.InstanceID] = in
		}
		step := t.StepID
		if s := in.flow.Step(t.StepID); s != nil && s.Name != "" {
			step = s.NameIn(en)
		}
		rows = append(rows, taskRow{Task: t, Title: in.title, Step: step, Overdue: !t.DueAt.IsZero() && t.DueAt.Before(now),
			Assignee: c.userName(r, t.Assignee)})
	}
	return rows, nil
}

// back is where an action's redirect goes: the page it was posted from
// (a console page), else fallback.
func back(r *http.Request, fallback string) string {
	if to, ok := consolePage(r.PostFormValue("back")); ok {
		return to
	}
	return fallback
}

// consolePage checks that raw names a page of the console on this site
// and returns it cleaned: no scheme or host, no backslash or line break,
// and no "..", which would climb out of the console once the path is
// cleaned (/console/../sim/ is /sim/).
func consolePage(raw string) (string, bool) {
	if raw == "" || strings.ContainsAny(raw, "\\\r\n") || strings.HasPrefix(raw, "//") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "", false
	}
	clean := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && clean != "/" {
		clean += "/"
	}
	if clean != u.Path || !strings.HasPrefix(clean, prefix) {
		return "", false
	}
	return u.RequestURI(), true
}

func (c *Console) transferTask(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	_, err := c.d.Engine.Transfer(r.Context(), flows.HandOverRequest{Actor: sessionOf(r.Context()).ActsAs, TaskID: id,
		To: cut(r.PostFormValue("to")), Comment: cut(r.PostFormValue("comment"))})
	c.done(w, r, back(r, prefix+"tasks"), "tasks.transferred", err)
}

func (c *Console) urgeTask(w http.ResponseWriter, r *http.Request) {
	t, err := c.d.Store.Task(r.Context(), chi.URLParam(r, "id"))
	if err == nil {
		_, err = c.d.Engine.Urge(r.Context(), flows.UrgeRequest{Actor: sessionOf(r.Context()).ActsAs, InstanceID: t.InstanceID,
			TaskID: t.ID, Comment: cut(r.PostFormValue("comment"))})
	}
	c.done(w, r, back(r, prefix+"tasks"), "inst.urged", err)
}

// countCap bounds the open alerts the alerts page lists, and the
// delegated tasks the org page does.
const countCap = 10000

type alertsData struct {
	Rows []taskRow
	Max  int
	// State says, by instance, what became of the alert: acknowledged by
	// whom and when, or snoozed until when; absent while it just fires.
	State map[string]alertState
}

// alertState is an alert group's state as the alerts page says it.
type alertState struct {
	Acked   bool
	Says    string
	Snoozed bool
}

// alerts lists the open alert tasks: the on-call holders of alerts
// still firing.
func (c *Console) alerts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// The store selects the alerts: among many open tasks, the newest
	// alerts are not cut off by a cap on all of them.
	filter := flows.TaskFilter{Status: flows.TaskOpen, Kind: string(flows.StepAlert), Limit: countCap}
	if se := sessionOf(ctx); !se.Admin {
		filter.Assignee = se.ActsAs // anyone but an administrator sees their own
	}
	alerts, err := c.d.Store.Tasks(ctx, filter)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rows, err := c.taskRows(ctx, r, alerts)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	states, err := c.alertStates(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "alerts", "alerts", alertsData{Rows: rows, Max: maxSnooze, State: states})
}

// alertStates reads which alerts were acknowledged or snoozed, by instance.
func (c *Console) alertStates(r *http.Request) (map[string]alertState, error) {
	page, err := c.d.Engine.ListAlerts(r.Context(), flows.AlertQuery{Viewer: sessionOf(r.Context()).ActsAs, Limit: countCap})
	if err != nil {
		return nil, err
	}
	l, zone := c.locale(r), c.zone(r)
	at := func(t time.Time) string { return t.In(zone).Format("2006-01-02 15:04") }
	out := map[string]alertState{}
	for _, a := range page.Alerts {
		switch a.State {
		case flows.AlertStateAcknowledged:
			out[a.Instance.ID] = alertState{Acked: true, Says: tr(l, "alerts.ackedBy", c.userName(r, a.AckBy), at(a.AckAt))}
		case flows.AlertStateSnoozed:
			out[a.Instance.ID] = alertState{Snoozed: true, Says: tr(l, "alerts.snoozedUntil", at(a.SnoozedUntil), c.userName(r, a.SnoozedBy))}
		}
	}
	return out, nil
}

// maxSnooze bounds a snooze, in minutes: a week.
const maxSnooze = 7 * 24 * 60

func (c *Console) alertAction(w http.ResponseWriter, r *http.Request) {
	req := flows.AlertActionRequest{Actor: sessionOf(r.Context()).ActsAs, TaskID: chi.URLParam(r, "id"),
		Comment: cut(r.PostFormValue("comment"))}
	var err error
	ok := ""
	switch chi.URLParam(r, "op") {
	case "ack":
		ok = "alerts.acked"
		_, err = c.d.Engine.Acknowledge(r.Context(), req)
	case "resolve":
		ok = "alerts.resolved"
		_, err = c.d.Engine.Resolve(r.Context(), req)
	case "snooze":
		ok = "alerts.snoozed"
		mins, perr := strconv.Atoi(strings.TrimSpace(r.PostFormValue("minutes")))
		if perr != nil || mins < 1 || mins > maxSnooze {
			// Say the bound, not that the input could not be saved.
			c.flash(w, r, "error", tr(c.locale(r), "alerts.badMinutes", maxSnooze))
			http.Redirect(w, r, back(r, prefix+"alerts"), http.StatusSeeOther)
			return
		}
		req.Until = c.now().Add(time.Duration(mins) * time.Minute)
		_, err = c.d.Engine.Snooze(r.Context(), req)
	default:
		c.plainError(w, r, http.StatusNotFound, "err.notfound")
		return
	}
	c.done(w, r, back(r, prefix+"alerts"), ok, err)
}
