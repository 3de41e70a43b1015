package bot

import (
	"slices"
	"strings"
	"time"

	"cardflow/flows"
)

// snoozeFor is how long the snooze button silences an alert.
const snoozeFor = "1h"

// alertState is an alert group as its audit trail tells it: the view of
// an instance leaves the engine's own state out, and the trail says it
// all (alerts fired, joined, counted, resolved; acknowledged; snoozed).
type alertState struct {
	items       []*alertItem
	ackBy       string
	ackFor      string
	ackAt       time.Time
	snoozedBy   string
	snoozeUntil time.Time
}

type alertItem struct {
	key      string
	count    int
	last     time.Time
	resolved bool
	labels   map[string]any // its form as its latest event gave it
}

func (p *page) alertState() alertState {
	var st alertState
	find := func(key string) *alertItem {
		for _, x := range st.items {
			if x.key == key {
				return x
			}
		}
		x := &alertItem{key: key}
		st.items = append(st.items, x)
		return x
	}
	for _, a := range p.view.Audit {
		d := decodeDetail(a.Detail)
		switch a.Action {
		case "alert_fire", "alert_group", "alert_dedupe":
			x := find(d.Key)
			x.count, x.last = max(d.Count, 1), a.At
			if d.Labels != nil {
				x.labels = d.Labels
			}
		case "auto_resolve", "resolve":
			for _, x := range st.items {
				x.resolved = x.resolved || d.Key == "" || x.key == d.Key
			}
		case "acknowledge":
			st.ackBy, st.ackFor, st.ackAt = a.Actor, a.OnBehalfOf, a.At
			st.snoozedBy, st.snoozeUntil = "", time.Time{}
		case "snooze":
			st.snoozedBy, st.snoozeUntil = a.Actor, d.Until
		case "alert_page":
			if d.Comment == flows.CauseAlertWake {
				st.snoozedBy, st.snoozeUntil = "", time.Time{}
			}
		}
	}
	return st
}

// alertCard fills the card of an on-call holder's alert task: red while
// it fires, orange once acknowledged or snoozed, grey once resolved.
func (p *page) alertCard(c *Card, task flows.Task, mayAct bool) {
	t := p.t
	st := p.alertState()
	c.Text = p.alertText(st, task.StepID)
	if len(st.items) > 1 {
		// A group's card is about the group (超卖告警 · main · 3 条告警),
		// not the alert that happened to fire first: its fields are the
		// ones every alert shares; the list says what each alert says.
		c.Title = p.groupTitle(task.StepID, len(st.items))
		c.Fields = p.groupFields(c.Fields, task.StepID)
	} else if len(st.items) == 1 && st.items[0].labels != nil {
		p.latestFields(c.Fields, st.items[0].labels) // 可售库存 5, not the first event's 9
	}
	switch {
	case task.Status != flows.TaskOpen:
		c.Status = StatusDone
		if task.Outcome == "auto_resolve" {
			c.StatusLine = t.s(mAutoResolved, p.when(task.DecidedAt))
		} else {
			_, c.StatusLine = p.closedTask(task)
		}
	case st.ackBy != "":
		c.Status = StatusAlertWarn
		c.StatusLine = t.s(mStatusOwn, t.done("acknowledge"), p.actor(st.ackBy, st.ackFor), p.when(st.ackAt))
	case st.snoozeUntil.After(p.now):
		c.Status = StatusAlertWarn
		c.StatusLine = t.s(mSnoozedUntil, p.when(st.snoozeUntil), p.name(st.snoozedBy))
	default:
		c.Status = StatusAlert
	}
	if !mayAct {
		return
	}
	pl := p.payload(task.ID)
	if st.ackBy == "" {
		c.Buttons = []Button{
			{Label: t.s(mBtnAcknowledge), Style: StylePrimary, Action: flows.ActAcknowledge, Payload: pl},
			{Label: t.s(mBtnSnooze), Style: StyleDefault, Action: flows.ActSnooze, Payload: pl,
				Values: map[string]string{ValueSnoozeFor: snoozeFor}},
			{Label: t.s(mBtnResolve), Style: StyleDefault, Action: flows.ActResolve, Payload: pl},
		}
	} else {
		c.Buttons = []Button{{Label: t.s(mBtnResolve), Style: StylePrimary, Action: flows.ActResolve, Payload: pl}}
	}
	c.Inputs = []Input{p.commentInput(mInNote, "")}
}

// alertText lists the group's alerts: what each says (its fields but the
// ones every alert of the group shares), how often it fired and when
// last, or that it resolved.
func (p *page) alertText(st alertState, stepID string) string {
	if len(st.items) == 0 {
		return ""
	}
	t := p.t
	lines := []string{t.s(mAlerts, len(st.items))}
	for _, x := range st.items {
		line := "- " + mdEscape(x.key) + " · "
		if says := p.alertLabels(x.labels, stepID); says != "" {
			line += mdEscape(says) + " · "
		}
		if x.resolved {
			line += t.s(mAlertResolved)
		} else {
			line += t.s(mAlertCount, x.count) + " · " + t.s(mAlertLast, p.when(x.last))
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// alertLabels writes an alert's own fields (超卖数量 3 · 最新订单号 G-4):
// not those of its key or its group, which the line and the title say,
// and none the step hides.
func (p *page) alertLabels(labels map[string]any, stepID string) string {
	s := p.flow.Step(stepID)
	if len(labels) == 0 || s == nil || s.Alert == nil {
		return ""
	}
	var parts []string
	for _, fd := range p.flow.Form {
		v, ok := labels[fd.Key]
		if !ok || v == nil || slices.Contains(s.Alert.DedupeKey, fd.Key) || slices.Contains(s.Alert.GroupBy, fd.Key) ||
			p.flow.Access(stepID, fd.Key) == flows.AccessHidden {
			continue
		}
		if text := p.value(fd, v); text != "" {
			parts = append(parts, fd.LabelIn(p.t.en)+" "+text)
		}
	}
	return strings.Join(parts, " · ")
}

// latestFields writes into fields the values an alert's latest event gave.
func (p *page) latestFields(fields []Field, labels map[string]any) {
	for i, f := range fields {
		for _, fd := range p.flow.Form {
			if v, ok := labels[fd.Key]; ok && v != nil && fd.LabelIn(p.t.en) == f.Label {
				if text := p.value(fd, v); text != "" {
					fields[i].Value = text
				}
			}
		}
	}
}

// groupFields keeps of fields those of the group's shared values.
func (p *page) groupFields(fields []Field, stepID string) []Field {
	s := p.flow.Step(stepID)
	if s == nil || s.Alert == nil {
		return fields
	}
	shared := map[string]bool{}
	for _, key := range s.Alert.GroupBy {
		if fd := p.flow.Field(key); fd != nil {
			shared[fd.LabelIn(p.t.en)] = true
		}
	}
	return slices.DeleteFunc(fields, func(f Field) bool { return !shared[f.Label] })
}

// groupTitle names an alert group by its flow and the values its alerts
// share, with how many there are.
func (p *page) groupTitle(stepID string, n int) string {
	parts := []string{p.flow.NameIn(p.t.en)}
	if s := p.flow.Step(stepID); s != nil && s.Alert != nil {
		for _, fv := range p.view.Form {
			if fv.Set && slices.Contains(s.Alert.GroupBy, fv.Field.Key) {
				parts = append(parts, p.value(fv.Field, fv.Value))
			}
		}
	}
	return strings.Join(append(parts, p.t.s(mAlertsN, n)), " · ")
}
