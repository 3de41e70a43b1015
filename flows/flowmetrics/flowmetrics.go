// Package flowmetrics exports flow analytics (审批效率) on /metrics: what
// became of the instances started in a rolling window, and per step the
// decisions taken in it, their median and P90 time and the overdue share,
// as flows.Engine.Analytics counts them.
//
// The figures are computed at most once per MaxAge (a minute) and cached,
// so a scrape costs one read of the window's tasks a minute however often
// Prometheus scrapes. Labels are flow and step ids, which the flow files
// bound; there is no per-user label (per-assignee figures are on the API
// and the console).
package flowmetrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"cardflow/flows"
)

// Source computes the figures: *flows.Engine.
type Source interface {
	Analytics(ctx context.Context, q flows.AnalyticsQuery) (flows.Analytics, error)
}

// Options configure a Collector; zero fields take the defaults.
type Options struct {
	// Window is the rolling period counted; flows.DefaultAnalyticsWindow
	// by default.
	Window time.Duration
	// MaxAge is how long computed figures are served before the next
	// scrape computes them again; a minute by default.
	MaxAge time.Duration
	// Timeout bounds one computation; 20 seconds by default.
	Timeout time.Duration
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Logger gets a warning when a computation fails; nil discards.
	Logger *slog.Logger
}

// Collector is a prometheus.Collector of the flow figures.
type Collector struct {
	src  Source
	opts Options

	mu      sync.Mutex
	tried   time.Time // when figures were last computed, or tried
	figures *flows.Analytics

	instances, returns, decisions, seconds, overdue, open *prometheus.Desc
}

// New returns a collector over src. Register it on the app's registry.
func New(src Source, opts Options) *Collector {
	if opts.Window <= 0 {
		opts.Window = flows.DefaultAnalyticsWindow
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = time.Minute
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 20 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	step := []string{"flow", "step"}
	return &Collector{src: src, opts: opts,
		instances: prometheus.NewDesc("cardflow_flow_instances",
			"Instances started in the analytics window, by what became of them (finished, rejected, withdrawn, cancelled, running).",
			[]string{"flow", "outcome"}, nil),
		returns: prometheus.NewDesc("cardflow_flow_returns",
			"Return actions (退回) taken in the instances started in the analytics window.", []string{"flow"}, nil),
		decisions: prometheus.NewDesc("cardflow_flow_step_decisions",
			"Tasks decided in the analytics window, by outcome (approved, rejected, returned).",
			[]string{"flow", "step", "outcome"}, nil),
		seconds: prometheus.NewDesc("cardflow_flow_step_decision_seconds",
			"Time from a task's creation to its decision, over the tasks decided in the analytics window (quantile 0.5 and 0.9).",
			[]string{"flow", "step", "quantile"}, nil),
		overdue: prometheus.NewDesc("cardflow_flow_step_overdue_ratio",
			"Share of a step's tasks with an SLA decided after it or open past it (decided in the analytics window, or open now).",
			step, nil),
		open: prometheus.NewDesc("cardflow_flow_step_open_tasks", "Tasks open now.", step, nil),
	}
}

// Describe sends the descriptions of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.instances, c.returns, c.decisions, c.seconds, c.overdue, c.open} {
		ch <- d
	}
}

// Collect sends the cached figures, computing them first when they are
// older than MaxAge. A failed computation is logged and the last figures
// are served again until the next try, a MaxAge later.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	a := c.current()
	if a == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, f := range a.Flows {
		n := f.Instances
		for _, o := range []struct {
			outcome string
			n       int64
		}{{"finished", n.Finished}, {"rejected", n.Rejected}, {"withdrawn", n.Withdrawn},
			{"cancelled", n.Cancelled}, {"running", n.Running}} {
			gauge(c.instances, float64(o.n), f.FlowID, o.outcome)
		}
		gauge(c.returns, float64(n.Returns), f.FlowID)
		for _, s := range f.Steps {
			d := s.Decisions
			gauge(c.decisions, float64(d.Approved), f.FlowID, s.StepID, "approved")
			gauge(c.decisions, float64(d.Rejected), f.FlowID, s.StepID, "rejected")
			gauge(c.decisions, float64(d.Returned), f.FlowID, s.StepID, "returned")
			gauge(c.open, float64(d.Open), f.FlowID, s.StepID)
			if d.Decided > 0 {
				gauge(c.seconds, d.Median.Seconds(), f.FlowID, s.StepID, "0.5")
				gauge(c.seconds, d.P90.Seconds(), f.FlowID, s.StepID, "0.9")
			}
			if d.Due > 0 {
				gauge(c.overdue, d.OverdueShare, f.FlowID, s.StepID)
			}
		}
	}
}

// current returns the figures to serve, computing them when due. The lock
// is held while computing, so concurrent scrapes wait for one computation
// instead of starting their own.
func (c *Collector) current() *flows.Analytics {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.Now()
	if !c.tried.IsZero() && now.Sub(c.tried) < c.opts.MaxAge && !now.Before(c.tried) {
		return c.figures
	}
	c.tried = now
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	a, err := c.src.Analytics(ctx, flows.AnalyticsQuery{From: now.Add(-c.opts.Window), To: now})
	if err != nil {
		c.opts.Logger.Warn("flow analytics for /metrics failed; serving the last figures", "err", err)
		return c.figures
	}
	c.figures = &a
	return c.figures
}
