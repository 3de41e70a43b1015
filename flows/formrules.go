package flows

import (
	"cmp"
	"fmt"
	"reflect"
	"strconv"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// FormRule is a check across a form's fields that no one field's type can
// make, from the flow file's `rules:`:
//
//	rules:
//	  - check: form.ends_on >= form.starts_on
//	    field: ends_on
//	    message: 结束日期不能早于开始日期
//	    message_en: The end date cannot be before the start date
//
// Source, the check, is an expression over form.* only (as in a condition: money exact,
// dates comparable). It is checked when every field it reads is set, since
// whether a field must be set is the field's own required; a form that
// breaks it is refused with a CodeRule problem at Field, in the rule's own
// words. Rules hold for the form as started, resubmitted and edited.
type FormRule struct {
	Source    string
	Line      int
	Field     string
	Message   string
	MessageEN string

	program *vm.Program
	reads   []string // the form fields Check reads
}

// parseRules reads the flow's rules; they are compiled with the flow's
// conditions (compileRules).
func (ps *parser) parseRules(m *mapping) {
	for i, n := range m.seq("flow", "rules") {
		sub := "rules #" + strconv.Itoa(i+1)
		rm, ok := ps.p.mapping(n, sub)
		if !ok {
			continue
		}
		rm.only(sub, "check", "field", "message", "message_en")
		r := &FormRule{Source: rm.required(sub, "check"), Line: rm.line("check"), Field: rm.required(sub, "field"),
			Message: rm.required(sub, "message"), MessageEN: rm.str(sub, "message_en")}
		if r.Field != "" && ps.f.fields[r.Field] == nil {
			ps.p.atLine(rm.line("field"), "%s: field: %s is not a field of the form", sub, r.Field)
		}
		ps.f.Rules = append(ps.f.Rules, r)
	}
}

// compileRules compiles every rule against an environment holding the
// form alone: a rule cannot read the applicant, the context or results.
func (ps *parser) compileRules() {
	if len(ps.f.Rules) == 0 {
		return
	}
	if ps.f.exprEnv == nil {
		ps.f.exprEnv = ps.f.buildExprEnv()
	}
	env := ps.f.exprEnv
	env.formOnly = reflect.StructOf([]reflect.StructField{field(0, "form", env.form)})
	opts := append([]expr.Option{expr.Env(reflect.Zero(env.formOnly).Interface()), expr.AsBool()}, moneyOptions()...)
	for i, r := range ps.f.Rules {
		if r.Source == "" {
			continue
		}
		prog, err := expr.Compile(r.Source, opts...)
		if err != nil {
			ps.p.atLine(r.Line, "rules #%d: check (the form only): %s", i+1, ps.f.explain(err))
			continue
		}
		r.program = prog
		r.reads = readsForm(prog)
	}
}

// checkRules adds a CodeRule problem for every rule the validated form
// breaks. An error is a rule that could not run on it.
func (f *Flow) checkRules(form map[string]any, fp *formProblems) error {
	var env any // the form as the rules read it, built for the first rule that runs
	for _, r := range f.Rules {
		if r.program == nil || !allSet(form, r.reads) {
			continue
		}
		if env == nil {
			root := reflect.New(f.exprEnv.formOnly).Elem()
			if err := fill(root.Field(0), f.Form, form, "form."); err != nil {
				return err
			}
			env = root.Interface()
		}
		out, err := expr.Run(r.program, env)
		if err != nil {
			return fmt.Errorf("flow %s: rule %q (line %d): %w", f.ID, r.Source, r.Line, err)
		}
		if ok, _ := out.(bool); !ok {
			fd := f.fields[r.Field]
			fp.list = append(fp.list, FieldProblem{Field: r.Field, Label: fd.Label, LabelEN: fd.LabelEN, Code: CodeRule,
				Message: cmp.Or(r.MessageEN, r.Message), Says: r.Message, SaysEN: r.MessageEN})
		}
	}
	return nil
}

func allSet(form map[string]any, keys []string) bool {
	for _, k := range keys {
		if v, ok := form[k]; !ok || v == nil {
			return false
		}
	}
	return true
}

// readsForm returns the form fields a compiled expression reads
// (form.<key>); one that reads form as a whole reads no one field.
func readsForm(prog *vm.Program) []string {
	v := &formVisitor{}
	node := prog.Node()
	ast.Walk(&node, v)
	return v.keys
}

type formVisitor struct{ keys []string }

func (v *formVisitor) Visit(n *ast.Node) {
	m, ok := (*n).(*ast.MemberNode)
	if !ok {
		return
	}
	if id, ok := m.Node.(*ast.IdentifierNode); ok && id.Value == "form" {
		if p, ok := m.Property.(*ast.StringNode); ok {
			v.keys = append(v.keys, p.Value)
		}
	}
}
