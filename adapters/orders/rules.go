package orders

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"cardflow/flows"
)

// Rules say which order events start which flows, read from a YAML file:
//
//	rules:
//	  - name: 付款订单进入履约
//	    on: order.paid                # an EventKind
//	    when: order.paid > 0          # optional, expr over order (see Env)
//	    start: order_fulfilment       # a flow id
//	    form:                         # the flow's form, field by field
//	      order_no: order.no
//	      amount: order.paid
//
// Every rule an event matches starts its flow, once per event (the start is
// keyed by the event's id).
type Rules struct {
	File  string
	Rules []*Rule
}

// Rule is one routing rule.
type Rule struct {
	Name  string
	On    EventKind
	When  string
	Start string
	// Form maps each form field to its expression, in file order.
	Form []FormValue
	Line int

	when *vm.Program
}

// FormValue is one field of a rule's form and the expression giving it.
type FormValue struct {
	Field string
	Expr  string
	Line  int
	prog  *vm.Program
}

var eventKinds = []EventKind{EventCreated, EventPaid, EventShipped, EventFinished, EventCancelled, EventChanged,
	EventRefundRequested, EventRefunded}

// LoadRules reads a rules file. Every problem is reported, each with the
// file and line it is at.
func LoadRules(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("orders: rules: %w", err)
	}
	return ParseRules(path, data)
}

// ParseRules reads rules from data; file names it in errors.
func ParseRules(file string, data []byte) (*Rules, error) {
	rs := &Rules{File: file}
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return rs, nil
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: expected a mapping with a list of rules", file, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "rules" {
			fail(k.Line, "unknown key %q (expected rules)", k.Value)
			continue
		}
		if v.Kind != yaml.SequenceNode {
			fail(v.Line, "rules: expected a list of rules")
			continue
		}
		for _, n := range v.Content {
			if r := parseRule(n, fail); r != nil {
				rs.Rules = append(rs.Rules, r)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rs, nil
}

func parseRule(n *yaml.Node, fail func(int, string, ...any)) *Rule {
	if n.Kind != yaml.MappingNode {
		fail(n.Line, "a rule: expected a mapping with on, start and form")
		return nil
	}
	r := &Rule{Line: n.Line}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		scalar := func() string {
			if v.Kind != yaml.ScalarNode {
				fail(v.Line, "%s: expected a string", k.Value)
				ok = false
			}
			return strings.TrimSpace(v.Value)
		}
		switch k.Value {
		case "name":
			r.Name = scalar()
		case "on":
			r.On = EventKind(scalar())
			if !slices.Contains(eventKinds, r.On) {
				fail(v.Line, "on: unknown event %q (one of %s)", v.Value, joinKinds())
				ok = false
			}
		case "when":
			r.When = scalar()
			p, err := expr.Compile(r.When, expr.Env(Env{}), expr.AsBool())
			if err != nil {
				fail(v.Line, "when: %v", firstLine(err))
				ok = false
			}
			r.when = p
		case "start":
			r.Start = scalar()
		case "form":
			if v.Kind != yaml.MappingNode {
				fail(v.Line, "form: expected a mapping of form fields to expressions")
				ok = false
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				fk, fv := v.Content[j], v.Content[j+1]
				p, err := expr.Compile(fv.Value, expr.Env(Env{}))
				if err != nil {
					fail(fv.Line, "form.%s: %v", fk.Value, firstLine(err))
					ok = false
				}
				r.Form = append(r.Form, FormValue{Field: fk.Value, Expr: fv.Value, Line: fk.Line, prog: p})
			}
		default:
			fail(k.Line, "unknown key %q (expected name, on, when, start, form)", k.Value)
			ok = false
		}
	}
	if r.On == "" {
		fail(n.Line, "a rule needs on: the event it acts on")
		ok = false
	}
	if r.Start == "" {
		fail(n.Line, "a rule needs start: the flow it starts")
		ok = false
	}
	if !ok {
		return nil
	}
	return r
}

// Check checks the rules against the flows they start: each flow exists,
// is started by events rather than being an alert flow, and has every form
// field a rule fills.
func (rs *Rules) Check(lookup func(id string) (*flows.Flow, bool)) error {
	var errs []error
	for _, r := range rs.Rules {
		f, ok := lookup(r.Start)
		if !ok {
			errs = append(errs, fmt.Errorf("%s:%d: start: no flow %q", rs.File, r.Line, r.Start))
			continue
		}
		if len(f.Steps) > 0 && f.Steps[0].Type == flows.StepAlert {
			errs = append(errs, fmt.Errorf("%s:%d: start: %s is an alert flow, opened by its events, not started", rs.File, r.Line, r.Start))
		}
		for _, fv := range r.Form {
			if !slices.ContainsFunc(f.Form, func(fd *flows.Field) bool { return fd.Key == fv.Field }) {
				errs = append(errs, fmt.Errorf("%s:%d: form.%s: flow %s has no such field", rs.File, fv.Line, fv.Field, r.Start))
			}
		}
	}
	return errors.Join(errs...)
}

// Starts are the flow starts an event calls for, by the rules it matches,
// in file order. A rule whose expressions fail on this order is an error
// naming the rule; the other rules still give their starts.
func (rs *Rules) Starts(se StoredEvent) ([]flows.StartRequest, error) {
	if at := se.Order.UpdatedAt; !at.IsZero() && se.Event.At.Before(at) {
		// News older than the order's state came late (a paid event after
		// the shipment): the order has moved on, and what it called for
		// with it.
		return nil, nil
	}
	env := EnvOf(se.Order)
	var out []flows.StartRequest
	var errs []error
	for i, r := range rs.Rules {
		if r.On != se.Event.Kind {
			continue
		}
		if r.when != nil {
			v, err := expr.Run(r.when, env)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: when: %w", rs.File, r.Line, err))
				continue
			}
			if v != true {
				continue
			}
		}
		form := map[string]any{}
		bad := false
		for _, fv := range r.Form {
			v, err := expr.Run(fv.prog, env)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: form.%s: %w", rs.File, fv.Line, fv.Field, err))
				bad = true
				continue
			}
			if v != nil && v != "" {
				form[fv.Field] = v
			}
		}
		if bad {
			continue
		}
		out = append(out, flows.StartRequest{Event: string(se.Event.Kind), FlowID: r.Start, Form: form,
			Key: startKey(se, r.On, i)})
	}
	return out, errors.Join(errs...)
}

// perEvent are the events each of which is news of its own: a change, a
// refund asked for (again, after a refusal). Any other state an order
// reaches once (paid, shipped, …), however often or late a source sends it.
var perEvent = []EventKind{EventChanged, EventRefundRequested}

// startKey is the idempotency key of the start rule i makes of se: once
// per order and rule for a state an order reaches once, once per event
// for the others.
func startKey(se StoredEvent, on EventKind, i int) string {
	if slices.Contains(perEvent, on) {
		return fmt.Sprintf("order:%s/%s#%d", se.Source, se.Event.ID, i)
	}
	return fmt.Sprintf("order:%s/%s/%s/%s/%s#%d", se.Source, se.Order.Platform, se.Order.Shop, se.Order.No, on, i)
}

func joinKinds() string {
	s := make([]string, len(eventKinds))
	for i, k := range eventKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
