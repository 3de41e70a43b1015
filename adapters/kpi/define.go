package kpi

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/shopspring/decimal"

	"cardflow/flows"
)

// File is a KPI definitions file (configs/kpis.example.yaml): the KPIs,
// the threshold rules that raise alerts on them, and the digests the
// scheduler sends.
type File struct {
	Path    string
	KPIs    []*Definition
	Alerts  []*Alert
	Digests []Digest

	byName map[string]*Definition
}

// Definition is one KPI: exactly one of Measure, Metric and Expr is set.
type Definition struct {
	// Name is its id, [a-z0-9_]: what /kpi and expressions call it.
	Name    string
	Label   string // 退款率
	LabelEN string // Refund rate
	// Roles, when set, are the org roles whose holders may see it on
	// /kpi (毛利率 for finance and management, say); administrators
	// always may. Unset: everyone. A digest goes to whom it names.
	Roles []string
	// Measure is a figure cardflow computes from the orders and stock.
	Measure Measure
	// Metric is a pushed metric's name, summed over the period.
	Metric string
	// Expr is arithmetic (+ - * / and parentheses) over other KPIs'
	// names and numbers: sales / ad_spend.
	Expr string
	// Flow narrows an approval measure (approval_hours,
	// approval_overdue_rate) to one flow; "" is every flow.
	Flow string
	// Platform and Shop narrow a measure or metric to one platform or
	// shop; "" is every one.
	Platform string
	Shop     string
	Unit     Unit
	Line     int

	expr ast.Node
	deps []string
}

// Filter is the definition's platform and shop.
func (d *Definition) Filter() Filter { return Filter{Platform: d.Platform, Shop: d.Shop} }

// Measure is a built-in figure.
type Measure string

// Built-in measures; see the package comment for how each is counted.
const (
	MeasureGMV          Measure = "gmv"
	MeasureSales        Measure = "sales"
	MeasureOrders       Measure = "orders"
	MeasureUnits        Measure = "units"
	MeasureAOV          Measure = "aov"
	MeasureRefundRate   Measure = "refund_rate"
	MeasureRefundAmount Measure = "refund_amount"
	MeasureGrossMargin  Measure = "gross_margin"
	MeasureTurnoverDays Measure = "turnover_days"
	// MeasureApprovalHours is 审批时效: the median hours from a task's
	// creation to its decision, over the tasks decided in the period.
	MeasureApprovalHours Measure = "approval_hours"
	// MeasureApprovalOverdueRate is 审批超时率: the share of the tasks with
	// an SLA decided in the period after it, or open now past it.
	MeasureApprovalOverdueRate Measure = "approval_overdue_rate"
)

// approvalMeasure reports whether m is computed from flow analytics.
func approvalMeasure(m Measure) bool {
	return m == MeasureApprovalHours || m == MeasureApprovalOverdueRate
}

// CostMetric is the pushed metric gross_margin takes the cost of goods
// sold from.
const CostMetric = "cost"

// Unit says how a KPI's value is written.
type Unit string

// Units: money in yuan (¥6,800.00), a count (1,234), a fraction written as
// a percent (0.042 is 4.2%), a ratio (3.25), days (12.5 天), hours
// (3.5 小时).
const (
	UnitMoney   Unit = "money"
	UnitCount   Unit = "count"
	UnitPercent Unit = "percent"
	UnitRatio   Unit = "ratio"
	UnitDays    Unit = "days"
	UnitHours   Unit = "hours"
)

var (
	measureUnits = map[Measure]Unit{MeasureGMV: UnitMoney, MeasureSales: UnitMoney, MeasureOrders: UnitCount,
		MeasureUnits: UnitCount, MeasureAOV: UnitMoney, MeasureRefundRate: UnitPercent, MeasureRefundAmount: UnitMoney,
		MeasureGrossMargin: UnitPercent, MeasureTurnoverDays: UnitDays, MeasureApprovalHours: UnitHours,
		MeasureApprovalOverdueRate: UnitPercent}
	units = []Unit{UnitMoney, UnitCount, UnitPercent, UnitRatio, UnitDays, UnitHours}
)

// Alert is a threshold rule: when the KPI's value for the current period
// goes above Above or below Below, the alert flow Flow is raised, once per
// rule and period.
type Alert struct {
	// Name identifies the rule in alert keys; the KPI's name and the
	// period when not given.
	Name   string
	KPI    string
	Period Period
	// Above and Below are the thresholds; a percent KPI's are fractions
	// (5% is 0.05). At least one is set.
	Above, Below *decimal.Decimal
	Flow         string
	// Zone is where the period is counted; Asia/Shanghai by default.
	Zone *time.Location
	// Event is the trigger event of Flow, set by File.Check; the alert is
	// raised with it.
	Event string
	Line  int

	// percent and plain count the thresholds written with and without %.
	percent, plain int
}

// Digest is a scheduled message of figures, sent by the scheduler.
type Digest struct {
	Name, Cron string
	// Zone is where Cron and Period are read; Asia/Shanghai by default.
	Zone *time.Location
	// To are user ids, role:<role>, or chat:<platform>:<chat id>.
	To   []string
	KPIs []string
	// Chart is the KPI drawn over the last periods; "" for none.
	Chart string
	// Period is yesterday (the default), today, last_week or last_month.
	Period string
	Line   int
}

// digestPeriods are what a digest may cover.
var digestPeriods = []string{"yesterday", "today", "last_week", "last_month"}

// KPI returns the definition of name.
func (f *File) KPI(name string) (*Definition, bool) {
	d, ok := f.byName[name]
	return d, ok
}

// Lookup finds the KPI a person names: by its name (any case), its
// label (销售额) or its English label (Sales, any case).
func (f *File) Lookup(word string) (*Definition, bool) {
	if d, ok := f.byName[strings.ToLower(word)]; ok {
		return d, true
	}
	for _, d := range f.KPIs {
		if d.Label == word || (d.LabelEN != "" && strings.EqualFold(d.LabelEN, word)) {
			return d, true
		}
	}
	return nil, false
}

// SeenBy reports whether someone holding roles may see d on /kpi.
func (d *Definition) SeenBy(roles []string) bool {
	if len(d.Roles) == 0 || slices.Contains(roles, adminRole) {
		return true
	}
	return slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(d.Roles, r) })
}

// adminRole may see every KPI (flows.DefaultAdminRole).
const adminRole = flows.DefaultAdminRole

// Names are the KPIs' names, in file order.
func (f *File) Names() []string {
	out := make([]string, len(f.KPIs))
	for i, d := range f.KPIs {
		out[i] = d.Name
	}
	return out
}

// Fields of the alert flow's form the alerter fills (configs/flows/
// kpi_alert.yaml).
var alertFields = []string{"rule", "kpi", "period", "value", "threshold"}

// Check checks the alert rules against the flows they raise: each flow
// exists, is an alert flow with a trigger event and has the form fields
// the alerter fills. It sets each rule's Event.
func (f *File) Check(lookup func(id string) (*flows.Flow, bool)) error {
	var errs problems
	for _, a := range f.Alerts {
		fl, ok := lookup(a.Flow)
		switch {
		case !ok:
			errs.add(a.Line, "flow: no flow %q", a.Flow)
			continue
		case len(fl.Steps) == 0 || fl.Steps[0].Type != flows.StepAlert || fl.Trigger.Event == "":
			errs.add(a.Line, "flow: %s is not an alert flow opened by an event", a.Flow)
			continue
		}
		for _, key := range alertFields {
			if !slices.ContainsFunc(fl.Form, func(fd *flows.Field) bool { return fd.Key == key }) {
				errs.add(a.Line, "flow: %s has no form field %s, which the alert fills", a.Flow, key)
			}
		}
		a.Event = fl.Trigger.Event
	}
	return errs.err(f.Path)
}

// problems gathers a file's errors with their lines.
type problems struct {
	list []problem
}

type problem struct {
	line int
	text string
}

func (p *problems) add(line int, format string, args ...any) {
	p.list = append(p.list, problem{line: line, text: fmt.Sprintf(format, args...)})
}

// err is every problem as "file:line: text", by line.
func (p *problems) err(file string) error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b problem) int { return a.line - b.line })
	var errs []error
	for _, x := range p.list {
		errs = append(errs, fmt.Errorf("%s:%d: %s", file, x.line, x.text))
	}
	return errors.Join(errs...)
}
