package flows

import "slices"

// CheckOrg checks the flow's assignee rules against an org directory: every
// user exists, every role is held by someone, every named department exists
// and has a head. Rules relative to the applicant or a form field can only
// be resolved per instance and are not checked. The error is a
// *ValidationError naming the file and line of each rule; run it at start-up
// and in `cardflow flows validate --org`, so a typo in a role is not found
// by the first applicant whose request lands on the fallback.
func (f *Flow) CheckOrg(o Org) error {
	c := orgCheck{p: &problems{file: f.File}, o: o, users: map[string]bool{}, depts: map[string]Department{}}
	for _, u := range o.Users {
		c.users[u.ID] = true
	}
	for _, d := range o.Departments {
		c.depts[d.ID] = d
	}
	c.rules("settings: fallback", f.Settings.Fallback)
	f.walk(func(s *Step) {
		subject := "step " + s.ID
		c.rules(subject+": assignees", s.Assignees)
		c.rules(subject+": cc", s.CC)
		if s.OnTimeout != nil {
			c.rules(subject+": on_timeout: escalate_to", s.OnTimeout.EscalateTo)
		}
		if s.Alert != nil {
			for _, e := range s.Alert.Escalation {
				c.rules(subject+": escalation", e.Assignees)
			}
		}
	})
	return c.p.err()
}

type orgCheck struct {
	p     *problems
	o     Org
	users map[string]bool
	depts map[string]Department
}

func (c *orgCheck) rules(subject string, a Assignees) {
	for _, r := range a {
		switch r.Kind {
		case RuleUser:
			if !c.users[r.Value] {
				c.p.atLine(r.Line, "%s: no user %q in the org", subject, r.Value)
			}
		case RuleRole:
			if !c.roleHeld(r.Value) {
				c.p.atLine(r.Line, "%s: no user in the org has role %q", subject, r.Value)
			}
		case RuleDepartmentHead:
			if r.Value == OfApplicant {
				continue
			}
			d, ok := c.depts[r.Value]
			switch {
			case !ok:
				c.p.atLine(r.Line, "%s: no department %q in the org", subject, r.Value)
			case !c.users[d.Head]:
				c.p.atLine(r.Line, "%s: department %q has no head", subject, r.Value)
			}
		}
	}
}

func (c *orgCheck) roleHeld(role string) bool {
	return slices.ContainsFunc(c.o.Users, func(u User) bool { return slices.Contains(u.Roles, role) })
}
