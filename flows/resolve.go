package flows

import (
	"errors"
	"fmt"
	"slices"
)

// assignees resolves who acts at a step. When the step's rules name nobody
// (a vacant manager post, an empty role, a user who left), the flow's
// fallback takes the task and the audit trail says why; when the fallback
// is empty too the step cannot start and the operation fails with
// ErrNoAssignee rather than leave an instance nobody can move.
func (r *run) assignees(s *Step) ([]string, error) {
	users, err := r.resolve(s.Assignees)
	if err != nil || len(users) > 0 {
		return users, err
	}
	fallback, err := r.resolve(r.f.Settings.Fallback)
	if err != nil {
		return nil, err
	}
	note := fallbackDetail{Step: s.ID, Rules: s.Assignees.String(), Fallback: r.f.Settings.Fallback.String(), Users: fallback}
	if err := r.logAs(SystemActor, "", "", "fallback", note); err != nil {
		return nil, err
	}
	if len(fallback) == 0 {
		return nil, fmt.Errorf("step %s: %s, fallback %s: %w", s.ID, note.Rules, note.Fallback, ErrNoAssignee)
	}
	return fallback, nil
}

type fallbackDetail struct {
	Step     string   `json:"step"`
	Rules    string   `json:"rules"`
	Fallback string   `json:"fallback"`
	Users    []string `json:"users"`
}

// resolve returns the users of rules in rule order without duplicates.
// People the directory does not know are left out, so a stale rule leads
// to the fallback instead of a task nobody can see.
func (r *run) resolve(rules Assignees) ([]string, error) {
	var out []string
	add := func(ids ...string) {
		for _, id := range ids {
			if id != "" && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	for _, rule := range rules {
		ids, err := r.resolveRule(rule)
		if err != nil {
			return nil, fmt.Errorf("assignee rule %s: %w", rule, err)
		}
		add(ids...)
	}
	return out, nil
}

func (r *run) resolveRule(rule Rule) ([]string, error) {
	switch rule.Kind {
	case RuleUser:
		return r.known(rule.Value)
	case RuleRole:
		users, err := r.e.orgRole(r.ctx, rule.Value)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(users))
		for i, u := range users {
			r.users[u.ID] = u
			ids[i] = u.ID
		}
		return ids, nil
	case RuleDepartmentHead:
		return r.departmentHead(rule.Value)
	case RuleManagerOf:
		return r.managers(rule.Levels)
	case RuleFormField:
		form, err := r.formValues()
		if err != nil {
			return nil, err
		}
		id, _ := form[rule.Value].(string)
		return r.known(id)
	}
	return nil, fmt.Errorf("unknown rule kind %q", rule.Kind)
}

// known returns id when the directory has such a user.
func (r *run) known(id string) ([]string, error) {
	if id == "" || id == SystemActor {
		return nil, nil
	}
	_, err := r.user(id)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return []string{id}, nil
}

// departmentHead resolves {department_head: applicant|<department>}.
func (r *run) departmentHead(value string) ([]string, error) {
	dept := value
	if value == OfApplicant {
		app, err := r.applicantUser()
		if err != nil || app == nil {
			return nil, err
		}
		dept = app.Department
	}
	d, err := r.e.orgDepartment(r.ctx, dept)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return r.known(d.Head)
}

// managers walks up the applicant's managers, nearest first (连续多级主管).
func (r *run) managers(levels int) ([]string, error) {
	u, err := r.applicantUser()
	if err != nil || u == nil {
		return nil, err
	}
	var out []string
	for cur := *u; len(out) < levels && cur.Manager != ""; {
		m, err := r.user(cur.Manager)
		switch {
		case errors.Is(err, ErrNotFound):
			return out, nil
		case err != nil:
			return nil, err
		}
		if slices.Contains(out, m.ID) { // the org file forbids cycles; a store might not
			break
		}
		out = append(out, m.ID)
		cur = m
	}
	return out, nil
}

// Reasons an approval is auto-approved, as the task's comment says.
const (
	SkipApplicant = "auto: approver is the applicant"
	SkipRepeated  = "auto: approved an earlier step"
)

// autoSkip returns, for the approvers of an approval step the flow's
// auto_skip settings name, why they are approved without being asked.
func (r *run) autoSkip(s *Step, users []string) map[string]string {
	set := r.f.Settings.AutoSkip
	if s.Type != StepApproval || (!set.Applicant && !set.Repeated) {
		return nil
	}
	out := map[string]string{}
	approved := r.st.approvers()
	for _, u := range users {
		switch {
		case set.Applicant && u == r.inst.Applicant:
			out[u] = SkipApplicant
		case set.Repeated && approved[u]:
			out[u] = SkipRepeated
		}
	}
	return out
}
