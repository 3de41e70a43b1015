package flows

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// RuleKind is how an assignee rule picks people. Resolving a rule against
// the org directory is the engine's work; this file only reads and checks
// rules.
type RuleKind string

// Assignee rule kinds, written as the rule's key in a flow file.
const (
	// RuleUser is one user by id: {user: u_li}.
	RuleUser RuleKind = "user"
	// RuleRole is every user holding a role: {role: finance}.
	RuleRole RuleKind = "role"
	// RuleDepartmentHead is a department's head: {department_head: finance}
	// or the head of the applicant's department: {department_head: applicant}.
	RuleDepartmentHead RuleKind = "department_head"
	// RuleManagerOf is the applicant's chain of managers, nearest first:
	// {manager_of: applicant, levels: 2} is the direct manager, then theirs
	// (DingTalk's 连续多级主管). Levels defaults to 1.
	RuleManagerOf RuleKind = "manager_of"
	// RuleFormField is the user named in a form field of type user:
	// {form_field: buyer}.
	RuleFormField RuleKind = "form_field"
)

// OfApplicant is the value of department_head and manager_of rules that
// means "relative to the applicant".
const OfApplicant = "applicant"

// MaxManagerLevels bounds manager_of levels; deeper chains are a typo.
const MaxManagerLevels = 10

// Rule is one assignee rule.
type Rule struct {
	Kind RuleKind
	// Value is the user id, role name, department id or OfApplicant, or
	// form field key, depending on Kind.
	Value string
	// Levels is how many managers a RuleManagerOf rule takes (1 or more).
	Levels int
	Line   int
}

// String returns the rule as written in a flow file, e.g. "role: finance".
func (r Rule) String() string {
	s := string(r.Kind) + ": " + r.Value
	if r.Kind == RuleManagerOf && r.Levels > 1 {
		s += ", levels: " + strconv.Itoa(r.Levels)
	}
	return s
}

// Assignees is a list of rules whose people are united, in rule order,
// without duplicates. Written as one rule or a list of rules.
type Assignees []Rule

// String returns the rules joined by " + ".
func (a Assignees) String() string {
	parts := make([]string, len(a))
	for i, r := range a {
		parts[i] = r.String()
	}
	return strings.Join(parts, " + ")
}

var ruleKinds = []RuleKind{RuleUser, RuleRole, RuleDepartmentHead, RuleManagerOf, RuleFormField}

// assignees reads one rule or a list of rules. required reports a missing
// key; otherwise absent reads as nil.
func (ps *parser) assignees(m *mapping, subject, key string, required bool) Assignees {
	n := m.get(key)
	if n == nil {
		if required {
			ps.p.at(m.node, "%s: %s is required", subject, key)
		}
		return nil
	}
	subject += ": " + key
	var out Assignees
	switch n.Kind {
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			ps.p.at(n, "%s: must list at least one rule", subject)
		}
		for _, item := range n.Content {
			if r, ok := ps.rule(resolve(item), subject); ok {
				out = append(out, r)
			}
		}
	default:
		if r, ok := ps.rule(n, subject); ok {
			out = append(out, r)
		}
	}
	return out
}

// rule reads one {kind: value} rule.
func (ps *parser) rule(n *yaml.Node, subject string) (Rule, bool) {
	m, ok := ps.p.mapping(n, subject)
	if !ok {
		return Rule{}, false
	}
	m.only(subject, "user", "role", "department_head", "manager_of", "form_field", "levels")
	var r Rule
	var kinds []string
	for _, k := range ruleKinds {
		if m.has(string(k)) {
			kinds = append(kinds, string(k))
			r.Kind = k
		}
	}
	switch len(kinds) {
	case 0:
		ps.p.at(n, "%s: a rule needs one of user, role, department_head, manager_of, form_field", subject)
		return Rule{}, false
	case 1:
	default:
		ps.p.at(n, "%s: a rule has exactly one of user, role, department_head, manager_of, form_field; got %s (list them as separate rules)", subject, strings.Join(kinds, " and "))
		return Rule{}, false
	}
	r.Value = m.required(subject, string(r.Kind))
	r.Line = m.line(string(r.Kind))
	r.Levels = 1
	if lv, set := m.integer(subject, "levels"); set {
		switch {
		case r.Kind != RuleManagerOf:
			ps.p.atLine(m.line("levels"), "%s: levels applies only to manager_of", subject)
		case lv < 1 || lv > MaxManagerLevels:
			ps.p.atLine(m.line("levels"), "%s: levels must be 1 to %d, got %d", subject, MaxManagerLevels, lv)
		default:
			r.Levels = lv
		}
	}
	if r.Value == "" {
		return Rule{}, false
	}
	return r, ps.checkRule(r, subject)
}

// checkRule checks what can be checked without the org directory.
func (ps *parser) checkRule(r Rule, subject string) bool {
	switch r.Kind {
	case RuleManagerOf:
		if r.Value != OfApplicant {
			ps.p.atLine(r.Line, "%s: manager_of must be %q, got %q", subject, OfApplicant, r.Value)
			return false
		}
	case RuleFormField:
		f := ps.f.fields[r.Value]
		switch {
		case f == nil:
			ps.p.atLine(r.Line, "%s: form_field %q is not a form field", subject, r.Value)
			return false
		case f.Type != FieldUser:
			ps.p.atLine(r.Line, "%s: form_field %q has type %s; it must have type user", subject, r.Value, f.Type)
			return false
		}
	}
	return true
}
