package flows

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// forecastSteps reads a forecast's path from the audit trail its run
// wrote: the trail records every decision the engine took (a step
// skipped, a route, a fallback, an auto-approval, who was assigned or
// told), so the forecast says what the engine did rather than what a
// second copy of its rules would think.
func (r *run) forecastSteps() ([]ForecastStep, error) {
	var (
		out      []ForecastStep
		skipped  = map[string][]SkippedPerson{}
		fallback = map[string]string{}
		asked    = map[string]bool{} // steps someone decided, by activation
	)
	stepOfTask := map[string]string{}
	for _, t := range r.newTasks {
		stepOfTask[t.ID] = t.StepID
	}
	for _, e := range r.audit {
		var d stepDetail
		if len(e.Detail) > 0 {
			if err := json.Unmarshal(e.Detail, &d); err != nil {
				return nil, fmt.Errorf("forecast: audit %s: %w", e.Action, err)
			}
		}
		s := r.f.Step(d.Step)
		switch e.Action {
		case "approve", "complete":
			asked[stepOfTask[e.TaskID]] = true
			continue
		case "fallback":
			var fb fallbackDetail
			if err := json.Unmarshal(e.Detail, &fb); err != nil {
				return nil, fmt.Errorf("forecast: audit %s: %w", e.Action, err)
			}
			fallback[fb.Step] = fb.Rules
			continue
		case "auto_approve":
			reason := SkipReasonRepeated
			if d.Reason == SkipApplicant {
				reason = SkipReasonApplicant
			}
			p, err := r.person(d.User)
			if err != nil {
				return nil, err
			}
			skipped[d.Step] = append(skipped[d.Step], SkippedPerson{Person: p, Reason: reason})
			continue
		case "cc":
			// A step's CC are told as it passes, after it was listed.
			for i := len(out) - 1; i >= 0; i-- {
				if out[i].ID == d.Step {
					cc, err := r.people(d.Users)
					if err != nil {
						return nil, err
					}
					out[i].CC = append(out[i].CC, cc...)
					break
				}
			}
			continue
		case "pass":
			if i := lastOf(out, d.Step); i >= 0 && out[i].Status == ForecastAsk && !asked[d.Step] {
				out[i].Status = ForecastAuto
			}
			continue
		}
		status := map[string]string{"skip": ForecastNotTaken, "route": ForecastRouted, "fork": ForecastFork,
			"assign": ForecastAsk, "notify": ForecastNotify, "alert_fire": ForecastAlert}[e.Action]
		if status == "" || s == nil {
			continue
		}
		fs := r.forecastStep(s, status)
		fs.To = d.To
		if status == ForecastRouted {
			fs.Branches = r.f.branches(s)
		}
		if status != ForecastNotTaken && status != ForecastRouted {
			fs.When = ""
		}
		if len(d.Users) > 0 && status != ForecastNotTaken {
			var err error
			if fs.People, err = r.people(d.Users); err != nil {
				return nil, err
			}
			if fs.Proxies, err = r.proxiesFor(d.Users); err != nil {
				return nil, err
			}
		}
		if status == ForecastAsk {
			fs.Skipped, fs.Fallback = skipped[s.ID], fallback[s.ID]
			delete(skipped, s.ID)
			delete(fallback, s.ID)
			delete(asked, s.ID)
		}
		out = append(out, fs)
	}
	return out, nil
}

// forecastStep describes step s with status, before its people are known.
func (r *run) forecastStep(s *Step, status string) ForecastStep {
	fs := ForecastStep{ID: s.ID, Name: s.Name, Type: s.Type, Status: status, When: condText(s.When)}
	fs.WhenText = r.f.CondText(fs.When)
	if s.Type == StepApproval {
		fs.Sign, fs.Sequential = s.Sign.String(), s.Sequential
	}
	if p, b := r.f.Enclosing(s); p != nil {
		fs.Parallel, fs.Branch = p.ID, p.Parallel[b].Name
	}
	return fs
}

func lastOf(steps []ForecastStep, id string) int {
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].ID == id {
			return i
		}
	}
	return -1
}

// person is a user with their name; a user the directory does not know
// any more keeps their id as name.
func (r *run) person(id string) (Person, error) {
	u, err := r.user(id)
	if err != nil {
		return Person{}, err
	}
	name := u.Name
	if name == "" {
		name = u.ID
	}
	return Person{ID: u.ID, Name: name}, nil
}

func (r *run) people(ids []string) ([]Person, error) {
	out := make([]Person, 0, len(ids))
	for _, id := range ids {
		p, err := r.person(id)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// proxiesFor lists the leave proxies in force now for users on this flow.
func (r *run) proxiesFor(users []string) ([]ProxyActing, error) {
	var out []ProxyActing
	for _, u := range users {
		for _, by := range r.proxies().Of(u, r.f.ID, r.now) {
			forP, err := r.person(u)
			if err != nil {
				return nil, err
			}
			byP, err := r.person(by)
			if err != nil {
				return nil, err
			}
			out = append(out, ProxyActing{By: byP, For: forP})
		}
	}
	return out, nil
}

// condRef is a field a condition reads: form.<key>, results.<step>.<key>.
var condRef = regexp.MustCompile(`\b(?:form|results\.([a-z][a-z0-9_]*))\.([a-z][a-z0-9_]*)\b`)

// CondText is a condition as people read it: each field it reads named by
// its label, a result by its step's name and its label (订单金额 > 5000,
// 质检·合格); the rest as written.
func (f *Flow) CondText(src string) string {
	return condRef.ReplaceAllStringFunc(src, func(ref string) string {
		m := condRef.FindStringSubmatch(ref)
		if m[1] == "" {
			if fd := f.fields[m[2]]; fd != nil {
				return fd.Label
			}
			return ref
		}
		if s := f.Step(m[1]); s != nil {
			for _, fd := range s.ResultForm {
				if fd.Key == m[2] {
					return s.Name + "·" + fd.Label
				}
			}
		}
		return ref
	})
}

func condText(c *Cond) string {
	if c == nil {
		return ""
	}
	return c.Source
}

// readsResults returns the task steps whose results a compiled condition
// reads (results.<step>…), in the order of the flow's result steps; a
// condition that reads results as a whole reads them all.
func readsResults(prog *vm.Program, env *exprEnv) []string {
	v := &resultsVisitor{steps: map[string]bool{}}
	node := prog.Node()
	ast.Walk(&node, v)
	var out []string
	for _, s := range env.resultSteps {
		if v.whole > v.members || v.steps[s.ID] {
			out = append(out, s.ID)
		}
	}
	return out
}

// resultsVisitor counts the uses of results: as results.<step> (members)
// and in all (whole, which includes the member uses).
type resultsVisitor struct {
	steps          map[string]bool
	whole, members int
}

func (v *resultsVisitor) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		if x.Value == "results" {
			v.whole++
		}
	case *ast.MemberNode:
		id, ok := x.Node.(*ast.IdentifierNode)
		if !ok || id.Value != "results" {
			return
		}
		v.members++
		if p, ok := x.Property.(*ast.StringNode); ok {
			v.steps[p.Value] = true
		} else {
			v.whole++ // results[someExpression]: any step
		}
	}
}
