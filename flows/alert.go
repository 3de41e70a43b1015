package flows

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Notification kinds of alert steps: NotificationIntent.Kind, with Alerts
// listing the group's alerts.
const (
	// NotifyAlertFired pages the holders of the alert's open tasks: the
	// first page of a group after group_wait, new alerts joining it, a
	// repeat after repeat_interval, a page after a snooze ended (Cause).
	NotifyAlertFired = "alert_fired"
	// NotifyAlertAcknowledged: another holder acknowledged the alert.
	NotifyAlertAcknowledged = "alert_acknowledged"
	// NotifyAlertResolved: the alert was resolved, by a holder or by its
	// auto_resolve_on event; the recipient's task is closed.
	NotifyAlertResolved = "alert_resolved"
	// NotifyAlertEscalated: nobody acknowledged in time and the recipient,
	// of the next on-call level, now has a task of the alert.
	NotifyAlertEscalated = "alert_escalated"
)

// Causes of a NotifyAlertFired intent.
const (
	CauseAlertFirst  = ""        // the group's first page, after group_wait
	CauseAlertNew    = "new"     // alerts joined a group already paged
	CauseAlertRepeat = "repeat"  // still firing after repeat_interval
	CauseAlertWake   = "snoozed" // a snooze ended and the alert still fires
)

// Kinds of the timers of an alert step.
const (
	TimerAlertGroup    = "alert_group"    // page the group after group_wait
	TimerAlertRepeat   = "alert_repeat"   // page again after repeat_interval
	TimerAlertEscalate = "alert_escalate" // page the next on-call level
	TimerAlertWake     = "alert_wake"     // a snooze ends
)

// AlertItem is one alert of a group as a notification shows it.
type AlertItem struct {
	// Key is the alert's dedupe_key values joined with "/".
	Key     string         `json:"key"`
	Labels  map[string]any `json:"labels"`
	Count   int            `json:"count"`
	FirstAt time.Time      `json:"first_at"`
	LastAt  time.Time      `json:"last_at"`
	// Resolved is set for an alert whose condition cleared while others
	// of its group still fire.
	Resolved bool `json:"resolved,omitempty"`
}

// alertState is the alert group of an instance. An instance started by an
// alert event is one group (the alerts sharing the group_by values, like
// an Alertmanager aggregation group or a PagerDuty incident); each alert in
// it is one dedupe_key. The group's alert step stays open, its on-call
// holders paged, until they resolve it or every alert resolves by itself.
type alertState struct {
	Step   string            `json:"step"`
	N      int               `json:"n"`
	Group  map[string]string `json:"group,omitempty"`
	Alerts []*alertEntry     `json:"alerts"`
	// Since is when the group fired; escalation levels count from it.
	Since time.Time `json:"since"`
	// Paged is when the holders were last paged; zero before group_wait.
	Paged time.Time `json:"paged,omitzero"`
	// Flush is set while a page of new alerts waits for group_wait.
	Flush bool `json:"flush,omitempty"`

	AckBy        string    `json:"ack_by,omitempty"`
	AckAt        time.Time `json:"ack_at,omitzero"`
	SnoozedBy    string    `json:"snoozed_by,omitempty"`
	SnoozedUntil time.Time `json:"snoozed_until,omitzero"`
	// Level is how many escalation levels were paged.
	Level int `json:"level,omitempty"`
	// Due is when each of the group's timers is due, by kind: a claimed
	// timer that does not match was rewritten or stopped since.
	Due map[string]time.Time `json:"due,omitempty"`
}

type alertEntry struct {
	Key        string         `json:"key"`
	Labels     map[string]any `json:"labels"`
	Count      int            `json:"count"`
	FirstAt    time.Time      `json:"first_at"`
	LastAt     time.Time      `json:"last_at"`
	Paged      bool           `json:"paged,omitempty"`
	ResolvedAt time.Time      `json:"resolved_at,omitzero"`
	ResolvedBy string         `json:"resolved_by,omitempty"`
}

func (x *alertEntry) resolved() bool { return !x.ResolvedAt.IsZero() }

func (x *alertEntry) item() AlertItem {
	return AlertItem{Key: x.Key, Labels: x.Labels, Count: x.Count, FirstAt: x.FirstAt, LastAt: x.LastAt, Resolved: x.resolved()}
}

// alertTimerPayload says which run of which alert step a timer is for, and
// for escalation which level it pages.
type alertTimerPayload struct {
	Step       string `json:"step"`
	Activation int    `json:"activation"`
	Level      int    `json:"level,omitempty"`
}

// keyValues returns the values of fields in form as strings, and whether
// every one is set.
func keyValues(fields []string, form map[string]any) ([]string, bool) {
	out := make([]string, len(fields))
	for i, k := range fields {
		v, ok := form[k]
		if !ok || v == nil || fmt.Sprint(v) == "" {
			return nil, false
		}
		out[i] = fmt.Sprint(v)
	}
	return out, true
}

// groupFields are the fields that make an alert group: group_by, or the
// dedupe key when the step groups by nothing (each alert on its own).
func (a *Alert) groupFields() []string {
	if len(a.GroupBy) > 0 {
		return a.GroupBy
	}
	return a.DedupeKey
}

// openAlert starts an alert step: one open task (kind alert) per on-call
// user of the first level, the instance's form as the group's first
// alert, and the group_wait and first escalation timers. Nobody is paged
// yet: the tasks are announced by the group's first alert_fired.
func (r *run) openAlert(s *Step) error {
	users, err := r.assignees(s)
	if err != nil {
		return err
	}
	form, err := r.formValues()
	if err != nil {
		return err
	}
	key, _ := keyValues(s.Alert.DedupeKey, form)
	group, _ := keyValues(s.Alert.groupFields(), form)
	r.st.Seq++
	a := &activation{N: r.st.Seq, Step: s.ID, Since: r.now}
	r.st.Active = append(r.st.Active, a)
	r.addAlertSeats(a, users)
	st := &alertState{Step: s.ID, N: a.N, Since: r.now, Group: map[string]string{}, Flush: true}
	for i, k := range s.Alert.groupFields() {
		if i < len(group) {
			st.Group[k] = group[i]
		}
	}
	st.Alerts = []*alertEntry{{Key: strings.Join(key, "/"), Labels: form, Count: 1, FirstAt: r.now, LastAt: r.now}}
	r.st.Alert = st
	if err := r.logAs(SystemActor, "", "", "alert_fire", alertDetail{Step: s.ID, Key: st.Alerts[0].Key, Users: users, Labels: storable(form)}); err != nil {
		return err
	}
	r.alertTimer(a, TimerAlertGroup, r.now.Add(r.e.sla(s.Alert.GroupWait)), 0)
	r.scheduleEscalation(a, s, r.now)
	return nil
}

// addAlertSeats gives users an open alert task each, not announced as
// task_assigned: alert pages say it.
func (r *run) addAlertSeats(a *activation, users []string) {
	for _, u := range users {
		t := r.newTask(a, u, "", TaskOpen, len(a.Seats)+1)
		r.opened = r.opened[:len(r.opened)-1]
		a.Seats = append(a.Seats, &seat{Task: t.ID, User: u, Status: TaskOpen, Shown: true})
	}
}

// alertTimer writes (or rewrites) a timer of the alert step's run and
// records when the group expects it. Stores keep microseconds, so the due
// time is cut to them: a claimed timer must match the record exactly.
func (r *run) alertTimer(a *activation, kind string, due time.Time, level int) {
	due = due.Truncate(time.Microsecond)
	if r.st.Alert.Due == nil {
		r.st.Alert.Due = map[string]time.Time{}
	}
	r.st.Alert.Due[kind] = due
	raw, _ := marshal(alertTimerPayload{Step: a.Step, Activation: a.N, Level: level}) // strings and ints always encode
	id := TimerID(r.inst.ID, a.N, kind)
	r.timers = slices.DeleteFunc(r.timers, func(t Timer) bool { return t.ID == id })
	r.timers = append(r.timers, Timer{ID: id, InstanceID: r.inst.ID, Kind: kind, DueAt: due, Payload: raw})
	r.cancelled = slices.DeleteFunc(r.cancelled, func(x string) bool { return x == id })
	if !slices.Contains(a.Timers, id) {
		a.Timers = append(a.Timers, id)
	}
}

// stopAlertTimer cancels a timer of the alert step's run.
func (r *run) stopAlertTimer(a *activation, kind string) {
	id := TimerID(r.inst.ID, a.N, kind)
	delete(r.st.Alert.Due, kind)
	r.timers = slices.DeleteFunc(r.timers, func(t Timer) bool { return t.ID == id })
	a.Timers = slices.DeleteFunc(a.Timers, func(x string) bool { return x == id })
	if !slices.Contains(r.cancelled, id) {
		r.cancelled = append(r.cancelled, id)
	}
}

// scheduleEscalation writes the timer of the next escalation level, due
// its after counted from the group's start, or at the earliest at from.
func (r *run) scheduleEscalation(a *activation, s *Step, from time.Time) {
	lvl := r.st.Alert.Level
	if lvl >= len(s.Alert.Escalation) {
		r.stopAlertTimer(a, TimerAlertEscalate)
		return
	}
	due := r.st.Alert.Since.Add(r.e.sla(s.Alert.Escalation[lvl].After))
	if due.Before(from) {
		due = from
	}
	r.alertTimer(a, TimerAlertEscalate, due, lvl)
}

// alertRun returns the open alert step of the run, or nil when the
// instance has no open alert (it ended, or moved on past its alert step).
func (r *run) alertRun() (*activation, *Step) {
	st := r.st.Alert
	if st == nil || r.inst.Status != InstanceRunning {
		return nil, nil
	}
	for _, a := range r.st.Active {
		if a.N == st.N && a.Step == st.Step {
			if s := r.f.Step(a.Step); s != nil && s.Type == StepAlert {
				return a, s
			}
		}
	}
	return nil, nil
}

// page sends kind to every holder of an open task of the alert step,
// with the group's alerts still firing (and the resolved ones, marked).
func (r *run) page(a *activation, kind, cause string) []string {
	items := r.alertItems()
	var to []string
	for _, s := range a.Seats {
		if s.Status != TaskOpen || s.User == r.actor {
			continue
		}
		to = append(to, s.User)
		r.notifyHolder(NotificationIntent{Kind: kind, Recipient: s.User, TaskID: s.Task, StepID: a.Step, Cause: cause, Alerts: items})
	}
	return to
}

func (r *run) alertItems() []AlertItem {
	out := make([]AlertItem, len(r.st.Alert.Alerts))
	for i, x := range r.st.Alert.Alerts {
		out[i] = x.item()
	}
	return out
}

// endAlert ends the alert step: every alert still firing is resolved by
// the run's actor, the resolver's own task (if any) is done, the other
// holders' tasks are closed and they are told alert_resolved, and the flow
// moves on to the step after the alert.
func (r *run) endAlert(a *activation, s *Step, by *seat, outcome, comment string) error {
	for _, x := range r.st.Alert.Alerts {
		if !x.resolved() {
			x.ResolvedAt, x.ResolvedBy = r.now, r.actor
		}
	}
	if by != nil {
		r.setTask(by.Task, by.Status, TaskUpdate{Status: TaskDone, Outcome: outcome, DecidedBy: r.actor, DecidedAt: r.now})
		by.Status = TaskDone
	}
	items := r.alertItems()
	for _, st := range a.Seats {
		if st.Status == TaskOpen && !r.openedNow(st.Task) {
			r.notifyHolder(NotificationIntent{Kind: NotifyAlertResolved, Recipient: st.User, TaskID: st.Task, StepID: a.Step, Outcome: outcome, Alerts: items})
		}
		st.Shown = false // told above, with the alerts; closeSeat must not tell again
	}
	r.closeActivation(a, TaskCancelled, outcome, NotifyAlertResolved)
	task := ""
	if by != nil {
		task = by.Task
	}
	if err := r.log(task, outcome, alertDetail{Step: s.ID, Comment: comment}); err != nil {
		return err
	}
	return r.next(s, r.f.Successor(s))
}

// alertDetail is the audit detail of alert events and operations.
type alertDetail struct {
	Step    string    `json:"step"`
	Key     string    `json:"key,omitempty"`
	Count   int       `json:"count,omitempty"`
	Users   []string  `json:"users,omitempty"`
	Level   int       `json:"level,omitempty"`
	Source  string    `json:"source,omitempty"`
	Comment string    `json:"comment,omitempty"`
	Until   time.Time `json:"until,omitzero"`
	// Labels are the alert's form as its latest event gave it (fired,
	// grouped, deduped): what a card says of each alert of a group.
	Labels map[string]any `json:"labels,omitempty"`
}
