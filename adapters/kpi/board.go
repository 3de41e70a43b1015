package kpi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/shopspring/decimal"

	"cardflow/flows"
)

// Figure is one KPI over one period, with what to compare it with.
type Figure struct {
	KPI      Definition
	Period   Period
	From, To time.Time
	// Now is the period's value; Prev the period before's; WeekAgo the
	// same day a week earlier (days only: unknown for weeks and months).
	Now, Prev, WeekAgo Value
	// Series are the last seven periods' values, oldest first, this one
	// last: what a chart draws.
	Series []Point
}

// seriesLen is how many periods a figure's Series holds.
const seriesLen = 7

// turnoverDays is the span stock turnover is averaged over.
const turnoverDays = 30

// Board computes figures from a store. It is safe for concurrent use.
type Board struct {
	store     Store
	file      *File
	now       func() time.Time
	approvals Approvals
}

// Approvals computes flow analytics, which the approval measures are
// read from: *flows.Engine.
type Approvals interface {
	Analytics(ctx context.Context, q flows.AnalyticsQuery) (flows.Analytics, error)
}

// WithApprovals sets where approval_hours and approval_overdue_rate come
// from; without it they fail. It returns the board.
func (b *Board) WithApprovals(a Approvals) *Board {
	b.approvals = a
	return b
}

// NewBoard returns a board of f's KPIs over store; now may be nil
// (time.Now).
func NewBoard(store Store, f *File, now func() time.Time) *Board {
	if now == nil {
		now = time.Now
	}
	return &Board{store: store, file: f, now: now}
}

// File is the definitions the board computes.
func (b *Board) File() *File { return b.file }

// Figures computes the named KPIs (every one when names is empty) over the
// period p containing at, in zone. An unknown name is an error naming it.
// Store reads are shared across KPIs: one totals read per window and
// filter, however many KPIs use it.
func (b *Board) Figures(ctx context.Context, names []string, p Period, at time.Time, zone *time.Location) ([]Figure, error) {
	if zone == nil {
		zone = China
	}
	if !p.Valid() {
		return nil, fmt.Errorf("kpi: figures: period %q is not day, week or month", p)
	}
	defs, err := b.definitions(names)
	if err != nil {
		return nil, err
	}
	c := b.calc(zone)
	var out []Figure
	for _, d := range defs {
		from, to := p.Window(at, zone)
		fig := Figure{KPI: *d, Period: p, From: from, To: to, Series: make([]Point, seriesLen)}
		f, t := from, to
		for i := seriesLen - 1; i >= 0; i-- {
			v, err := c.value(ctx, d, f, t)
			if err != nil {
				return nil, err
			}
			fig.Series[i] = Point{From: f, V: v}
			f, t = p.Prev(f, zone)
		}
		fig.Now, fig.Prev = fig.Series[seriesLen-1].V, fig.Series[seriesLen-2].V
		if p == Day {
			f, t := p.Window(from.In(zone).AddDate(0, 0, -7), zone)
			if fig.WeekAgo, err = c.value(ctx, d, f, t); err != nil {
				return nil, err
			}
		}
		out = append(out, fig)
	}
	return out, nil
}

// Value computes one KPI over [from, to), as Figures does for each period.
func (b *Board) Value(ctx context.Context, name string, from, to time.Time, zone *time.Location) (Value, error) {
	defs, err := b.definitions([]string{name})
	if err != nil {
		return Value{}, err
	}
	if zone == nil {
		zone = China
	}
	return b.calc(zone).value(ctx, defs[0], from, to)
}

// definitions are the named KPIs, every one for none.
func (b *Board) definitions(names []string) ([]*Definition, error) {
	if len(names) == 0 {
		return b.file.KPIs, nil
	}
	var out []*Definition
	for _, n := range names {
		d, ok := b.file.KPI(n)
		if !ok {
			return nil, fmt.Errorf("kpi: no KPI named %q (known: %s): %w", clip(n), strings.Join(b.file.Names(), ", "), ErrUnknownKPI)
		}
		out = append(out, d)
	}
	return out, nil
}

// ErrUnknownKPI is returned for a KPI name the definitions do not have.
var ErrUnknownKPI = errors.New("unknown KPI")

func (b *Board) calc(zone *time.Location) *calc {
	return &calc{b: b, zone: zone, now: b.now(), totals: map[windowKey]Totals{}, metrics: map[string]Value{},
		stock: map[int64]int64{}, values: map[string]Value{}, approvals: map[string]flows.DecisionFigures{}}
}

// calc is one computation's reads, kept so that each is made once.
type calc struct {
	b       *Board
	zone    *time.Location
	now     time.Time
	totals  map[windowKey]Totals
	metrics map[string]Value
	stock   map[int64]int64
	values  map[string]Value
	// approvals are flow analytics' decision figures by window and flow.
	approvals map[string]flows.DecisionFigures
}

func (c *calc) orderTotals(ctx context.Context, from, to time.Time, f Filter) (Totals, error) {
	k := keyOf(from, to, f)
	if t, ok := c.totals[k]; ok {
		return t, nil
	}
	t, err := c.b.store.OrderTotals(ctx, from, to, f)
	if err != nil {
		return Totals{}, fmt.Errorf("kpi: %w", err)
	}
	c.totals[k] = t
	return t, nil
}

func (c *calc) metric(ctx context.Context, name string, from, to time.Time, f Filter) (Value, error) {
	k := fmt.Sprint(name, keyOf(from, to, f))
	if v, ok := c.metrics[k]; ok {
		return v, nil
	}
	sum, found, err := c.b.store.SumMetric(ctx, name, from, to, f)
	if err != nil {
		return Value{}, fmt.Errorf("kpi: %w", err)
	}
	v := Value{V: sum, Known: found}
	c.metrics[k] = v
	return v, nil
}

// value is d over [from, to).
func (c *calc) value(ctx context.Context, d *Definition, from, to time.Time) (Value, error) {
	k := fmt.Sprint(d.Name, from.UnixNano(), to.UnixNano())
	if v, ok := c.values[k]; ok {
		return v, nil
	}
	var v Value
	var err error
	switch {
	case d.Metric != "":
		v, err = c.metric(ctx, d.Metric, from, to, d.Filter())
	case d.expr != nil:
		v, err = c.eval(ctx, d.expr, from, to)
	default:
		v, err = c.measure(ctx, d, from, to)
	}
	if err != nil {
		return Value{}, err
	}
	c.values[k] = v
	return v, nil
}

var hundred = decimal.NewFromInt(100)

func yuan(fen int64) decimal.Decimal { return decimal.New(fen, -2) }

// ratio is a ÷ b, unknown when b is zero.
func ratio(a, b decimal.Decimal) Value {
	if b.IsZero() {
		return Value{}
	}
	return known(a.Div(b))
}

func (c *calc) measure(ctx context.Context, d *Definition, from, to time.Time) (Value, error) {
	if d.Measure == MeasureTurnoverDays {
		return c.turnover(ctx, to)
	}
	if approvalMeasure(d.Measure) {
		return c.approval(ctx, d, from, to)
	}
	t, err := c.orderTotals(ctx, from, to, d.Filter())
	if err != nil {
		return Value{}, err
	}
	switch d.Measure {
	case MeasureGMV:
		return known(yuan(t.GMVFen)), nil
	case MeasureSales:
		return known(yuan(t.PaidFen)), nil
	case MeasureOrders:
		return known(decimal.NewFromInt(t.Paid)), nil
	case MeasureUnits:
		return known(decimal.NewFromInt(t.Units)), nil
	case MeasureAOV:
		return ratio(yuan(t.PaidFen), decimal.NewFromInt(t.Paid)), nil
	case MeasureRefundRate:
		return ratio(decimal.NewFromInt(t.Refunded), decimal.NewFromInt(t.Paid)), nil
	case MeasureRefundAmount:
		return known(yuan(t.RefundedFen)), nil
	case MeasureGrossMargin:
		cost, err := c.metric(ctx, CostMetric, from, to, d.Filter())
		if err != nil || !cost.Known {
			return Value{}, err
		}
		net := yuan(t.PaidFen - t.RefundedFen)
		return ratio(net.Sub(cost.V), net), nil
	}
	return Value{}, fmt.Errorf("kpi: %s: measure %q unknown", d.Name, d.Measure)
}

// turnover is the stock turnover in days at the end of a period (now, if
// sooner): the pieces on hand at the end of each of the last 30 days,
// averaged, over the pieces sold per day in those days.
func (c *calc) turnover(ctx context.Context, to time.Time) (Value, error) {
	end := to
	if c.now.Before(end) {
		end = c.now
	}
	start := end.In(c.zone).AddDate(0, 0, -turnoverDays)
	t, err := c.orderTotals(ctx, start, end, Filter{})
	if err != nil || t.Units == 0 {
		return Value{}, err
	}
	var at, missing []time.Time
	for i := range turnoverDays {
		day := end.In(c.zone).AddDate(0, 0, -i)
		at = append(at, day)
		if _, ok := c.stock[day.UnixNano()]; !ok {
			missing = append(missing, day)
		}
	}
	if len(missing) > 0 {
		got, err := c.b.store.StockOnHand(ctx, missing)
		if err != nil {
			return Value{}, fmt.Errorf("kpi: %w", err)
		}
		for i, day := range missing {
			c.stock[day.UnixNano()] = got[i]
		}
	}
	var sum int64
	for _, day := range at {
		sum += c.stock[day.UnixNano()]
	}
	// (sum / 30) ÷ (units / 30) = sum ÷ units.
	return ratio(decimal.NewFromInt(sum), decimal.NewFromInt(t.Units)), nil
}

// eval computes an expression's tree in decimal; an unknown operand or a
// division by zero makes it unknown.
func (c *calc) eval(ctx context.Context, n ast.Node, from, to time.Time) (Value, error) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		d, ok := c.b.file.KPI(n.Value)
		if !ok {
			return Value{}, fmt.Errorf("kpi: no KPI named %s: %w", n.Value, ErrUnknownKPI)
		}
		return c.value(ctx, d, from, to)
	case *ast.IntegerNode:
		return known(decimal.NewFromInt(int64(n.Value))), nil
	case *ast.FloatNode:
		return known(decimal.NewFromFloat(n.Value)), nil
	case *ast.UnaryNode:
		v, err := c.eval(ctx, n.Node, from, to)
		if n.Operator == "-" {
			v.V = v.V.Neg()
		}
		return v, err
	case *ast.BinaryNode:
		l, err := c.eval(ctx, n.Left, from, to)
		if err != nil {
			return Value{}, err
		}
		r, err := c.eval(ctx, n.Right, from, to)
		if err != nil || !l.Known || !r.Known {
			return Value{}, err
		}
		switch n.Operator {
		case "+":
			return known(l.V.Add(r.V)), nil
		case "-":
			return known(l.V.Sub(r.V)), nil
		case "*":
			return known(l.V.Mul(r.V)), nil
		case "/":
			return ratio(l.V, r.V), nil
		}
	}
	return Value{}, fmt.Errorf("kpi: expression node %s not supported", n)
}

// approval is an approval measure over [from, to): 审批时效 in hours, unknown
// without decisions; 审批超时率, unknown without a task that has an SLA.
func (c *calc) approval(ctx context.Context, d *Definition, from, to time.Time) (Value, error) {
	if c.b.approvals == nil {
		return Value{}, fmt.Errorf("kpi: %s: %s needs the flow engine, and this board has none", d.Name, d.Measure)
	}
	k := fmt.Sprint(d.Flow, "|", from.UnixNano(), to.UnixNano())
	f, ok := c.approvals[k]
	if !ok {
		a, err := c.b.approvals.Analytics(ctx, flows.AnalyticsQuery{From: from, To: to, FlowID: d.Flow})
		if err != nil {
			return Value{}, fmt.Errorf("kpi: %s: %w", d.Name, err)
		}
		f = a.Decisions
		c.approvals[k] = f
	}
	if d.Measure == MeasureApprovalHours {
		if f.Decided == 0 {
			return Value{}, nil
		}
		return known(decimal.NewFromFloat(f.Median.Hours())), nil
	}
	if f.Due == 0 {
		return Value{}, nil
	}
	return ratio(decimal.NewFromInt(f.Overdue), decimal.NewFromInt(f.Due)), nil
}
