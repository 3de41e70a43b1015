package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// sourceTimeout bounds each gauge source on a scrape, well inside
// Prometheus's default 10s scrape timeout.
const sourceTimeout = time.Second

// OutboxBacklogger reports the store's unsent outbox messages; flows.Store
// satisfies it.
type OutboxBacklogger interface {
	// OutboxBacklog returns how many messages are unsent and when the
	// oldest was committed (zero time when none).
	OutboxBacklog(ctx context.Context) (count int64, oldest time.Time, err error)
}

// DepthFunc returns the number of waiting messages per queue topic.
type DepthFunc func(ctx context.Context) (map[string]int64, error)

// Depther is the part of queue.Queue that TopicDepths needs.
type Depther interface {
	// Depth reports how many messages of a topic are waiting.
	Depth(ctx context.Context, topic string) (int64, error)
}

// TopicDepths returns a DepthFunc that asks q for each topic's depth.
func TopicDepths(q Depther, topics ...string) DepthFunc {
	return func(ctx context.Context) (map[string]int64, error) {
		out := make(map[string]int64, len(topics))
		for _, t := range topics {
			n, err := q.Depth(ctx, t)
			if err != nil {
				return nil, fmt.Errorf("queue depth of %s: %w", t, err)
			}
			out[t] = n
		}
		return out, nil
	}
}

// httpMetrics are the per-request metrics, labelled by route pattern (never
// the raw path) so their number stays bounded.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardflow_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cardflow_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
	m.requests = registerOrReuse(reg, m.requests)
	m.duration = registerOrReuse(reg, m.duration)
	registerOrReuse(reg, collectors.NewGoCollector())
	registerOrReuse(reg, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// registerOrReuse registers c, or returns the identical collector a caller
// sharing the registry registered first.
func registerOrReuse[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
		return c // e.g. the caller's own Go collector: the metrics are served already
	}
	// Conflicting metric definitions are a programming error.
	panic(fmt.Sprintf("server: register metrics: %v", err))
}

// sourceCollector reads the queue and outbox gauges on each scrape, so they
// are current without a background poller.
type sourceCollector struct {
	depths  DepthFunc
	outbox  OutboxBacklogger
	now     func() time.Time
	scrub   func(string) string
	depth   *prometheus.Desc
	backlog *prometheus.Desc
	lag     *prometheus.Desc
}

func registerSources(reg prometheus.Registerer, depths DepthFunc, outbox OutboxBacklogger, now func() time.Time, scrub func(string) string) {
	if depths == nil && outbox == nil {
		return
	}
	registerOrReuse(reg, &sourceCollector{
		depths: depths, outbox: outbox, now: now, scrub: scrub,
		depth: prometheus.NewDesc("cardflow_queue_depth",
			"Messages waiting, delayed or in flight per queue topic.", []string{"topic"}, nil),
		backlog: prometheus.NewDesc("cardflow_outbox_backlog",
			"Committed outbox messages not yet handed to the queue.", nil, nil),
		lag: prometheus.NewDesc("cardflow_outbox_lag_seconds",
			"Age of the oldest unsent outbox message; 0 when none.", nil, nil),
	})
}

// Describe sends the descriptions of the gauges whose source is set.
func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	if c.depths != nil {
		ch <- c.depth
	}
	if c.outbox != nil {
		ch <- c.backlog
		ch <- c.lag
	}
}

// Collect asks both sources at once, each bounded by sourceTimeout; a
// failing source is reported as an invalid metric, which promhttp logs
// while serving every other metric.
func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), sourceTimeout)
	defer cancel()
	var wg sync.WaitGroup
	if c.depths != nil {
		wg.Go(func() { c.collectDepths(ctx, ch) })
	}
	if c.outbox != nil {
		wg.Go(func() { c.collectOutbox(ctx, ch) })
	}
	wg.Wait()
}

func (c *sourceCollector) collectDepths(ctx context.Context, ch chan<- prometheus.Metric) {
	depths, err := c.depths(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.depth, errors.New(c.scrub(err.Error())))
		return
	}
	for topic, n := range depths {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(n), topic)
	}
}

func (c *sourceCollector) collectOutbox(ctx context.Context, ch chan<- prometheus.Metric) {
	count, oldest, err := c.outbox.OutboxBacklog(ctx)
	if err != nil {
		err = errors.New(c.scrub(fmt.Sprintf("outbox backlog: %v", err)))
		ch <- prometheus.NewInvalidMetric(c.backlog, err)
		ch <- prometheus.NewInvalidMetric(c.lag, err)
		return
	}
	lag := 0.0
	if count > 0 && !oldest.IsZero() {
		lag = max(c.now().Sub(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(count))
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, lag)
}

// metricsHandler serves the server's registry. Gathering errors are logged
// and the remaining metrics still served, so one slow source does not blank
// every dashboard.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		ErrorLog:      promLog{s.log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      s.reg,
	})
}

// promLog adapts slog to promhttp's Println logger.
type promLog struct{ log *slog.Logger }

// Println logs a metrics gathering error.
func (p promLog) Println(v ...any) {
	p.log.Warn("metrics: gather", "error", fmt.Sprint(v...))
}
