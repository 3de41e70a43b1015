package server

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"cardflow/config"
)

type fakeOutbox struct {
	count  int64
	oldest time.Time
	err    error
}

func (f fakeOutbox) OutboxBacklog(context.Context) (int64, time.Time, error) {
	return f.count, f.oldest, f.err
}

// fakeQueue has fixed depths per topic; an unknown topic is an error.
type fakeQueue map[string]int64

func (q fakeQueue) Depth(_ context.Context, topic string) (int64, error) {
	n, ok := q[topic]
	if !ok {
		return 0, errors.New("no such topic " + topic)
	}
	return n, nil
}

func TestSourceGauges(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		deps       Deps
		want       []string
		wantAbsent []string
		wantLog    string
	}{
		{
			name: "queue depth and outbox lag",
			deps: Deps{
				QueueDepth: TopicDepths(fakeQueue{"send": 3, "events": 0}, "send", "events"),
				Outbox:     fakeOutbox{count: 5, oldest: now.Add(-90 * time.Second)},
			},
			want: []string{
				`cardflow_queue_depth{topic="send"} 3`,
				`cardflow_queue_depth{topic="events"} 0`,
				"cardflow_outbox_backlog 5",
				"cardflow_outbox_lag_seconds 90",
			},
		},
		{
			name:       "empty outbox has no lag",
			deps:       Deps{Outbox: fakeOutbox{}},
			want:       []string{"cardflow_outbox_backlog 0", "cardflow_outbox_lag_seconds 0"},
			wantAbsent: []string{"cardflow_queue_depth"},
		},
		{
			name:       "no sources, no gauges",
			wantAbsent: []string{"cardflow_queue_depth", "cardflow_outbox_backlog", "cardflow_outbox_lag_seconds"},
		},
		{
			name: "a failing source is logged and the others still served",
			deps: Deps{
				QueueDepth: TopicDepths(fakeQueue{"send": 1}, "send", "missing"),
				Outbox:     fakeOutbox{count: 2, oldest: now.Add(-time.Second)},
			},
			want:       []string{"cardflow_outbox_backlog 2", "cardflow_outbox_lag_seconds 1"},
			wantAbsent: []string{"cardflow_queue_depth"},
			wantLog:    "queue depth of missing: no such topic missing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.deps.Now = func() time.Time { return now }
			b := setup(t, nil, tt.deps)
			resp, body := do(t, "GET", b.url+"/metrics", nil, nil)
			require.Equal(t, 200, resp.StatusCode)
			for _, w := range tt.want {
				require.Contains(t, body, w)
			}
			for _, w := range tt.wantAbsent {
				require.NotContains(t, body, w)
			}
			if tt.wantLog != "" {
				require.Contains(t, b.logs.String(), tt.wantLog)
			}
		})
	}
}

func TestSourceTimeout(t *testing.T) {
	t.Parallel()
	type seen struct {
		deadline time.Time
		ok       bool
	}
	got := make(chan seen, 1)
	depths := func(ctx context.Context) (map[string]int64, error) {
		d, ok := ctx.Deadline()
		got <- seen{d, ok}
		return map[string]int64{}, nil
	}
	reg := prometheus.NewRegistry()
	New(config.Default(), Deps{Registry: reg, QueueDepth: depths})
	before := time.Now()
	_, err := reg.Gather()
	require.NoError(t, err)
	s := <-got
	require.True(t, s.ok, "a source gets a deadline")
	require.WithinDuration(t, before.Add(sourceTimeout), s.deadline, sourceTimeout/2)
}

// TestSharedRegistry: servers given one registry share its HTTP metrics
// instead of panicking on a duplicate registration.
func TestSharedRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a := New(config.Default(), Deps{Registry: reg})
	b := New(config.Default(), Deps{Registry: reg})
	require.Same(t, reg, a.Registry())
	for _, s := range []*Server{a, b} {
		s.Router().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	}
	require.Equal(t, 1, testutil.CollectAndCount(newHTTPMetrics(reg).requests))
	require.InDelta(t, 2, testutil.ToFloat64(newHTTPMetrics(reg).requests.WithLabelValues("/healthz", "GET", "200")), 0)
	require.NotSame(t, New(config.Default(), Deps{}).Registry(), New(config.Default(), Deps{}).Registry())
}
