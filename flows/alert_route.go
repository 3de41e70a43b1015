package flows

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AlertEvent is something a monitored system reported (a stock sync found
// an oversell, the stock was restored). It fires the alert flows whose
// trigger event it is and resolves, by its dedupe key, the open alerts of
// flows whose alert step lists it as auto_resolve_on.
type AlertEvent struct {
	// Source names the reporting system ("stock-sync"), for the audit trail.
	Source string
	// Event is the event name, e.g. "stock.oversell".
	Event string
	// Form holds the alert's fields (its labels): the flow's form for a
	// firing event; at least the dedupe_key and group_by fields for a
	// resolving one.
	Form map[string]any
	// At is when it happened; zero means now.
	At time.Time
	// Resolving says the condition of the flow's trigger event cleared
	// (an Alertmanager "resolved"): it resolves instead of firing.
	Resolving bool
	// IdempotencyKey (the source's event id) makes a redelivered event
	// change nothing; "" disables the check.
	IdempotencyKey string
}

// Outcomes of Alert, in Result.Outcome.
const (
	AlertOpened   = "fired"    // a new alert group (a new instance) started
	AlertGrouped  = "grouped"  // a new alert joined an open group
	AlertDeduped  = "deduped"  // a repeat of an open alert, counted into it
	AlertResolved = "resolved" // an alert resolved (its group too when it was the last)
	AlertIgnored  = "ignored"  // a resolving event for no open alert
)

// Alert routes an event to the alert flows it concerns, one Result per
// flow (in flow id order). An alert flow starts at its alert step; one
// instance is one alert group, keyed by the step's group_by values (by the
// dedupe key without group_by):
//
//   - a firing event for a group with no open alert starts a new instance
//     (AlertOpened); the group's on-call holders get tasks and are paged
//     after group_wait;
//   - one with a new dedupe key joins the open group (AlertGrouped) and is
//     paged after group_wait with whatever else joined meanwhile;
//   - one whose dedupe key is open already is counted into it
//     (AlertDeduped), paging nobody;
//   - a resolving event resolves the open alert of its dedupe key; when no
//     alert of the group fires any more the alert step ends as
//     auto_resolve and the flow goes on to its next step.
//
// Group instances have deterministic ids ("alert-<flow>-<hash of the
// group>-<n>"), so two engines starting the same group at once cannot both
// succeed: the loser retries and joins the winner's instance.
func (e *Engine) Alert(ctx context.Context, ev AlertEvent) ([]Result, error) {
	if ev.Event == "" {
		return nil, fmt.Errorf("flows: alert: event name is required: %w", ErrInvalidTarget)
	}
	fs, err := e.latestAlertFlows(ctx)
	if err != nil {
		return nil, fmt.Errorf("flows: alert %s: %w", ev.Event, err)
	}
	var out []Result
	for _, vf := range fs {
		f := vf.Flow
		s := f.Steps[0]
		fires := f.Trigger.Event == ev.Event && !ev.Resolving
		resolves := (f.Trigger.Event == ev.Event && ev.Resolving) || s.Alert.AutoResolveOn == ev.Event
		if !fires && !resolves {
			continue
		}
		key := ev.IdempotencyKey
		if key != "" {
			key = "alert:" + key + ":" + f.ID
		}
		res, err := e.mutate(ctx, "alert", key, f.ID, nil, func(ctx context.Context) (*Change, Result, error) {
			return e.routeAlert(ctx, f, vf.Version, ev, resolves)
		})
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// routeAlert builds the change one event makes to one alert flow.
func (e *Engine) routeAlert(ctx context.Context, f *Flow, version int, ev AlertEvent, resolving bool) (*Change, Result, error) {
	s := f.Steps[0]
	form := ev.Form
	if !resolving {
		var err error
		if form, err = f.ValidateForm(ev.Form); err != nil {
			return nil, Result{}, err
		}
	}
	key, okKey := keyValues(s.Alert.DedupeKey, form)
	group, okGroup := keyValues(s.Alert.groupFields(), form)
	if !okKey || !okGroup {
		return nil, Result{}, fmt.Errorf("alert %s: the event lacks a dedupe_key or group_by field (%s): %w",
			ev.Event, strings.Join(append(s.Alert.DedupeKey, s.Alert.GroupBy...), ", "), ErrInvalidForm)
	}
	base := alertBase(f.ID, group)
	n, inst, err := e.currentAlert(ctx, base)
	if err != nil {
		return nil, Result{}, err
	}
	if inst != nil {
		r, err := e.loaded(ctx, *inst, SystemActor)
		if err != nil {
			return nil, Result{}, err
		}
		if a, st := r.alertRun(); a != nil {
			outcome, err := r.alertEvent(a, st, strings.Join(key, "/"), form, ev, resolving)
			if err != nil {
				return nil, Result{}, err
			}
			return r.build("", outcome)
		}
	}
	if resolving {
		return nil, Result{Outcome: AlertIgnored}, nil
	}
	return e.startAlert(ctx, f, version, base+"-"+strconv.Itoa(n+1), group, form, ev)
}

// startAlert starts the instance of a new alert group.
func (e *Engine) startAlert(ctx context.Context, f *Flow, version int, id string, group []string, form map[string]any, ev AlertEvent) (*Change, Result, error) {
	r := &run{e: e, ctx: ctx, f: f, st: &runState{Context: map[string]any{"event": ev.Event, "source": ev.Source}},
		now: e.now(), create: true, version: 1, actor: SystemActor, form: form, formDirty: true,
		users: map[string]User{}, keys: map[string]bool{}}
	title := f.Name + " · " + strings.Join(group, " · ")
	if f.Title != nil {
		title = cmp.Or(f.Title.Render(form), title)
	}
	r.inst = Instance{ID: id, FlowID: f.ID, FlowVersion: version, Status: InstanceRunning, Applicant: SystemActor,
		Title: title, CreatedAt: r.now, UpdatedAt: r.now}
	if err := r.log("", "start", startDetail{Flow: f.ID, Version: version}); err != nil {
		return nil, Result{}, err
	}
	if err := r.enter(f.Steps[0]); err != nil {
		return nil, Result{}, err
	}
	if st := r.st.Alert; st != nil && !ev.At.IsZero() {
		st.Alerts[0].FirstAt, st.Alerts[0].LastAt = ev.At, ev.At
	}
	return r.build("", AlertOpened)
}

// alertEvent applies an event to the open group of the run.
func (r *run) alertEvent(a *activation, s *Step, key string, form map[string]any, ev AlertEvent, resolving bool) (string, error) {
	st := r.st.Alert
	at := ev.At
	if at.IsZero() {
		at = r.now
	}
	var x *alertEntry
	for _, y := range st.Alerts {
		if y.Key == key {
			x = y
		}
	}
	switch {
	case resolving && (x == nil || x.resolved()):
		return AlertIgnored, nil
	case resolving:
		x.ResolvedAt, x.ResolvedBy = r.now, SystemActor
		if err := r.log("", "auto_resolve", alertDetail{Step: s.ID, Key: key, Source: ev.Source}); err != nil {
			return "", err
		}
		for _, y := range st.Alerts {
			if !y.resolved() {
				return AlertResolved, nil
			}
		}
		return AlertResolved, r.endAlert(a, s, nil, "auto_resolve", "")
	case x != nil && !x.resolved():
		x.Count++
		x.LastAt, x.Labels = at, form // the latest figures (可售库存 5, not the first 9)
		return AlertDeduped, r.log("", "alert_dedupe", alertDetail{Step: s.ID, Key: key, Count: x.Count, Source: ev.Source,
			Labels: storable(form)})
	case x != nil: // fired again after it resolved while its group still fires
		x.ResolvedAt, x.ResolvedBy, x.Paged = time.Time{}, "", false
		x.Count++
		x.LastAt, x.Labels = at, form
	default:
		x = &alertEntry{Key: key, Labels: form, Count: 1, FirstAt: at, LastAt: at}
		st.Alerts = append(st.Alerts, x)
	}
	if !st.Flush {
		st.Flush = true
		r.alertTimer(a, TimerAlertGroup, r.now.Add(r.e.sla(s.Alert.GroupWait)), 0)
	}
	return AlertGrouped, r.log("", "alert_group", alertDetail{Step: s.ID, Key: key, Count: x.Count, Source: ev.Source,
		Labels: storable(form)})
}

// alertBase is the id prefix of a group's instances.
func alertBase(flowID string, group []string) string {
	h := sha256.Sum256([]byte(flowID + "\x00" + strings.Join(group, "\x00")))
	return "alert-" + flowID + "-" + hex.EncodeToString(h[:8])
}

// alertGens remembers the latest instance number of each alert group seen,
// so finding a group's current instance costs two reads, not a search.
type alertGens struct {
	mu   sync.Mutex
	last map[string]int
}

// currentAlert returns the newest instance of a group and its number (0
// and nil when the group never fired). Numbers are consecutive, so it
// gallops up from the last number seen and then bisects.
func (e *Engine) currentAlert(ctx context.Context, base string) (int, *Instance, error) {
	var newest *Instance
	exists := func(n int) (bool, error) {
		inst, err := e.store.Instance(ctx, base+"-"+strconv.Itoa(n))
		switch {
		case errors.Is(err, ErrNotFound):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("alert group %s: %w", base, err)
		}
		newest = &inst
		return true, nil
	}
	e.alerts.mu.Lock()
	lo := e.alerts.last[base]
	e.alerts.mu.Unlock()
	if lo > 0 {
		if ok, err := exists(lo); err != nil || !ok {
			lo = 0 // a store that was reset: search from the start
			if err != nil {
				return 0, nil, err
			}
		}
	}
	hi := lo + 1
	for step := 1; ; step *= 2 {
		ok, err := exists(hi)
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			break
		}
		lo, hi = hi, hi+step
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := exists(mid)
		if err != nil {
			return 0, nil, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return 0, nil, nil
	}
	if newest == nil || newest.ID != base+"-"+strconv.Itoa(lo) {
		if _, err := exists(lo); err != nil {
			return 0, nil, err
		}
	}
	e.alerts.mu.Lock()
	e.alerts.last[base] = lo
	e.alerts.mu.Unlock()
	return lo, newest, nil
}
