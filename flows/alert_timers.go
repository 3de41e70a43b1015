package flows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// errSuperseded says a claimed timer was rewritten (a snooze moved, a page
// rescheduled the repeat) or stopped after it was claimed: the stored row,
// if any, is a newer one, so the claim must neither act nor delete it.
var errSuperseded = errors.New("timer superseded")

// alertTimerRun returns the open alert step a timer is for, after taking
// the timer off the group's schedule (a fire function that reschedules
// writes it again). It returns nil when the alert has ended (the timer is
// stale) and errSuperseded when the group expects that timer at another
// time or not at all.
func (r *run) alertTimerRun(t Timer) (*activation, *Step, alertTimerPayload, error) {
	var p alertTimerPayload
	if err := json.Unmarshal(t.Payload, &p); err != nil {
		return nil, nil, p, fmt.Errorf("decode payload: %w", err)
	}
	a, s := r.alertRun()
	if a == nil || a.N != p.Activation {
		return nil, nil, p, nil
	}
	if due, ok := r.st.Alert.Due[t.Kind]; !ok || !due.Equal(t.DueAt) {
		return nil, nil, p, errSuperseded
	}
	r.stopAlertTimer(a, t.Kind)
	return a, s, p, nil
}

// silenced reports an alert that pages nobody now: acknowledged, or
// snoozed until later.
func (st *alertState) silenced(r *run) bool {
	return st.AckBy != "" || st.SnoozedUntil.After(r.now)
}

// fireAlertGroup pages the group once group_wait has passed: the first
// page of the group, or a page of alerts that joined it since. An
// unacknowledged group then repeats every repeat_interval. A snoozed group
// is paged when its snooze ends instead.
func (r *run) fireAlertGroup(t Timer) (bool, error) {
	a, s, _, err := r.alertTimerRun(t)
	if err != nil || a == nil {
		return false, err
	}
	st := r.st.Alert
	st.Flush = false
	if st.SnoozedUntil.After(r.now) {
		return true, nil
	}
	fresh := false
	for _, x := range st.Alerts {
		if !x.resolved() && !x.Paged {
			fresh, x.Paged = true, true
		}
	}
	if !fresh {
		return true, nil
	}
	cause := CauseAlertFirst
	if !st.Paged.IsZero() {
		cause = CauseAlertNew
	}
	users := r.page(a, NotifyAlertFired, cause)
	st.Paged = r.now
	if st.AckBy == "" {
		r.alertTimer(a, TimerAlertRepeat, r.now.Add(r.e.sla(s.Alert.RepeatInterval)), 0)
	}
	return true, r.log("", "alert_page", alertDetail{Step: s.ID, Users: users, Comment: cause})
}

// fireAlertRepeat pages an unacknowledged group again, every
// repeat_interval while it fires.
func (r *run) fireAlertRepeat(t Timer) (bool, error) {
	a, s, _, err := r.alertTimerRun(t)
	if err != nil || a == nil {
		return false, err
	}
	st := r.st.Alert
	if st.silenced(r) {
		return true, nil
	}
	users := r.page(a, NotifyAlertFired, CauseAlertRepeat)
	st.Paged = r.now
	r.alertTimer(a, TimerAlertRepeat, r.now.Add(r.e.sla(s.Alert.RepeatInterval)), 0)
	return true, r.log("", "alert_page", alertDetail{Step: s.ID, Users: users, Comment: CauseAlertRepeat})
}

// fireAlertEscalate pages the next on-call level of an unacknowledged
// group: its users who hold no task of the alert yet get one and are told
// alert_escalated; the earlier levels keep theirs. Then the level after is
// scheduled.
func (r *run) fireAlertEscalate(t Timer) (bool, error) {
	a, s, p, err := r.alertTimerRun(t)
	if err != nil || a == nil {
		return false, err
	}
	st := r.st.Alert
	if st.silenced(r) || p.Level != st.Level || p.Level >= len(s.Alert.Escalation) {
		return true, nil
	}
	users, err := r.resolve(s.Alert.Escalation[p.Level].Assignees)
	if err != nil {
		return false, err
	}
	users = slices.DeleteFunc(users, a.holds)
	first := len(a.Seats)
	r.addAlertSeats(a, users)
	items := r.alertItems()
	for _, st := range a.Seats[first:] {
		r.notifyHolder(NotificationIntent{Kind: NotifyAlertEscalated, Recipient: st.User, TaskID: st.Task, StepID: a.Step, Alerts: items})
	}
	st.Level++
	if err := r.log("", "alert_escalate", alertDetail{Step: s.ID, Level: st.Level, Users: users}); err != nil {
		return false, err
	}
	r.scheduleEscalation(a, s, r.now)
	return true, nil
}

// fireAlertWake ends a snooze: an alert still unacknowledged pages its
// holders again, repeats, and escalates on from the level it stood at.
func (r *run) fireAlertWake(t Timer) (bool, error) {
	a, s, _, err := r.alertTimerRun(t)
	if err != nil || a == nil {
		return false, err
	}
	st := r.st.Alert
	st.SnoozedBy, st.SnoozedUntil = "", time.Time{}
	if st.AckBy != "" {
		return true, nil
	}
	for _, x := range st.Alerts {
		x.Paged = x.Paged || !x.resolved()
	}
	users := r.page(a, NotifyAlertFired, CauseAlertWake)
	st.Paged, st.Flush = r.now, false
	r.stopAlertTimer(a, TimerAlertGroup)
	r.alertTimer(a, TimerAlertRepeat, r.now.Add(r.e.sla(s.Alert.RepeatInterval)), 0)
	r.scheduleEscalation(a, s, r.now)
	return true, r.log("", "alert_page", alertDetail{Step: s.ID, Users: users, Comment: CauseAlertWake})
}
