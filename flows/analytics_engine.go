package flows

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// ErrAnalyticsPeriod is returned by Engine.Analytics for a period whose
// start is not before its end.
var ErrAnalyticsPeriod = errors.New("the period's start must be before its end")

// Analytics computes the figures of a period: per flow, what became of the
// instances started in it; per flow, step and assignee, the decisions taken
// in it, how long they took and how many were overdue (see Analytics for
// exactly what is counted). The store counts the instances and hands over
// the period's tasks, at most MaxAnalyticsTasks; the medians and P90s are
// computed here, the same way for every store.
func (e *Engine) Analytics(ctx context.Context, q AnalyticsQuery) (Analytics, error) {
	ar, ok := e.store.(AnalyticsReader)
	if !ok {
		return Analytics{}, fmt.Errorf("flows: analytics: %w", ErrAnalyticsUnsupported)
	}
	now := e.now()
	p := AnalyticsParams(q)
	if p.To.IsZero() {
		p.To = now
	}
	if p.From.IsZero() {
		p.From = p.To.Add(-DefaultAnalyticsWindow)
	}
	if !p.From.Before(p.To) {
		return Analytics{}, fmt.Errorf("flows: analytics %s – %s: %w", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), ErrAnalyticsPeriod)
	}
	counts, err := ar.InstanceCounts(ctx, p)
	if err != nil {
		return Analytics{}, fmt.Errorf("flows: analytics: %w", err)
	}
	agg := newAnalyticsAgg(now)
	for _, c := range counts {
		agg.flow(c.FlowID).instances.count(c)
	}
	n := 0
	err = ar.AnalyticsTasks(ctx, p, func(t AnalyticsTask) error {
		if n++; n > MaxAnalyticsTasks {
			return ErrAnalyticsTooLarge
		}
		agg.add(t)
		return nil
	})
	if err != nil {
		return Analytics{}, fmt.Errorf("flows: analytics: %w", err)
	}
	out := Analytics{From: p.From, To: p.To, Now: now, Decisions: agg.total.figures()}
	names, err := e.userNames(ctx)
	if err != nil {
		return Analytics{}, fmt.Errorf("flows: analytics: %w", err)
	}
	for _, id := range slices.Sorted(maps.Keys(agg.flows)) {
		fa, err := e.flowAnalytics(ctx, id, agg.flows[id], names)
		if err != nil {
			return Analytics{}, fmt.Errorf("flows: analytics: %w", err)
		}
		out.Flows = append(out.Flows, fa)
	}
	return out, nil
}

// flowAnalytics names one flow's figures and its steps' and orders the
// steps as the flow's latest version lists them.
func (e *Engine) flowAnalytics(ctx context.Context, id string, fg *flowAgg, names map[string]string) (FlowAnalytics, error) {
	fa := FlowAnalytics{FlowID: id, Name: id, Instances: fg.instances, Decisions: fg.decisions.figures(),
		Assignees: assigneeFigures(fg.assignees, names)}
	order := map[string]int{}
	f, _, err := e.latestFlow(ctx, id)
	switch {
	case err == nil:
		fa.Name = f.Name
		f.walk(func(s *Step) { order[s.ID] = len(order) })
	case !errors.Is(err, ErrNotFound):
		return FlowAnalytics{}, err
	}
	for stepID, sg := range fg.steps {
		sa := StepAnalytics{StepID: stepID, Name: stepID, Decisions: sg.decisions.figures(),
			Assignees: assigneeFigures(sg.assignees, names)}
		if f != nil {
			if s := f.Step(stepID); s != nil && s.Name != "" {
				sa.Name = s.Name
			}
		}
		fa.Steps = append(fa.Steps, sa)
	}
	slices.SortFunc(fa.Steps, func(a, b StepAnalytics) int {
		ai, aok := order[a.StepID]
		bi, bok := order[b.StepID]
		switch {
		case aok && bok:
			return cmp.Compare(ai, bi)
		case aok != bok: // known steps first
			if aok {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.StepID, b.StepID)
	})
	return fa, nil
}

// userNames maps every user id of the directory to the user's name.
func (e *Engine) userNames(ctx context.Context) (map[string]string, error) {
	users, err := e.store.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	names := make(map[string]string, len(users))
	for _, u := range users {
		names[u.ID] = cmp.Or(u.Name, u.ID)
	}
	return names, nil
}

func assigneeFigures(m map[string]*decisionAgg, names map[string]string) []AssigneeFigures {
	out := make([]AssigneeFigures, 0, len(m))
	for _, id := range slices.Sorted(maps.Keys(m)) {
		out = append(out, AssigneeFigures{UserID: id, Name: cmp.Or(names[id], id), Decisions: m[id].figures()})
	}
	return out
}

// analyticsAgg gathers a period's tasks into every group a figure is
// reported for.
type analyticsAgg struct {
	now   time.Time
	total decisionAgg
	flows map[string]*flowAgg
}

type flowAgg struct {
	instances InstanceFigures
	decisions decisionAgg
	steps     map[string]*stepAgg
	assignees map[string]*decisionAgg
}

type stepAgg struct {
	decisions decisionAgg
	assignees map[string]*decisionAgg
}

func newAnalyticsAgg(now time.Time) *analyticsAgg {
	return &analyticsAgg{now: now, flows: map[string]*flowAgg{}}
}

func (a *analyticsAgg) flow(id string) *flowAgg {
	f := a.flows[id]
	if f == nil {
		f = &flowAgg{steps: map[string]*stepAgg{}, assignees: map[string]*decisionAgg{}}
		a.flows[id] = f
	}
	return f
}

func (a *analyticsAgg) add(t AnalyticsTask) {
	f := a.flow(t.FlowID)
	s := f.steps[t.StepID]
	if s == nil {
		s = &stepAgg{assignees: map[string]*decisionAgg{}}
		f.steps[t.StepID] = s
	}
	for _, d := range []*decisionAgg{&a.total, &f.decisions, &s.decisions,
		assigneeAgg(f.assignees, t.Assignee), assigneeAgg(s.assignees, t.Assignee)} {
		d.add(t, a.now)
	}
}

func assigneeAgg(m map[string]*decisionAgg, id string) *decisionAgg {
	d := m[id]
	if d == nil {
		d = &decisionAgg{}
		m[id] = d
	}
	return d
}

// count adds a store's instance count to the flow's figures.
func (f *InstanceFigures) count(c InstanceCount) {
	f.Started += c.Count
	f.Returns += c.Returns
	switch c.Status {
	case InstanceApproved, InstanceCompleted:
		f.Finished += c.Count
	case InstanceRejected:
		f.Rejected += c.Count
	case InstanceWithdrawn:
		f.Withdrawn += c.Count
	case InstanceCancelled:
		f.Cancelled += c.Count
	case InstanceRunning:
		f.Running += c.Count
	}
}

// decisionAgg is a group's figures with its decision times, from which
// the percentiles are taken at the end.
type decisionAgg struct {
	f     DecisionFigures
	times []time.Duration
}

func (d *decisionAgg) add(t AnalyticsTask, now time.Time) {
	due := !t.DueAt.IsZero()
	if due {
		d.f.Due++
	}
	if t.Status == TaskOpen {
		d.f.Open++
		if due && now.After(t.DueAt) {
			d.f.Overdue++
			d.f.OpenOverdue++
		}
		return
	}
	d.f.Decided++
	switch t.Status {
	case TaskRejected:
		d.f.Rejected++
	case TaskReturned:
		d.f.Returned++
	default:
		d.f.Approved++
	}
	if due && t.DecidedAt.After(t.DueAt) {
		d.f.Overdue++
	}
	d.times = append(d.times, max(t.DecidedAt.Sub(t.CreatedAt), 0))
}

func (d *decisionAgg) figures() DecisionFigures {
	f := d.f
	if f.Due > 0 {
		f.OverdueShare = float64(f.Overdue) / float64(f.Due)
	}
	slices.Sort(d.times)
	f.Median, f.P90 = percentile(d.times, 0.5), percentile(d.times, 0.9)
	return f
}

// percentile is the p-th percentile of sorted, interpolated linearly
// between the two nearest values like PostgreSQL's percentile_cont; zero
// for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	pos := p * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo+1 >= len(sorted) {
		return sorted[lo]
	}
	frac := pos - float64(lo)
	return sorted[lo] + time.Duration(math.Round(frac*float64(sorted[lo+1]-sorted[lo])))
}
