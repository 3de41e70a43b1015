package flows

import (
	"cmp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// alert reads an alert step's policy; delivery is the engine's.
func (ps *parser) alert(m *mapping, s *Step, subject string) {
	s.Assignees = ps.assignees(m, subject, "assignees", true)
	s.Fields = ps.access(m, subject)
	a := &Alert{
		DedupeKey:      m.list(subject, "dedupe_key"),
		GroupBy:        m.list(subject, "group_by"),
		GroupWait:      cmp.Or(m.duration(subject, "group_wait"), DefaultGroupWait),
		RepeatInterval: cmp.Or(m.duration(subject, "repeat_interval"), DefaultRepeatInterval),
		AutoResolveOn:  m.str(subject, "auto_resolve_on"),
	}
	s.Alert = a
	if !m.has("dedupe_key") {
		ps.p.atLine(s.Line, "%s: dedupe_key is required: it tells a repeated event from a new alert", subject)
	}
	for _, key := range []string{"dedupe_key", "group_by"} {
		for _, k := range m.list(subject, key) {
			if f := ps.f.fields[k]; f == nil || f.Type == FieldTable {
				ps.p.atLine(m.line(key), "%s: %s: %q is not a form field", subject, key, k)
			}
		}
	}
	if m.has("auto_resolve_on") && a.AutoResolveOn == "" {
		ps.p.atLine(m.line("auto_resolve_on"), "%s: auto_resolve_on must name an event", subject)
	}
	var last Escalation
	for i, n := range m.seq(subject, "escalation") {
		sub := subject + ": escalation #" + strconv.Itoa(i+1)
		em, ok := ps.p.mapping(n, sub)
		if !ok {
			continue
		}
		em.only(sub, "after", "assignees")
		e := Escalation{After: em.duration(sub, "after"), Line: n.Line}
		if !em.has("after") {
			ps.p.at(n, "%s: after is required", sub)
		}
		e.Assignees = ps.assignees(em, sub, "assignees", true)
		if i > 0 && e.After != 0 && e.After <= last.After {
			ps.p.atLine(em.line("after"), "%s: after must be later than the level before (%s)", sub, FormatDuration(last.After))
		}
		a.Escalation = append(a.Escalation, e)
		last = e
	}
}

// parallel reads branches, each a list of steps or {name, steps}.
func (ps *parser) parallel(m *mapping, s *Step, subject string) {
	if !m.has("branches") {
		ps.p.atLine(s.Line, "%s: branches is required", subject)
		return
	}
	nodes := m.seq(subject, "branches")
	if len(nodes) < 2 && m.get("branches").Kind == yaml.SequenceNode {
		ps.p.atLine(m.line("branches"), "%s: a parallel step needs at least 2 branches", subject)
	}
	for i, n := range nodes {
		sub := subject + ": branch #" + strconv.Itoa(i+1)
		br := Branch{Name: "#" + strconv.Itoa(i+1)}
		steps := n
		if n.Kind == yaml.MappingNode {
			bm, _ := ps.p.mapping(n, sub)
			bm.only(sub, "name", "name_en", "steps")
			br.Name = cmp.Or(bm.str(sub, "name"), br.Name)
			br.NameEN = bm.str(sub, "name_en")
			if steps = bm.get("steps"); steps == nil {
				ps.p.at(n, "%s: steps is required", sub)
				continue
			}
		}
		if steps.Kind != yaml.SequenceNode {
			ps.p.at(steps, "%s: expected a list of steps, got %s", sub, kindName(steps))
			continue
		}
		items := make([]*yaml.Node, len(steps.Content))
		for j, it := range steps.Content {
			items[j] = resolve(it)
		}
		if len(items) == 0 {
			ps.p.at(steps, "%s: at least one step is required", sub)
			continue
		}
		br.Steps = ps.steps(items)
		s.Parallel = append(s.Parallel, br)
	}
}

// condition reads ordered {when, goto} branches and the default.
func (ps *parser) condition(m *mapping, s *Step, subject string) {
	s.Default = m.str(subject, "default")
	s.lines.def = m.line("default")
	if !m.has("branches") {
		ps.p.atLine(s.Line, "%s: branches is required", subject)
		return
	}
	nodes := m.seq(subject, "branches")
	if len(nodes) == 0 && m.get("branches").Kind == yaml.SequenceNode {
		ps.p.atLine(m.line("branches"), "%s: a condition step needs at least 1 branch", subject)
	}
	for i, n := range nodes {
		sub := subject + ": branch #" + strconv.Itoa(i+1)
		bm, ok := ps.p.mapping(n, sub)
		if !ok {
			continue
		}
		bm.only(sub, "when", "goto")
		c := Case{When: ps.cond(bm, sub, "when"), Goto: bm.required(sub, "goto"), Line: bm.line("goto")}
		if !bm.has("when") {
			ps.p.at(n, "%s: when is required (use default for the otherwise branch)", sub)
		}
		s.Cases = append(s.Cases, c)
	}
}
