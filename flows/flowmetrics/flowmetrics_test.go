package flowmetrics_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/flows/flowmetrics"
)

// fakeSource answers with figures and counts its calls.
type fakeSource struct {
	mu      sync.Mutex
	figures flows.Analytics
	err     error
	queries []flows.AnalyticsQuery
}

func (f *fakeSource) Analytics(_ context.Context, q flows.AnalyticsQuery) (flows.Analytics, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	return f.figures, f.err
}

func (f *fakeSource) set(a flows.Analytics, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.figures, f.err = a, err
}

func (f *fakeSource) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queries)
}

var t0 = time.Date(2025, 3, 14, 1, 0, 0, 0, time.UTC)

func figures(rejected int64) flows.Analytics {
	return flows.Analytics{Flows: []flows.FlowAnalytics{{
		FlowID:    "purchase",
		Instances: flows.InstanceFigures{Started: 7, Finished: 3, Rejected: rejected, Running: 2, Returns: 4},
		Steps: []flows.StepAnalytics{
			{StepID: "finance", Decisions: flows.DecisionFigures{Decided: 5, Approved: 3, Rejected: 1, Returned: 1,
				Median: 90 * time.Minute, P90: 3 * time.Hour, Due: 8, Overdue: 2, OverdueShare: 0.25, Open: 3}},
			// No decisions and no SLA: no quantiles and no overdue ratio.
			{StepID: "pack", Decisions: flows.DecisionFigures{Open: 1}},
		},
	}}}
}

const want = `
# HELP cardflow_flow_instances Instances started in the analytics window, by what became of them (finished, rejected, withdrawn, cancelled, running).
# TYPE cardflow_flow_instances gauge
cardflow_flow_instances{flow="purchase",outcome="cancelled"} 0
cardflow_flow_instances{flow="purchase",outcome="finished"} 3
cardflow_flow_instances{flow="purchase",outcome="rejected"} %d
cardflow_flow_instances{flow="purchase",outcome="running"} 2
cardflow_flow_instances{flow="purchase",outcome="withdrawn"} 0
# HELP cardflow_flow_returns Return actions (退回) taken in the instances started in the analytics window.
# TYPE cardflow_flow_returns gauge
cardflow_flow_returns{flow="purchase"} 4
# HELP cardflow_flow_step_decision_seconds Time from a task's creation to its decision, over the tasks decided in the analytics window (quantile 0.5 and 0.9).
# TYPE cardflow_flow_step_decision_seconds gauge
cardflow_flow_step_decision_seconds{flow="purchase",quantile="0.5",step="finance"} 5400
cardflow_flow_step_decision_seconds{flow="purchase",quantile="0.9",step="finance"} 10800
# HELP cardflow_flow_step_decisions Tasks decided in the analytics window, by outcome (approved, rejected, returned).
# TYPE cardflow_flow_step_decisions gauge
cardflow_flow_step_decisions{flow="purchase",outcome="approved",step="finance"} 3
cardflow_flow_step_decisions{flow="purchase",outcome="approved",step="pack"} 0
cardflow_flow_step_decisions{flow="purchase",outcome="rejected",step="finance"} 1
cardflow_flow_step_decisions{flow="purchase",outcome="rejected",step="pack"} 0
cardflow_flow_step_decisions{flow="purchase",outcome="returned",step="finance"} 1
cardflow_flow_step_decisions{flow="purchase",outcome="returned",step="pack"} 0
# HELP cardflow_flow_step_open_tasks Tasks open now.
# TYPE cardflow_flow_step_open_tasks gauge
cardflow_flow_step_open_tasks{flow="purchase",step="finance"} 3
cardflow_flow_step_open_tasks{flow="purchase",step="pack"} 1
# HELP cardflow_flow_step_overdue_ratio Share of a step's tasks with an SLA decided after it or open past it (decided in the analytics window, or open now).
# TYPE cardflow_flow_step_overdue_ratio gauge
cardflow_flow_step_overdue_ratio{flow="purchase",step="finance"} 0.25
`

func expect(rejected int) *strings.Reader {
	return strings.NewReader(strings.Replace(want, "%d", string(rune('0'+rejected)), 1))
}

func TestCollectorExportsTheWindowsFigures(t *testing.T) {
	t.Parallel()
	src := &fakeSource{figures: figures(1)}
	c := flowmetrics.New(src, flowmetrics.Options{Window: 24 * time.Hour, Now: func() time.Time { return t0 }})
	require.NoError(t, testutil.CollectAndCompare(c, expect(1)))
	require.Equal(t, []flows.AnalyticsQuery{{From: t0.Add(-24 * time.Hour), To: t0}}, src.queries)
}

func TestCollectorComputesAtMostOncePerMaxAge(t *testing.T) {
	t.Parallel()
	now := t0
	var log bytes.Buffer
	src := &fakeSource{figures: figures(1)}
	c := flowmetrics.New(src, flowmetrics.Options{Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	// Each step moves the clock, scrapes, checks what was served and how
	// often the source was asked, then changes what the source answers.
	steps := []struct {
		name     string
		advance  time.Duration
		calls    int
		rejected int
		then     func()
	}{
		{name: "first scrape computes", calls: 1, rejected: 1, then: func() { src.set(figures(2), nil) }},
		{name: "a scrape within the minute is served from the cache", advance: 59 * time.Second, calls: 1, rejected: 1},
		{name: "a minute later the figures are computed again", advance: time.Second, calls: 2, rejected: 2,
			then: func() { src.set(flows.Analytics{}, errors.New("store down")) }},
		{name: "a failed computation serves the last figures", advance: time.Minute, calls: 3, rejected: 2},
		{name: "and is not retried within the minute", advance: 30 * time.Second, calls: 3, rejected: 2},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		require.NoError(t, testutil.CollectAndCompare(c, expect(st.rejected)), st.name)
		require.Equal(t, st.calls, src.calls(), st.name)
		if st.then != nil {
			st.then()
		}
	}
	require.Contains(t, log.String(), "store down")
}

func TestCollectorWithoutFiguresExportsNothing(t *testing.T) {
	t.Parallel()
	src := &fakeSource{err: errors.New("store down")}
	c := flowmetrics.New(src, flowmetrics.Options{Now: func() time.Time { return t0 }})
	require.Equal(t, 0, testutil.CollectAndCount(c))
}
