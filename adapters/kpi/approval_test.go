package kpi_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi"
	"cardflow/flows"
)

// fakeApprovals answers flow analytics with the decision figures of its
// flow ("" for every flow) and records the queries.
type fakeApprovals struct {
	mu      sync.Mutex
	byFlow  map[string]flows.DecisionFigures
	queries []flows.AnalyticsQuery
}

func (f *fakeApprovals) Analytics(_ context.Context, q flows.AnalyticsQuery) (flows.Analytics, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	return flows.Analytics{From: q.From, To: q.To, Decisions: f.byFlow[q.FlowID]}, nil
}

const approvalDefs = `kpis:
  - {name: approval_hours, label: 审批时效, label_en: Approval time, measure: approval_hours}
  - {name: purchase_hours, label: 采购审批时效, measure: approval_hours, flow: purchase}
  - {name: approval_overdue_rate, label: 审批超时率, label_en: Approvals overdue, measure: approval_overdue_rate}
  - {name: purchase_overdue_rate, label: 采购审批超时率, measure: approval_overdue_rate, flow: purchase}
`

func TestApprovalMeasures(t *testing.T) {
	t.Parallel()
	f, err := kpi.Parse("kpis.yaml", []byte(approvalDefs))
	require.NoError(t, err)
	src := &fakeApprovals{byFlow: map[string]flows.DecisionFigures{
		"":         {Decided: 12, Median: 90 * time.Minute, Due: 8, Overdue: 2, OverdueShare: 0.25},
		"purchase": {}, // nothing decided, no SLA: both unknown
	}}
	board := kpi.NewBoard(&memStore{}, f, func() time.Time { return today }).WithApprovals(src)
	from, to := day(0, 0), day(1, 0)
	tests := []struct {
		name string
		kpi  string
		want string
		en   string
	}{
		{name: "median hours to decide", kpi: "approval_hours", want: "1.5 小时", en: "1.5 hours"},
		{name: "overdue share", kpi: "approval_overdue_rate", want: "25.0%", en: "25.0%"},
		{name: "a flow without decisions", kpi: "purchase_hours", want: "—", en: "—"},
		{name: "a flow without an SLA", kpi: "purchase_overdue_rate", want: "—", en: "—"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := board.Value(t.Context(), tc.kpi, from, to, kpi.China)
			require.NoError(t, err)
			d, ok := f.KPI(tc.kpi)
			require.True(t, ok)
			require.Equal(t, tc.want, kpi.Format(v, d.Unit, false))
			require.Equal(t, tc.en, kpi.Format(v, d.Unit, true))
		})
	}
	require.Contains(t, src.queries, flows.AnalyticsQuery{From: from, To: to})
	require.Contains(t, src.queries, flows.AnalyticsQuery{From: from, To: to, FlowID: "purchase"})

	// A day's figures read each window once, for both measures.
	src.queries = nil
	figs, err := board.Figures(t.Context(), []string{"approval_hours", "approval_overdue_rate"}, kpi.Day, today, kpi.China)
	require.NoError(t, err)
	require.Len(t, figs, 2)
	require.Len(t, src.queries, 8, "seven days of series and the same day a week ago")
}

func TestApprovalMeasuresNeedTheEngine(t *testing.T) {
	t.Parallel()
	f, err := kpi.Parse("kpis.yaml", []byte(approvalDefs))
	require.NoError(t, err)
	_, err = kpi.NewBoard(&memStore{}, f, nil).Value(t.Context(), "approval_hours", day(0, 0), day(1, 0), kpi.China)
	require.ErrorContains(t, err, "approval_hours needs the flow engine")
}
