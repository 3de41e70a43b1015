package kpi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
)

// Load reads a KPI definitions file; see Parse.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kpi: %w", err)
	}
	return Parse(path, data)
}

// Parse reads KPI definitions from data; path names the file in errors.
// Every problem is reported, each as "path:line: what".
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path, byName: map[string]*Definition{}}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: expected a mapping with kpis, alerts and digests", path, root.Line)
	}
	p := &parse{f: f}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "kpis":
			for _, n := range p.list(k.Value, v) {
				p.kpi(n)
			}
		case "alerts":
			for _, n := range p.list(k.Value, v) {
				p.alert(n)
			}
		case "digests":
			for _, n := range p.list(k.Value, v) {
				p.digest(n)
			}
		default:
			p.errs.add(k.Line, "unknown key %q (expected kpis, alerts, digests)", k.Value)
		}
	}
	p.crossCheck()
	if err := p.errs.err(path); err != nil {
		return nil, err
	}
	return f, nil
}

type parse struct {
	f    *File
	errs problems
}

// list returns a section's items, or none with a problem.
func (p *parse) list(key string, v *yaml.Node) []*yaml.Node {
	if v.Kind != yaml.SequenceNode {
		p.errs.add(v.Line, "%s: expected a list", key)
		return nil
	}
	return v.Content
}

// fields walks a mapping's keys, refusing those not in allowed.
func (p *parse) fields(n *yaml.Node, what string, allowed []string, fn func(k, v *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		p.errs.add(n.Line, "%s: expected a mapping", what)
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(allowed, k.Value):
			p.errs.add(k.Line, "%s: unknown key %q (expected %s)", what, k.Value, strings.Join(allowed, ", "))
		case seen[k.Value]:
			p.errs.add(k.Line, "%s: %s given twice", what, k.Value)
		default:
			seen[k.Value] = true
			fn(k, v)
		}
	}
	return true
}

// scalar is a string value, or "" with a problem.
func (p *parse) scalar(k, v *yaml.Node) string {
	if v.Kind != yaml.ScalarNode {
		p.errs.add(v.Line, "%s: expected a string", k.Value)
		return ""
	}
	return strings.TrimSpace(v.Value)
}

// strings is a list of strings, or nil with a problem.
func (p *parse) strings(k, v *yaml.Node) []string {
	if v.Kind != yaml.SequenceNode {
		p.errs.add(v.Line, "%s: expected a list", k.Value)
		return nil
	}
	var out []string
	for _, x := range v.Content {
		if s := p.scalar(k, x); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *parse) kpi(n *yaml.Node) {
	d := &Definition{Line: n.Line}
	ok := p.fields(n, "a KPI", []string{"name", "label", "label_en", "measure", "metric", "expr", "platform", "shop", "flow", "unit", "roles"},
		func(k, v *yaml.Node) {
			if k.Value == "roles" {
				d.Roles = p.strings(k, v)
				return
			}
			s := p.scalar(k, v)
			switch k.Value {
			case "name":
				d.Name = s
			case "label":
				d.Label = s
			case "label_en":
				d.LabelEN = s
			case "measure":
				d.Measure = Measure(s)
				if _, known := measureUnits[d.Measure]; !known {
					p.errs.add(v.Line, "measure: unknown %q (one of gmv, sales, orders, units, aov, refund_rate, refund_amount, gross_margin, turnover_days, approval_hours, approval_overdue_rate)", clip(s))
				}
			case "metric":
				d.Metric = s
				if !namePattern.MatchString(s) || len(s) > MaxNameLen {
					p.errs.add(v.Line, "metric: %q is not a metric name ([a-z0-9_], at most %d)", clip(s), MaxNameLen)
				}
			case "expr":
				d.Expr = s
				p.compile(d, v)
			case "platform":
				d.Platform = s
			case "shop":
				d.Shop = s
			case "flow":
				d.Flow = s
			case "unit":
				d.Unit = Unit(s)
				if !slices.Contains(units, d.Unit) {
					p.errs.add(v.Line, "unit: unknown %q (one of money, count, percent, ratio, days, hours)", clip(s))
				}
			}
		})
	if !ok {
		return
	}
	switch {
	case !namePattern.MatchString(d.Name) || len(d.Name) > MaxNameLen:
		p.errs.add(n.Line, "a KPI needs a name of lower-case letters, digits and _ (got %q)", clip(d.Name))
	case p.f.byName[d.Name] != nil:
		p.errs.add(n.Line, "KPI %s: named twice (first at line %d)", d.Name, p.f.byName[d.Name].Line)
	default:
		p.f.byName[d.Name] = d
	}
	if d.Label == "" {
		p.errs.add(n.Line, "KPI %s: needs a label", d.Name)
	}
	if d.LabelEN == "" {
		d.LabelEN = d.Label
	}
	kinds := 0
	for _, set := range []bool{d.Measure != "", d.Metric != "", d.Expr != ""} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds != 1:
		p.errs.add(n.Line, "KPI %s: needs exactly one of measure, metric, expr", d.Name)
	case d.Measure != "" && d.Unit != "" && d.Unit != measureUnits[d.Measure]:
		p.errs.add(n.Line, "KPI %s: unit: a %s is in %s", d.Name, d.Measure, measureUnits[d.Measure])
	case d.Measure != "":
		d.Unit = measureUnits[d.Measure]
	case d.Unit == "":
		p.errs.add(n.Line, "KPI %s: needs a unit (money, count, percent, ratio, days, hours)", d.Name)
	}
	if d.Expr != "" && (d.Platform != "" || d.Shop != "") {
		p.errs.add(n.Line, "KPI %s: an expr takes no platform or shop: filter the KPIs it uses", d.Name)
	}
	if d.Flow != "" && !approvalMeasure(d.Measure) {
		p.errs.add(n.Line, "KPI %s: flow narrows only approval_hours and approval_overdue_rate", d.Name)
	}
	if approvalMeasure(d.Measure) && (d.Platform != "" || d.Shop != "") {
		p.errs.add(n.Line, "KPI %s: approvals are not per platform or shop: %s takes a flow instead", d.Name, d.Measure)
	}
	if d.Measure == MeasureTurnoverDays && (d.Platform != "" || d.Shop != "") {
		p.errs.add(n.Line, "KPI %s: stock is not kept per platform or shop: turnover_days takes no platform or shop", d.Name)
	}
	for _, s := range []string{d.Platform, d.Shop} {
		if len(s) > MaxKeyLen || strings.ContainsRune(s, 0) {
			p.errs.add(n.Line, "KPI %s: platform and shop: at most %d bytes", d.Name, MaxKeyLen)
		}
	}
	p.f.KPIs = append(p.f.KPIs, d)
}

// compile parses an expr with expr-lang's parser and keeps its tree when
// it is arithmetic over names and numbers, which is evaluated in decimal.
func (p *parse) compile(d *Definition, v *yaml.Node) {
	tree, err := parser.Parse(d.Expr)
	if err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		p.errs.add(v.Line, "expr: %s", first)
		return
	}
	var bad []string
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		switch n := n.(type) {
		case *ast.IdentifierNode:
			if !slices.Contains(d.deps, n.Value) {
				d.deps = append(d.deps, n.Value)
			}
		case *ast.IntegerNode, *ast.FloatNode:
		case *ast.UnaryNode:
			if n.Operator != "-" && n.Operator != "+" {
				bad = append(bad, n.Operator)
			}
			walk(n.Node)
		case *ast.BinaryNode:
			if !slices.Contains([]string{"+", "-", "*", "/"}, n.Operator) {
				bad = append(bad, n.Operator)
			}
			walk(n.Left)
			walk(n.Right)
		default:
			bad = append(bad, n.String())
		}
	}
	walk(tree.Node)
	if len(bad) > 0 {
		p.errs.add(v.Line, "expr: only + - * / and parentheses over KPI names and numbers (not %s)", clip(bad[0]))
		return
	}
	d.expr = tree.Node
}

func (p *parse) alert(n *yaml.Node) {
	a := &Alert{Line: n.Line, Zone: China}
	ok := p.fields(n, "an alert", []string{"name", "kpi", "period", "above", "below", "flow", "zone"}, func(k, v *yaml.Node) {
		s := p.scalar(k, v)
		switch k.Value {
		case "name":
			a.Name = s
		case "kpi":
			a.KPI = s
		case "period":
			a.Period = Period(s)
			if !a.Period.Valid() {
				p.errs.add(v.Line, "period: %q is not day, week or month", clip(s))
			}
		case "above", "below":
			t, err := threshold(s)
			if err != nil {
				p.errs.add(v.Line, "%s: %v", k.Value, err)
			}
			if strings.HasSuffix(s, "%") {
				a.percent++
			} else {
				a.plain++
			}
			if k.Value == "above" {
				a.Above = t
			} else {
				a.Below = t
			}
		case "flow":
			a.Flow = s
		case "zone":
			a.Zone = p.zone(v, s)
		}
	})
	if !ok {
		return
	}
	if a.KPI == "" || a.Period == "" || a.Flow == "" {
		p.errs.add(n.Line, "an alert needs kpi, period and flow")
	}
	if a.percent+a.plain == 0 {
		p.errs.add(n.Line, "an alert needs above or below: its threshold")
	}
	if a.Name == "" {
		a.Name = a.KPI + "_" + string(a.Period)
	}
	if !namePattern.MatchString(a.Name) || len(a.Name) > MaxNameLen {
		p.errs.add(n.Line, "alert name %q: expected lower-case letters, digits and _", clip(a.Name))
	}
	for _, other := range p.f.Alerts {
		if other.Name == a.Name {
			p.errs.add(n.Line, "alert %s: named twice (first at line %d); give each a name", a.Name, other.Line)
		}
	}
	p.f.Alerts = append(p.f.Alerts, a)
}

// threshold reads a threshold: a number, or a percent such as 5%, kept
// as a fraction (0.05) as percent KPIs' values are.
func threshold(s string) (*decimal.Decimal, error) {
	text, percent := strings.CutSuffix(s, "%")
	d, err := decimal.NewFromString(strings.TrimSpace(text))
	if err != nil || len(s) > 32 {
		return nil, fmt.Errorf("%q is not a number such as 1000 or 5%%", clip(s))
	}
	if percent {
		d = d.Shift(-2)
	}
	return &d, nil
}

func (p *parse) zone(v *yaml.Node, s string) *time.Location {
	z, err := time.LoadLocation(s)
	if err != nil || s == "" || s == "Local" {
		p.errs.add(v.Line, "zone: %q is not an IANA time zone such as Asia/Shanghai", clip(s))
		return China
	}
	return z
}

// crossCheck checks what refers to KPIs: expressions' names (known, no
// cycle), alerts' and digests' KPIs.
func (p *parse) crossCheck() {
	for _, d := range p.f.KPIs {
		for _, dep := range d.deps {
			if p.f.byName[dep] == nil {
				p.errs.add(d.Line, "KPI %s: expr: no KPI named %s", d.Name, dep)
			}
		}
	}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(d *Definition, path []string) bool
	visit = func(d *Definition, path []string) bool {
		switch state[d.Name] {
		case 1:
			p.errs.add(d.Line, "KPI %s: expr: a cycle (%s)", d.Name, strings.Join(append(path, d.Name), " → "))
			return false
		case 2:
			return true
		}
		state[d.Name] = 1
		for _, dep := range d.deps {
			if next := p.f.byName[dep]; next != nil && !visit(next, append(path, d.Name)) {
				state[d.Name] = 2
				return false
			}
		}
		state[d.Name] = 2
		return true
	}
	for _, d := range p.f.KPIs {
		visit(d, nil)
	}
	for _, a := range p.f.Alerts {
		d := p.f.byName[a.KPI]
		switch {
		case a.KPI != "" && d == nil:
			p.errs.add(a.Line, "alert %s: no KPI named %s", a.Name, a.KPI)
		case d != nil && d.Unit == UnitPercent && a.plain > 0:
			p.errs.add(a.Line, "alert %s: %s is a percent: write its threshold as a percent such as 5%%", a.Name, a.KPI)
		case d != nil && d.Unit != UnitPercent && a.percent > 0:
			p.errs.add(a.Line, "alert %s: %s is not a percent: write its threshold as a number", a.Name, a.KPI)
		}
	}
	for _, g := range p.f.Digests {
		for _, name := range append(slices.Clone(g.KPIs), g.Chart) {
			if name != "" && p.f.byName[name] == nil {
				p.errs.add(g.Line, "digest %s: no KPI named %s", g.Name, name)
			}
		}
	}
}
