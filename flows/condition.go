package flows

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Cond is a condition (a step's when, a condition branch's when) written in
// expr-lang/expr and compiled once when its flow is parsed. It reads:
//
//	form.<key>           the applicant's form, typed by its fields: text as
//	                     string, number as float64, money as an exact decimal
//	                     (see money.go), date as time.Time at UTC midnight,
//	                     bool, table as a list of rows; a field left empty
//	                     reads as its type's zero value
//	applicant.id, applicant.department, applicant.roles
//	context.<name>       anything the engine or trigger event supplies
//	results.<step>.<key> the result form a task step was completed with
//
// Evaluate it with Flow.Eval.
type Cond struct {
	Source string
	Line   int

	flow    *Flow
	program *vm.Program
	// results are the task steps whose results the condition reads.
	results []string
}

// String returns the condition as written.
func (c *Cond) String() string { return c.Source }

// Env is what a condition is evaluated against.
type Env struct {
	// Form is the instance's form, normalised (ValidateForm's result) or as
	// decoded from JSON; each value is normalised again on the way in.
	Form      map[string]any
	Applicant Applicant
	Context   map[string]any
	// Results maps a task step id to the result form it was completed with.
	Results map[string]map[string]any
}

// Applicant is the applicant as conditions see them.
type Applicant struct {
	ID         string   `expr:"id"`
	Department string   `expr:"department"`
	Roles      []string `expr:"roles"`
}

// ErrForeignCond is returned by Eval for a condition of another flow.
var ErrForeignCond = errors.New("condition belongs to another flow")

// Eval evaluates a condition; a nil condition (a step without when) holds.
func (f *Flow) Eval(c *Cond, env Env) (bool, error) {
	if c == nil {
		return true, nil
	}
	if c.flow != f || c.program == nil {
		return false, fmt.Errorf("flow %s: eval %q: %w", f.ID, c.Source, ErrForeignCond)
	}
	v, err := f.envValue(env)
	if err != nil {
		return false, fmt.Errorf("flow %s: eval %q: %w", f.ID, c.Source, err)
	}
	out, err := expr.Run(c.program, v)
	if err != nil {
		return false, fmt.Errorf("flow %s: eval %q (line %d): %w", f.ID, c.Source, c.Line, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("flow %s: eval %q: got %T, want bool", f.ID, c.Source, out)
	}
	return b, nil
}

// Route returns where a condition step goes: the goto of its first branch
// whose condition holds, else its default, else its successor. For any
// other step it returns the successor.
func (f *Flow) Route(s *Step, env Env) (string, error) {
	for _, c := range s.Cases {
		ok, err := f.Eval(c.When, env)
		if err != nil {
			return "", fmt.Errorf("step %s: %w", s.ID, err)
		}
		if ok {
			return c.Goto, nil
		}
	}
	if s.Type == StepCondition && s.Default != "" {
		return s.Default, nil
	}
	return f.Successor(s), nil
}

// compileConds builds the condition environment and compiles every
// condition of the flow against it.
func (ps *parser) compileConds() {
	if len(ps.conds) == 0 {
		return
	}
	env := ps.f.buildExprEnv()
	ps.f.exprEnv = env
	opts := append([]expr.Option{expr.Env(reflect.Zero(env.root).Interface()), expr.AsBool()}, moneyOptions()...)
	for _, site := range ps.conds {
		prog, err := expr.Compile(site.cond.Source, opts...)
		if err != nil {
			ps.p.atLine(site.cond.Line, "%s: %s", site.subject, ps.f.explain(err))
			continue
		}
		site.cond.program = prog
		site.cond.flow = ps.f
		site.cond.results = readsResults(prog, env)
	}
}

// typeNames are Go type names in expr's messages, in the users' words.
var typeNames = []struct{ goName, name string }{
	{"decimal.Decimal", "money"}, {"time.Time", "date"}, {"float64", "number"},
	{"interface {}", "any"}, {"flows.Applicant", "applicant"},
}

var (
	noField     = regexp.MustCompile(`^type (.+) has no field (\S+)$`)
	unknownName = regexp.MustCompile(`^unknown name (\S+)$`)
)

// explain turns an expr compile error into a message naming form fields and
// types as the flow file does, with the column of the fault.
func (f *Flow) explain(err error) string {
	msg, col := err.Error(), 0
	var fe *file.Error
	if errors.As(err, &fe) {
		msg, col = fe.Message, fe.Column+1
	}
	for _, t := range f.exprEnv.labels() {
		msg = strings.ReplaceAll(msg, t.goName, t.name)
	}
	for _, t := range typeNames {
		msg = strings.ReplaceAll(msg, t.goName, t.name)
	}
	if m := noField.FindStringSubmatch(msg); m != nil {
		switch {
		case m[1] == "form":
			msg = fmt.Sprintf("unknown form field %q", m[2])
		case m[1] == "results":
			msg = fmt.Sprintf("results: no task step %q with a result_form", m[2])
		case strings.HasPrefix(m[1], "results."):
			msg = fmt.Sprintf("step %s's result_form has no field %q", strings.TrimPrefix(m[1], "results."), m[2])
		default:
			msg = fmt.Sprintf("%s has no field %q", m[1], m[2])
		}
	}
	if m := unknownName.FindStringSubmatch(msg); m != nil && f.fields[m[1]] != nil {
		msg += " (did you mean form." + m[1] + "?)"
	}
	if col > 0 {
		msg += " (column " + strconv.Itoa(col) + ")"
	}
	return msg
}

// labels maps the generated struct types to readable names, longest type
// string first so that an enclosing type is renamed before its parts.
func (e *exprEnv) labels() []struct{ goName, name string } {
	var out []struct{ goName, name string }
	add := func(t reflect.Type, name string) {
		if t != nil {
			out = append(out, struct{ goName, name string }{t.String(), name})
		}
	}
	add(e.root, "env")
	add(e.form, "form")
	add(e.results, "results")
	for _, k := range slices.Sorted(maps.Keys(e.rows)) {
		add(e.rows[k], "row of "+k)
	}
	for _, s := range e.resultSteps {
		add(e.result[s.ID], "results."+s.ID)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if len(out[i].goName) != len(out[j].goName) {
			return len(out[i].goName) > len(out[j].goName)
		}
		return out[i].goName < out[j].goName
	})
	return out
}
