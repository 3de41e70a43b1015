package flows

import (
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// stepKeys are the keys each step type accepts besides id, name, type and when.
var stepKeys = map[StepType][]string{
	StepApproval:  {"next", "assignees", "cc", "sign", "sequential", "sla", "on_timeout", "fields", "return_to"},
	StepTask:      {"next", "assignees", "cc", "sla", "on_timeout", "fields", "return_to", "result_form"},
	StepNotify:    {"next", "assignees", "fields"},
	StepAlert:     {"next", "assignees", "fields", "dedupe_key", "group_by", "group_wait", "repeat_interval", "escalation", "auto_resolve_on"},
	StepParallel:  {"next", "branches"},
	StepCondition: {"branches", "default"},
}

// reserved ids mean something else where a step id is expected.
var reserved = []string{End, ReturnToApplicant, ReturnToPrevious}

// steps reads a step list; callers report an empty one where it was written.
func (ps *parser) steps(nodes []*yaml.Node) []*Step {
	var out []*Step
	for i, n := range nodes {
		if s := ps.step(n, i); s != nil {
			out = append(out, s)
		}
	}
	return out
}

func (ps *parser) step(n *yaml.Node, i int) *Step {
	subject := "step #" + strconv.Itoa(i+1)
	m, ok := ps.p.mapping(n, subject)
	if !ok {
		return nil
	}
	s := &Step{Line: n.Line}
	if s.ID = m.required(subject, "id"); s.ID != "" {
		subject = "step " + s.ID
		switch {
		case slices.Contains(reserved, s.ID):
			ps.p.atLine(m.line("id"), "%s: id %q is reserved", subject, s.ID)
		case !fieldKey.MatchString(s.ID):
			ps.p.atLine(m.line("id"), "%s: id must be lower_snake_case (a-z, 0-9, _), starting with a letter", subject)
		}
	}
	s.Name = m.str(subject, "name")
	if s.Name == "" {
		s.Name = s.ID
	}
	s.NameEN = m.str(subject, "name_en")
	s.Type = StepType(m.required(subject, "type"))
	keys, known := stepKeys[s.Type]
	if !known {
		if s.Type != "" {
			ps.p.atLine(m.line("type"), "%s: unknown step type %q (want approval, task, notify, alert, parallel or condition)", subject, s.Type)
		}
		return s
	}
	m.only(subject, append([]string{"id", "name", "name_en", "type", "when"}, keys...)...)
	s.When = ps.cond(m, subject, "when")
	if slices.Contains(keys, "next") {
		s.Next = m.str(subject, "next")
		s.lines.next = m.line("next")
	}
	switch s.Type {
	case StepApproval, StepTask:
		ps.humanStep(m, s, subject)
	case StepNotify:
		s.Assignees = ps.assignees(m, subject, "assignees", true)
		s.Fields = ps.access(m, subject)
	case StepAlert:
		ps.alert(m, s, subject)
	case StepParallel:
		ps.parallel(m, s, subject)
	case StepCondition:
		ps.condition(m, s, subject)
	}
	return s
}

// humanStep reads the keys of approval and task steps.
func (ps *parser) humanStep(m *mapping, s *Step, subject string) {
	s.Assignees = ps.assignees(m, subject, "assignees", true)
	s.CC = ps.assignees(m, subject, "cc", false)
	s.Fields = ps.access(m, subject)
	s.SLA = m.duration(subject, "sla")
	s.OnTimeout = ps.timeout(m, s, subject)
	if m.has("return_to") {
		s.ReturnTo = m.list(subject, "return_to")
		s.lines.returnTo = m.line("return_to")
		if len(s.ReturnTo) == 0 {
			ps.p.atLine(m.line("return_to"), "%s: return_to must list at least one target", subject)
		}
	}
	if s.Type == StepTask {
		if m.has("result_form") {
			s.ResultForm = ps.fields(m.seq(subject, "result_form"), subject+": result_form field", false)
		}
		return
	}
	s.Sequential = m.boolean(subject, "sequential")
	s.Sign = ps.sign(m, s, subject)
}

// sign reads single, any, all or percent:N. Without a sign, approvers
// decide 或签 (any), or 会签 (all) when they sign in sequence.
func (ps *parser) sign(m *mapping, s *Step, subject string) Sign {
	raw := m.str(subject, "sign")
	line := m.line("sign")
	var sg Sign
	switch {
	case raw == "" && s.Sequential:
		return Sign{Mode: SignAll}
	case raw == "":
		return Sign{Mode: SignAny}
	case raw == string(SignSingle), raw == string(SignAny), raw == string(SignAll):
		sg = Sign{Mode: SignMode(raw)}
	case strings.HasPrefix(raw, "percent:"):
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(raw, "percent:")))
		if err != nil || n < 1 || n > 100 {
			ps.p.atLine(line, "%s: sign: percent must be a whole number from 1 to 100, got %q", subject, raw)
			return Sign{Mode: SignAny}
		}
		sg = Sign{Mode: SignPercent, Percent: n}
	default:
		ps.p.atLine(line, "%s: sign: unknown sign mode %q (want single, any, all or percent:N)", subject, raw)
		return Sign{Mode: SignAny}
	}
	if s.Sequential && sg.Mode != SignAll {
		ps.p.atLine(line, "%s: sequential approval (依次审批) needs sign: all, got sign: %s", subject, raw)
	}
	return sg
}

// timeout reads on_timeout, which needs an SLA to count from.
func (ps *parser) timeout(m *mapping, s *Step, subject string) *Timeout {
	if !m.has("on_timeout") {
		return nil
	}
	sub := subject + ": on_timeout"
	tm, ok := ps.p.mapping(m.get("on_timeout"), sub)
	if !ok {
		return nil
	}
	tm.only(sub, "remind_every", "remind_max", "escalate_after", "escalate_to", "auto_action_after", "auto_action")
	if !m.has("sla") {
		ps.p.at(tm.node, "%s: needs sla: the timeout counts from the SLA deadline", sub)
	}
	if len(tm.keys) == 0 {
		ps.p.at(tm.node, "%s: set at least one of remind_every, escalate_to, auto_action", sub)
	}
	t := &Timeout{
		RemindEvery:     tm.duration(sub, "remind_every"),
		EscalateAfter:   tm.duration(sub, "escalate_after"),
		EscalateTo:      ps.assignees(tm, sub, "escalate_to", false),
		AutoActionAfter: tm.duration(sub, "auto_action_after"),
		AutoAction:      AutoAction(tm.str(sub, "auto_action")),
	}
	if n, ok := tm.integer(sub, "remind_max"); ok {
		switch {
		case !tm.has("remind_every"):
			ps.p.atLine(tm.line("remind_max"), "%s: remind_max needs remind_every", sub)
		case n < 1 || n > 1000:
			ps.p.atLine(tm.line("remind_max"), "%s: remind_max must be 1 to 1000, got %d", sub, n)
		default:
			t.RemindMax = n
		}
	}
	if tm.has("escalate_after") && !tm.has("escalate_to") {
		ps.p.atLine(tm.line("escalate_after"), "%s: escalate_after needs escalate_to", sub)
	}
	if tm.has("auto_action_after") && !tm.has("auto_action") {
		ps.p.atLine(tm.line("auto_action_after"), "%s: auto_action_after needs auto_action", sub)
	}
	switch {
	case t.AutoAction == "":
	case s.Type != StepApproval:
		ps.p.atLine(tm.line("auto_action"), "%s: auto_action applies only to approval steps", sub)
	case t.AutoAction != AutoApprove && t.AutoAction != AutoReject:
		ps.p.atLine(tm.line("auto_action"), "%s: auto_action must be approve or reject, got %q", sub, t.AutoAction)
	}
	return t
}

// access reads fields: {key: editable|read_only|hidden}.
func (ps *parser) access(m *mapping, subject string) map[string]Access {
	if !m.has("fields") {
		return nil
	}
	sub := subject + ": fields"
	fm, ok := ps.p.mapping(m.get("fields"), sub)
	if !ok {
		return nil
	}
	out := make(map[string]Access, len(fm.keys))
	for _, k := range fm.keys {
		a := Access(fm.str(sub, k.Value))
		switch {
		case ps.f.fields[k.Value] == nil:
			ps.p.at(k, "%s: %q is not a form field", sub, k.Value)
		case a != AccessEditable && a != AccessReadOnly && a != AccessHidden:
			ps.p.atLine(fm.line(k.Value), "%s: %s: unknown access %q (want editable, read_only or hidden)", sub, k.Value, a)
		default:
			out[k.Value] = a
		}
	}
	return out
}

// cond reads an expression; it is compiled once the whole flow is read.
func (ps *parser) cond(m *mapping, subject, key string) *Cond {
	n := m.get(key)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.ScalarNode || strings.TrimSpace(n.Value) == "" {
		ps.p.at(n, "%s: %s: expected an expression, got %s", subject, key, kindName(n))
		return nil
	}
	c := &Cond{Source: n.Value, Line: n.Line}
	ps.conds = append(ps.conds, condSite{cond: c, subject: subject + ": " + key})
	return c
}
